"""The virtual clock and the scheduler: advance, advance_to, draining, exactly once / at most once."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from convex_py import api, internal, internal_action, internal_mutation, mutation
from convex_py.errors import RunawaySchedulingError
from emulator import ConvexEmulator

T0 = 1893456000000  # 2030-01-01T00:00:00Z
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def _now_ms():
    return round(time.time() * 1000)


@internal_mutation
def record(ctx, args):
    """Record the label, the wall clock seen inside the function and `datetime.now(timezone.utc)`."""
    ctx.db.insert(
        "log",
        {
            "label": args.get("label", ""),
            "at": _now_ms(),
            "dt": datetime.now(timezone.utc).isoformat(),
        },
    )


@internal_action
def record_action(ctx, args):
    ctx.run_mutation(internal.m.record, {"label": args.get("label", "") + "@action", "seenInAction": _now_ms()})


@internal_mutation
def chain(ctx, args):
    """Record, then schedule itself `step` ms later while `left` > 0."""
    ctx.db.insert("log", {"label": f"chain{args['left']}", "at": _now_ms()})
    if args["left"] > 0:
        ctx.scheduler.run_after(args["step"], internal.m.chain, {"left": args["left"] - 1, "step": args["step"]})


@internal_action
def chain_action(ctx, args):
    ctx.run_mutation(internal.m.record, {"label": "chain_action"})
    ctx.scheduler.run_after(0, internal.m.record, {"label": "from action, same time"})
    ctx.scheduler.run_after(args["step"], internal.m.record, {"label": "from action, later"})


@internal_mutation
def forever(ctx, args):
    ctx.scheduler.run_after(SECOND, internal.m.forever)


@internal_mutation
def increment(ctx, args):
    counter = ctx.db.query("counter").first()
    if counter is None:
        ctx.db.insert("counter", {"n": 1})
    else:
        ctx.db.patch(counter["_id"], {"n": counter["n"] + 1})
    ctx.db.insert("log", {"label": "increment", "at": _now_ms()})


@internal_action
def increment_action(ctx, args):
    ctx.run_mutation(internal.m.increment)


@mutation
def schedule_all(ctx, args):
    """Schedule `record` for each (delayMs, label) pair, in the given order."""
    ids = []
    for delay, label in args["plan"]:
        ids.append(ctx.scheduler.run_after(delay, internal.m.record, {"label": label}))
    return ids


@mutation
def schedule_increment(ctx, args):
    ctx.scheduler.run_after(args.get("delay", 0), internal.m.increment)
    return ctx.db.query("counter").first()


MODULE = {name: value for name, value in dict(globals()).items() if type(value).__name__ == "ConvexFunction"}


@pytest.fixture
def t():
    """An emulator of module "m" with the wall clock held at its virtual time (as the plugin does)."""
    emulator = ConvexEmulator(modules={"m": MODULE}, start_time="2030-01-01T00:00:00Z")
    freezer = freeze_time(emulator.clock.as_datetime())
    frozen = freezer.start()

    def follow(ms):
        frozen.move_to(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))

    emulator.clock.subscribe(follow)
    try:
        yield emulator
    finally:
        emulator.clock.unsubscribe(follow)
        freezer.stop()


def log(t):
    return [(d["label"], d["at"]) for d in t.run(lambda ctx: ctx.db.query("log").collect())]


def counter(t):
    doc = t.run(lambda ctx: ctx.db.query("counter").first())
    return 0 if doc is None else doc["n"]


def after(t, delay, ref, args=None):
    return t.run(lambda ctx: ctx.scheduler.run_after(delay, ref, args))


# --- nothing runs by itself ----------------------------------------------------------------------


def test_nothing_runs_until_time_is_advanced(t):
    job_id = after(t, 0, internal.m.record, {"label": "zero"})
    time.sleep(0.01)  # real time passing changes nothing
    t.query(lambda ctx: None)
    t.mutation(lambda ctx: None)
    assert log(t) == []
    assert t.run(lambda ctx: ctx.db.system.get(job_id))["state"] == {"kind": "pending"}
    assert t.now == T0
    t.advance(0)
    assert log(t) == [("zero", T0)]
    assert t.now == T0


def test_time_does_not_move_inside_a_function(t):
    def fn(ctx):
        first = time.time()
        time.sleep(0.005)
        return first, time.time()

    first, second = t.run(fn)
    assert first == second == T0 / 1000
    assert t.now == T0


# --- order and time of execution -------------------------------------------------------------------


def test_due_jobs_run_in_scheduled_time_then_scheduling_order_each_at_its_own_time(t):
    t.mutation(api.m.schedule_all, {"plan": [[20, "A"], [10, "B"], [10, "C"], [0, "D"]]})
    t.mutation(api.m.schedule_all, {"plan": [[10, "E"], [15, "F"], [0, "G"]]})
    t.run(lambda ctx: ctx.scheduler.run_at(T0 + 10, internal.m.record, {"label": "H"}))
    t.advance(30)
    assert log(t) == [
        ("D", T0), ("G", T0),
        ("B", T0 + 10), ("C", T0 + 10), ("E", T0 + 10), ("H", T0 + 10),
        ("F", T0 + 15),
        ("A", T0 + 20),
    ]
    assert [e["time"] for e in t.timeline()] == [T0, T0, T0 + 10, T0 + 10, T0 + 10, T0 + 10, T0 + 15, T0 + 20]
    assert t.now == T0 + 30


def test_datetime_now_inside_functions_follows_the_virtual_clock(t):
    t.mutation(api.m.schedule_all, {"plan": [[90 * MINUTE, "later"]]})
    after(t, 2 * DAY, internal.m.record_action, {"label": "act"})
    t.advance(days=3)
    docs = t.run(lambda ctx: ctx.db.query("log").collect())
    assert [(d["label"], d["at"], d["dt"]) for d in docs] == [
        ("later", T0 + 90 * MINUTE, "2030-01-01T01:30:00+00:00"),
        ("act@action", T0 + 2 * DAY, "2030-01-03T00:00:00+00:00"),
    ]


def test_jobs_scheduled_by_jobs_inside_the_window_also_run(t):
    after(t, 0, internal.m.chain, {"left": 5, "step": 10})
    t.advance(25)
    assert log(t) == [("chain5", T0), ("chain4", T0 + 10), ("chain3", T0 + 20)]
    [pending] = t.scheduled_functions("pending")
    assert (pending["scheduledTime"], pending["args"]) == (T0 + 30, [{"left": 2, "step": 10}])
    assert t.now == T0 + 25
    t.advance(5)
    assert log(t)[-1] == ("chain2", T0 + 30)


def test_jobs_scheduled_by_a_scheduled_action_run_in_the_same_window(t):
    after(t, 100, internal.m.chain_action, {"step": 50})
    t.advance(150)
    assert log(t) == [
        ("chain_action", T0 + 100),
        ("from action, same time", T0 + 100),
        ("from action, later", T0 + 150),
    ]


def test_a_job_scheduled_at_zero_by_a_job_runs_after_jobs_already_due_at_that_time(t):
    after(t, 10, internal.m.chain, {"left": 1, "step": 0})
    after(t, 10, internal.m.record, {"label": "second"})
    t.advance(10)
    assert log(t) == [("chain1", T0 + 10), ("second", T0 + 10), ("chain0", T0 + 10)]


# --- advance and advance_to -----------------------------------------------------------------------------


def test_advance_units_add_up(t):
    t.advance(days=1, hours=2, minutes=3, seconds=4)
    assert t.now == T0 + DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND
    t.advance(5)
    assert t.now == T0 + DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND + 5
    t.advance(timedelta(hours=1, milliseconds=7))
    assert t.now == T0 + DAY + 3 * HOUR + 3 * MINUTE + 4 * SECOND + 12
    t.advance(seconds=0.5)
    assert t.now == T0 + DAY + 3 * HOUR + 3 * MINUTE + 4 * SECOND + 512


def test_advance_runs_a_job_due_exactly_at_the_end_of_the_window(t):
    after(t, 7 * DAY, internal.m.record, {"label": "week"})
    t.advance(days=7)
    assert log(t) == [("week", T0 + 7 * DAY)]


def test_advance_to_datetime_and_ms(t):
    t.mutation(api.m.schedule_all, {"plan": [[DAY, "d1"], [2 * DAY, "d2"]]})
    t.advance_to(datetime(2030, 1, 2, tzinfo=timezone.utc))
    assert t.now == T0 + DAY
    assert log(t) == [("d1", T0 + DAY)]
    t.advance_to(T0 + 2 * DAY + 1)
    assert t.now == T0 + 2 * DAY + 1
    assert log(t)[-1] == ("d2", T0 + 2 * DAY)
    t.advance_to(datetime(2030, 1, 3, 2, 0, tzinfo=timezone(timedelta(hours=1))))  # another zone
    assert t.now == T0 + 2 * DAY + HOUR
    assert _now_ms() == t.now


def test_time_never_moves_backwards(t):
    t.advance(hours=1)
    with pytest.raises(ValueError):
        t.advance(-1)
    with pytest.raises(ValueError):
        t.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        t.advance_to(T0)
    with pytest.raises(ValueError):
        t.advance_to(datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert t.now == T0 + HOUR


def test_the_wall_clock_follows_advance(t):
    t.advance(hours=5)
    assert _now_ms() == T0 + 5 * HOUR == t.now
    assert datetime.now(timezone.utc) == datetime(2030, 1, 1, 5, tzinfo=timezone.utc)


# --- draining -----------------------------------------------------------------------------------------


def test_finish_all_drains_and_stops_at_the_last_jobs_time(t):
    t.mutation(api.m.schedule_all, {"plan": [[HOUR, "h1"], [3 * HOUR, "h3"]]})
    after(t, 2 * HOUR, internal.m.chain, {"left": 2, "step": 2 * HOUR})  # 2h, 4h, 6h
    assert t.finish_all_scheduled_functions() == 5
    assert t.now == T0 + 6 * HOUR
    assert log(t) == [
        ("h1", T0 + HOUR), ("chain2", T0 + 2 * HOUR), ("h3", T0 + 3 * HOUR),
        ("chain1", T0 + 4 * HOUR), ("chain0", T0 + 6 * HOUR),
    ]
    assert t.scheduled_functions("pending") == []
    assert t.finish_all_scheduled_functions() == 0
    assert t.now == T0 + 6 * HOUR


def test_finish_all_with_nothing_scheduled_keeps_the_clock(t):
    assert t.finish_all_scheduled_functions() == 0
    assert t.now == T0


def test_finish_all_ignores_canceled_jobs(t):
    after(t, HOUR, internal.m.record, {"label": "h1"})
    late = after(t, 10 * DAY, internal.m.record, {"label": "never"})
    t.run(lambda ctx: ctx.scheduler.cancel(late))
    assert t.finish_all_scheduled_functions() == 1
    assert log(t) == [("h1", T0 + HOUR)]
    assert t.now == T0 + HOUR  # the canceled job's time is not a due time


def test_finish_all_with_only_a_canceled_job_does_nothing(t):
    late = after(t, 10 * DAY, internal.m.record, {"label": "never"})
    t.run(lambda ctx: ctx.scheduler.cancel(late))
    assert t.finish_all_scheduled_functions() == 0
    assert t.now == T0


def test_finish_all_raises_on_a_function_rescheduling_itself_forever(t):
    after(t, 0, internal.m.forever)
    with pytest.raises(RunawaySchedulingError):
        t.finish_all_scheduled_functions(max_iterations=10)
    assert len(t.scheduled_functions("pending")) == 1
    assert 10 <= len(t.scheduled_functions("success")) <= 11
    with pytest.raises(RunawaySchedulingError):
        t.finish_all_scheduled_functions()


def test_finish_all_allows_long_finite_chains_under_max_iterations(t):
    after(t, 0, internal.m.chain, {"left": 150, "step": 1})
    with pytest.raises(RunawaySchedulingError):
        t.finish_all_scheduled_functions()
    t.finish_all_scheduled_functions(max_iterations=1000)
    assert log(t)[-1] == ("chain0", T0 + 150)
    assert t.now == T0 + 150


def test_finish_in_progress_with_nothing_running(t):
    after(t, 0, internal.m.record_action)
    t.advance(0)
    assert t.finish_in_progress_scheduled_functions() == 0
    assert [j["state"]["kind"] for j in t.scheduled_functions()] == ["success"]


# --- exactly once, at most once -------------------------------------------------------------------------


def test_scheduled_mutation_runs_exactly_once_despite_transient_commit_failures(t):
    job_id = t.mutation(api.m.schedule_increment, {})
    assert job_id is None  # (the counter does not exist yet)
    t.fail_next_commits(2)
    t.advance(0)
    assert counter(t) == 1
    assert log(t) == [("increment", T0)]
    [job] = t.scheduled_functions()
    assert (job["state"], job["completedTime"]) == ({"kind": "success"}, T0)
    assert [(e["function"], e["outcome"]) for e in t.timeline()] == [("m:increment", "success")]
    t.advance(days=1)
    assert counter(t) == 1


def test_a_retried_scheduled_mutation_schedules_its_follow_up_once(t):
    after(t, 0, internal.m.chain, {"left": 2, "step": 0})
    t.fail_next_commits(3)
    t.advance(0)
    assert log(t) == [("chain2", T0), ("chain1", T0), ("chain0", T0)]
    assert [j["state"]["kind"] for j in t.scheduled_functions()] == ["success"] * 3


def test_client_mutation_is_retried_on_transient_commit_failures(t):
    t.fail_next_commits(3)
    t.run(lambda ctx: ctx.db.insert("counter", {"n": 41}))
    assert counter(t) == 41
    t.fail_next_commits(1)
    t.mutation(api.m.schedule_increment, {"delay": 5})
    assert len(t.scheduled_functions()) == 1  # scheduled once, not once per attempt
    t.advance(5)
    assert counter(t) == 42


def test_scheduled_action_runs_at_most_once(t):
    interrupted = after(t, 0, internal.m.increment_action)
    later = after(t, 10, internal.m.increment_action)
    t.interrupt_next_actions(1)
    t.advance(0)
    doc = t.run(lambda ctx: ctx.db.system.get(interrupted))
    assert doc["state"] == {"kind": "failed", "error": "Transient error while executing action"}
    assert doc["completedTime"] == T0
    assert counter(t) <= 1
    before = counter(t)
    t.advance(days=1)
    t.finish_all_scheduled_functions()
    # Not retried: the next action runs normally and only once.
    assert counter(t) == before + 1
    assert t.run(lambda ctx: ctx.db.system.get(interrupted))["state"]["kind"] == "failed"
    assert t.run(lambda ctx: ctx.db.system.get(later))["state"] == {"kind": "success"}
    assert len(t.scheduled_functions()) == 2
    assert [(e["function"], e["outcome"]) for e in t.timeline()] == [
        ("m:increment_action", "failed"), ("m:increment_action", "success")]
    assert t.timeline()[0]["error"] == "Transient error while executing action"


def test_interruptions_apply_to_scheduled_actions_only(t):
    t.interrupt_next_actions(1)
    t.action(lambda ctx: ctx.run_mutation(internal.m.increment))  # a client's action is not interrupted
    assert counter(t) == 1
    job_id = after(t, 0, internal.m.increment_action)
    t.advance(0)
    assert t.run(lambda ctx: ctx.db.system.get(job_id))["state"]["kind"] == "failed"
    assert counter(t) == 1
