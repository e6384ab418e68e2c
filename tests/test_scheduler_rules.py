"""ctx.scheduler: every rule of SEMANTICS.md "Scheduler" (validation, limits, job documents, states, cancel)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from convex_py import ConvexError, v, action, api, internal, internal_action, internal_mutation, internal_query, mutation, query
from convex_py.errors import ConvexPyError, LimitExceededError, SchedulerError
from emulator import ConvexEmulator, Limits

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
DAY = 24 * 3600 * 1000
FIVE_YEARS = 5 * 366 * DAY
MiB = 1 << 20


# --- a small app: module "m" ----------------------------------------------------------------------


@internal_mutation
def work(ctx, args):
    ctx.db.insert("log", {"fn": "work", "args": args})


@internal_action
def act(ctx, args):
    ctx.run_mutation(internal.m.work, {"from": "act"})


@internal_query
def q(ctx, args):
    return 1


@internal_mutation
def boom(ctx, args):
    ctx.db.insert("log", {"fn": "boom"})
    raise RuntimeError("kaboom")


@internal_action
def boom_action(ctx, args):
    raise ValueError("action went wrong")


@mutation
def schedule_one(ctx, args):
    """Schedule `ref` (default m:work) after `delay` (default 0); remember the job id in `meta`."""
    job_id = ctx.scheduler.run_after(args.get("delay", 0), args.get("ref", "m:work"), args.get("args", {}))
    ctx.db.insert("meta", {"jobId": job_id})
    return job_id


@internal_query
def my_job(ctx, args):
    """The job whose id the last `schedule_one` remembered, as stored now."""
    meta = ctx.db.query("meta").order("desc").first()
    return ctx.db.system.get(meta["jobId"])


@internal_mutation
def observe_self_mutation(ctx, args):
    job = ctx.db.system.get(ctx.db.query("meta").order("desc").first()["jobId"])
    ctx.db.insert("log", {"fn": "observe_self_mutation", "state": job["state"]["kind"]})


@internal_action
def observe_self_action(ctx, args):
    job = ctx.run_query(internal.m.my_job, {})
    ctx.run_mutation(internal.m.work, {"seen": job["state"]["kind"]})


@internal_action
async def observe_self_action_async(ctx, args):
    job = await ctx.run_query(internal.m.my_job, {})
    await ctx.run_mutation(internal.m.work, {"seen": job["state"]["kind"]})


@internal_action
def self_cancel(ctx, args):
    """Cancel its own job while running, then go on: schedule more and write."""
    me = ctx.run_query(internal.m.my_job, {})
    ctx.scheduler.cancel(me["_id"])
    later = ctx.scheduler.run_after(1000, internal.m.work, {"from": "after-cancel"})
    ctx.run_mutation(internal.m.work, {"still": "running", "later": later})


@internal_mutation
def whoami(ctx, args):
    identity = ctx.auth.get_user_identity()
    ctx.db.insert("log", {"fn": "whoami", "identity": identity})


@internal_action
def whoami_action(ctx, args):
    identity = ctx.auth.get_user_identity()
    ctx.run_mutation(internal.m.work, {"actionIdentity": identity})


@mutation
def schedule_as_user(ctx, args):
    identity = ctx.auth.get_user_identity()
    ctx.db.insert("log", {"fn": "schedule_as_user", "identity": identity})
    ctx.scheduler.run_after(0, internal.m.whoami)
    ctx.scheduler.run_after(0, internal.m.whoami_action)


@action
def schedule_as_user_from_action(ctx, args):
    assert ctx.auth.get_user_identity() is not None
    ctx.scheduler.run_after(0, internal.m.whoami)


@action
def schedule_then_fail(ctx, args):
    ctx.scheduler.run_after(0, internal.m.work, {"from": "failed action"})
    raise ConvexError("action failed after scheduling")


@action
def schedule_many_from_action(ctx, args):
    for i in range(args["n"]):
        ctx.scheduler.run_after(0, internal.m.work, {"i": i})


@internal_mutation
def nested_schedules_then_fails(ctx, args):
    ctx.db.insert("log", {"fn": "nested"})
    ctx.scheduler.run_after(DAY, internal.m.work, {"from": "nested"})
    raise ConvexError("nested fails")


@mutation
def outer_catches_nested(ctx, args):
    try:
        ctx.run_mutation(internal.m.nested_schedules_then_fails)
    except ConvexError:
        pass
    ctx.scheduler.run_after(5, internal.m.work, {"from": "outer"})


@query
def try_schedule_from_query(ctx, args):
    return ctx.scheduler.run_after(0, internal.m.work)


@internal_mutation(args={"n": v.number()})
def typed(ctx, args):
    ctx.db.insert("log", {"fn": "typed", "n": args["n"]})


MODULE = {
    name: value
    for name, value in dict(globals()).items()
    if type(value).__name__ == "ConvexFunction"
}


def make(**kwargs):
    return ConvexEmulator(modules={"m": MODULE}, start_time="2030-01-01T00:00:00Z", **kwargs)


@pytest.fixture
def t():
    return make()


def log(t, fn=None):
    docs = t.run(lambda ctx: ctx.db.query("log").collect())
    return [d for d in docs if fn is None or d.get("fn") == fn]


def schedule(t, fn):
    """Run `fn(ctx.scheduler)` in an inline mutation; return its result."""
    return t.run(lambda ctx: fn(ctx.scheduler))


def job(t, job_id):
    return t.run(lambda ctx: ctx.db.system.get(job_id))


# --- run_after: the delay -------------------------------------------------------------------------


@pytest.mark.parametrize("delay", ["10", None, True, [1], {"ms": 1}])
def test_run_after_delay_must_be_a_number(t, delay):
    with pytest.raises(SchedulerError) as info:
        schedule(t, lambda s: s.run_after(delay, internal.m.work))
    assert str(info.value) == "`delayMs` must be a number"


@pytest.mark.parametrize("delay", [float("inf"), float("-inf"), float("nan")])
def test_run_after_delay_must_be_finite(t, delay):
    with pytest.raises(SchedulerError) as info:
        schedule(t, lambda s: s.run_after(delay, internal.m.work))
    assert str(info.value) == "`delayMs` must be a finite number"


@pytest.mark.parametrize("delay", [-1, -0.5, -DAY])
def test_run_after_delay_must_be_non_negative(t, delay):
    with pytest.raises(SchedulerError) as info:
        schedule(t, lambda s: s.run_after(delay, internal.m.work))
    assert str(info.value) == "`delayMs` must be non-negative"
    assert t.scheduled_functions() == []


@pytest.mark.parametrize("delay", [0, 1, 2.5, 1500])
def test_run_after_accepts_int_and_float(t, delay):
    job_id = schedule(t, lambda s: s.run_after(delay, internal.m.work))
    assert job(t, job_id)["scheduledTime"] == T0 + delay


def test_camel_case_aliases(t):
    a = schedule(t, lambda s: s.runAfter(5, internal.m.work))
    b = schedule(t, lambda s: s.runAt(T0 + 6, internal.m.work))
    assert [job(t, a)["scheduledTime"], job(t, b)["scheduledTime"]] == [T0 + 5, T0 + 6]


# --- run_at: the time -----------------------------------------------------------------------------


def test_run_at_with_ms_and_aware_datetime(t):
    by_ms = schedule(t, lambda s: s.run_at(T0 + 60_000, internal.m.work))
    by_float = schedule(t, lambda s: s.run_at(T0 + 60_000.5, internal.m.work))
    by_dt = schedule(t, lambda s: s.run_at(datetime(2030, 1, 1, 0, 1, tzinfo=timezone.utc), internal.m.work))
    other_tz = timezone(timedelta(hours=2))
    by_dt_tz = schedule(t, lambda s: s.run_at(datetime(2030, 1, 1, 2, 2, tzinfo=other_tz), internal.m.work))
    assert [job(t, i)["scheduledTime"] for i in (by_ms, by_float, by_dt, by_dt_tz)] == [
        T0 + 60_000, T0 + 60_000.5, T0 + 60_000, T0 + 120_000]


@pytest.mark.parametrize(
    "when", ["2030-01-01T00:00:00Z", None, True, [T0], float("nan"), float("inf"), datetime(2030, 1, 1)]
)
def test_run_at_anything_else_is_refused(t, when):
    with pytest.raises(SchedulerError) as info:
        schedule(t, lambda s: s.run_at(when, internal.m.work))
    assert str(info.value).startswith("The invoke time must be a Date or a timestamp")
    assert t.scheduled_functions() == []


def test_run_at_in_the_past_runs_at_the_next_advance_and_keeps_its_time(t):
    t.advance(days=1)
    asked = T0 + DAY - 60_000
    job_id = schedule(t, lambda s: s.run_at(asked, internal.m.work, {"late": True}))
    assert job(t, job_id)["state"] == {"kind": "pending"}
    assert log(t) == []
    t.advance(0)
    doc = job(t, job_id)
    assert doc["state"] == {"kind": "success"}
    assert doc["scheduledTime"] == asked
    assert doc["completedTime"] == T0 + DAY
    assert [(e["time"], e["function"]) for e in t.timeline()] == [(T0 + DAY, "m:work")]
    assert t.now == T0 + DAY


def test_five_year_bound_in_the_future(t):
    schedule(t, lambda s: s.run_at(T0 + FIVE_YEARS, internal.m.work))
    schedule(t, lambda s: s.run_after(FIVE_YEARS, internal.m.work))
    for fn in (
        lambda s: s.run_at(T0 + FIVE_YEARS + 1, internal.m.work),
        lambda s: s.run_after(FIVE_YEARS + 1, internal.m.work),
        lambda s: s.run_at(datetime(2040, 1, 1, tzinfo=timezone.utc), internal.m.work),
    ):
        with pytest.raises(SchedulerError) as info:
            schedule(t, fn)
        assert str(info.value).endswith("is more than 5 years in the future")
    assert len(t.scheduled_functions()) == 2


def test_five_year_bound_in_the_past(t):
    schedule(t, lambda s: s.run_at(T0 - FIVE_YEARS, internal.m.work))
    for when in (T0 - FIVE_YEARS - 1, 0, datetime(2020, 1, 1, tzinfo=timezone.utc)):
        with pytest.raises(SchedulerError) as info:
            schedule(t, lambda s: s.run_at(when, internal.m.work))
        assert str(info.value).endswith("is more than 5 years in the past")
    assert len(t.scheduled_functions()) == 1


# --- limits per execution ----------------------------------------------------------------------------


def _insert_then_schedule(n, size=0):
    def fn(ctx):
        ctx.db.insert("log", {"fn": "before"})
        for i in range(n):
            ctx.scheduler.run_after(0, internal.m.work, {"i": i, "pad": "x" * size})

    return fn


def test_at_most_1000_functions_scheduled_per_mutation(t):
    t.run(_insert_then_schedule(1000))
    assert len(t.scheduled_functions()) == 1000
    with pytest.raises(LimitExceededError) as info:
        t.run(_insert_then_schedule(1001))
    assert str(info.value) == "Too many functions scheduled by this mutation (limit: 1000)"
    # The mutation's writes and its first 1000 jobs rolled back with it.
    assert len(log(t, "before")) == 1
    assert len(t.scheduled_functions()) == 1000


def test_at_most_8_mib_of_scheduled_arguments_per_mutation(t):
    t.run(_insert_then_schedule(15, 512 * 1024))
    assert len(t.scheduled_functions()) == 15
    with pytest.raises(LimitExceededError) as info:
        t.run(_insert_then_schedule(17, 512 * 1024))
    assert str(info.value) == (
        "Too large total size of the arguments of scheduled functions from this mutation (limit: 8388608 bytes)"
    )
    assert len(log(t, "before")) == 1
    assert len(t.scheduled_functions()) == 15


def test_limits_are_counted_per_execution(t):
    t.run(_insert_then_schedule(600))
    t.run(_insert_then_schedule(600))
    assert len(t.scheduled_functions()) == 1200


def test_scheduling_limits_are_settings():
    t = make(limits=Limits(max_functions_scheduled=3, max_scheduled_args_bytes=1000))
    t.run(_insert_then_schedule(3))
    with pytest.raises(LimitExceededError) as info:
        t.run(_insert_then_schedule(4))
    assert str(info.value) == "Too many functions scheduled by this mutation (limit: 3)"
    with pytest.raises(LimitExceededError) as info:
        t.run(_insert_then_schedule(1, 2000))
    assert str(info.value) == (
        "Too large total size of the arguments of scheduled functions from this mutation (limit: 1000 bytes)"
    )
    assert len(t.scheduled_functions()) == 3
    assert len(log(t, "before")) == 1


def test_limit_applies_to_actions_too():
    t = make(limits=Limits(max_functions_scheduled=5))
    with pytest.raises(LimitExceededError, match=r"Too many functions scheduled by this .*\(limit: 5\)"):
        t.action(api.m.schedule_many_from_action, {"n": 6})
    # An action is no transaction: what it scheduled before the error stays.
    assert len(t.scheduled_functions()) == 5


# --- what can be scheduled, with what ------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref, path",
    [("m:nope", "m:nope"), ("nomodule:fn", "nomodule:fn"), (internal.m.nope, "m:nope"), (api.other.thing, "other:thing")],
)
def test_unknown_function_is_refused_at_scheduling_time(t, ref, path):
    with pytest.raises(SchedulerError) as info:
        t.run(_schedule_ref_after_insert(ref))
    assert str(info.value) == f"Attempted to schedule function at nonexistent path: {path}"
    assert log(t) == [] and t.scheduled_functions() == []


def _schedule_ref_after_insert(ref):
    def fn(ctx):
        ctx.db.insert("log", {"fn": "before"})
        ctx.scheduler.run_after(0, ref)

    return fn


def test_unknown_function_from_an_action_is_refused_too(t):
    with pytest.raises(SchedulerError, match="Attempted to schedule function at nonexistent path: m:nope"):
        t.action(lambda ctx: ctx.scheduler.run_after(0, "m:nope"))


@pytest.mark.parametrize("ref", [internal.m.work, "m:work", work])
def test_any_reference_form_can_be_scheduled(t, ref):
    job_id = schedule(t, lambda s: s.run_after(0, ref, {"k": 1}))
    assert job(t, job_id)["name"] == "m:work"
    t.advance(0)
    assert [d["args"] for d in log(t)] == [{"k": 1}]


def test_a_scheduled_query_ends_failed(t):
    job_id = schedule(t, lambda s: s.run_after(0, internal.m.q))
    assert job(t, job_id)["state"] == {"kind": "pending"}
    t.advance(0)
    doc = job(t, job_id)
    assert doc["state"]["kind"] == "failed"
    assert isinstance(doc["state"]["error"], str) and doc["state"]["error"]
    assert doc["completedTime"] == T0
    assert [(e["function"], e["outcome"]) for e in t.timeline()] == [("m:q", "failed")]


def test_a_query_has_no_scheduler(t):
    with pytest.raises(AttributeError):
        t.query(api.m.try_schedule_from_query)


@pytest.mark.parametrize("bad", [[1, 2], "x", 3, ({"a": 1},)])
def test_arguments_must_be_an_object(t, bad):
    with pytest.raises(SchedulerError):
        schedule(t, lambda s: s.run_after(0, internal.m.work, bad))
    assert t.scheduled_functions() == []


def test_absent_arguments_mean_an_empty_object(t):
    job_id = schedule(t, lambda s: s.run_after(0, internal.m.work))
    assert job(t, job_id)["args"] == [{}]
    t.advance(0)
    assert [d["args"] for d in log(t)] == [{}]


def test_jobs_scheduled_after_the_retention_removed_every_earlier_one(t):
    for _ in range(3):
        schedule(t, lambda s: s.run_after(0, internal.m.work, {}))
    t.advance(days=8)  # they ran at once; 7 days later their rows were removed
    assert t.run(lambda ctx: ctx.db.system.query("_scheduled_functions").collect()) == []
    job_id = schedule(t, lambda s: s.run_after(0, internal.m.work, {}))
    rows = t.run(lambda ctx: ctx.db.system.query("_scheduled_functions").collect())
    assert [(row["_id"], row["state"]) for row in rows] == [(job_id, {"kind": "pending"})]
    t.advance(seconds=1)
    assert job(t, job_id)["state"] == {"kind": "success"}
    assert len(log(t, "work")) == 4


def test_arguments_are_copied_at_scheduling_time(t):
    args = {"items": [1, 2]}

    def fn(ctx):
        ctx.scheduler.run_after(0, internal.m.work, args)
        args["items"].append(3)

    t.run(fn)
    t.advance(0)
    assert [d["args"] for d in log(t)] == [{"items": [1, 2]}]


def test_arguments_are_validated_when_the_job_runs(t):
    job_id = schedule(t, lambda s: s.run_after(0, internal.m.typed, {"n": "not a number"}))
    assert job(t, job_id)["state"] == {"kind": "pending"}
    t.advance(0)
    doc = job(t, job_id)
    assert doc["state"]["kind"] == "failed"
    assert "ArgumentValidationError" in doc["state"]["error"]
    assert log(t) == []


# --- the job documents -------------------------------------------------------------------------------


def test_job_document_fields(t):
    job_id = schedule(t, lambda s: s.run_after(1000, internal.m.work, {"a": 1}))
    assert job_id.table == "_scheduled_functions"
    doc = job(t, job_id)
    assert set(doc) == {"_id", "_creationTime", "name", "args", "scheduledTime", "state"}
    assert (doc["_id"], doc["name"], doc["args"], doc["scheduledTime"], doc["state"]) == (
        job_id, "m:work", [{"a": 1}], T0 + 1000, {"kind": "pending"})
    listed = t.run(lambda ctx: ctx.db.system.query("_scheduled_functions").collect())
    assert listed == [doc] == t.scheduled_functions()
    t.advance(1000)
    doc = job(t, job_id)
    assert set(doc) == {"_id", "_creationTime", "name", "args", "scheduledTime", "state", "completedTime"}
    assert (doc["state"], doc["completedTime"]) == ({"kind": "success"}, T0 + 1000)


def test_the_five_states_and_completed_time(t):
    pending = t.mutation(api.m.schedule_one, {"delay": DAY})
    success = t.mutation(api.m.schedule_one, {"delay": 10})
    failed = t.mutation(api.m.schedule_one, {"delay": 20, "ref": "m:boom"})
    canceled = t.mutation(api.m.schedule_one, {"delay": 30})
    t.run(lambda ctx: ctx.scheduler.cancel(canceled))
    t.mutation(api.m.schedule_one, {"delay": 40, "ref": "m:observe_self_action"})
    t.advance(100)
    states = {j["_id"]: j for j in t.scheduled_functions()}
    assert states[pending]["state"] == {"kind": "pending"} and "completedTime" not in states[pending]
    assert (states[success]["state"], states[success]["completedTime"]) == ({"kind": "success"}, T0 + 10)
    assert states[failed]["state"]["kind"] == "failed" and states[failed]["completedTime"] == T0 + 20
    assert (states[canceled]["state"], states[canceled]["completedTime"]) == ({"kind": "canceled"}, T0)
    assert [d["args"]["seen"] for d in log(t) if "seen" in d["args"]] == ["inProgress"]
    kinds = {j["state"]["kind"] for j in t.scheduled_functions("success")}
    assert kinds == {"success"}
    assert len(t.scheduled_functions("pending")) == 1
    assert len(t.scheduled_functions("canceled")) == 1


def test_failed_job_carries_the_error_text_and_its_writes_roll_back(t):
    mutation_job = schedule(t, lambda s: s.run_after(0, internal.m.boom))
    action_job = schedule(t, lambda s: s.run_after(0, internal.m.boom_action))
    t.advance(0)
    m, a = job(t, mutation_job), job(t, action_job)
    assert m["state"]["kind"] == "failed" and "kaboom" in m["state"]["error"]
    assert a["state"]["kind"] == "failed" and "action went wrong" in a["state"]["error"]
    assert m["completedTime"] == a["completedTime"] == T0
    assert log(t, "boom") == []
    assert [(e["function"], e["outcome"]) for e in t.timeline()] == [("m:boom", "failed"), ("m:boom_action", "failed")]
    assert "kaboom" in t.timeline()[0]["error"]


def test_scheduling_from_a_failing_mutation_leaves_nothing(t):
    def fn(ctx):
        ctx.db.insert("log", {"fn": "before"})
        ctx.scheduler.run_after(0, internal.m.work)
        ctx.scheduler.run_at(T0 + DAY, internal.m.act)
        raise ConvexError("changed my mind")

    with pytest.raises(ConvexError):
        t.run(fn)
    assert t.scheduled_functions() == []
    t.advance(days=2)
    assert t.timeline() == [] and log(t) == []


def test_scheduling_from_a_failed_nested_mutation_is_rolled_back_with_it(t):
    t.mutation(api.m.outer_catches_nested)
    assert [(j["name"], j["scheduledTime"]) for j in t.scheduled_functions()] == [("m:work", T0 + 5)]
    assert t.finish_all_scheduled_functions() == 1
    assert t.now == T0 + 5
    assert [d["args"] for d in log(t)] == [{"from": "outer"}]


def test_scheduling_from_a_failing_action_survives(t):
    with pytest.raises(ConvexError, match="action failed after scheduling"):
        t.action(api.m.schedule_then_fail)
    [doc] = t.scheduled_functions()
    assert (doc["name"], doc["state"]) == ("m:work", {"kind": "pending"})
    t.advance(0)
    assert [d["args"] for d in log(t)] == [{"from": "failed action"}]


def test_a_scheduled_mutation_is_never_in_progress(t):
    job_id = t.mutation(api.m.schedule_one, {"ref": "m:observe_self_mutation"})
    t.advance(0)
    # Inside its own execution the job still reads "pending"; the state change commits with its writes.
    assert [d["state"] for d in log(t, "observe_self_mutation")] == ["pending"]
    assert job(t, job_id)["state"] == {"kind": "success"}


@pytest.mark.parametrize("ref", ["m:observe_self_action", "m:observe_self_action_async"])
def test_a_scheduled_action_is_in_progress_while_it_runs(t, ref):
    job_id = t.mutation(api.m.schedule_one, {"ref": ref})
    assert job(t, job_id)["state"] == {"kind": "pending"}
    t.advance(0)
    assert [d["args"]["seen"] for d in log(t)] == ["inProgress"]
    assert job(t, job_id)["state"] == {"kind": "success"}


def test_auth_does_not_propagate_to_scheduled_functions(t):
    t.with_identity({"subject": "user-1", "name": "Ada"}).mutation(api.m.schedule_as_user)
    t.with_identity({"subject": "user-2"}).action(api.m.schedule_as_user_from_action)
    t.advance(0)
    [caller] = log(t, "schedule_as_user")
    assert caller["identity"]["subject"] == "user-1"
    assert [d["identity"] for d in log(t, "whoami")] == [None, None]
    assert [d["args"] for d in log(t, "work")] == [{"actionIdentity": None}]
    assert {j["state"]["kind"] for j in t.scheduled_functions()} == {"success"}


# --- cancel -------------------------------------------------------------------------------------------


def test_cancel_a_pending_job(t):
    job_id = schedule(t, lambda s: s.run_after(1000, internal.m.work))
    t.advance(500)
    assert t.run(lambda ctx: ctx.scheduler.cancel(job_id)) is None
    doc = job(t, job_id)
    assert (doc["state"], doc["completedTime"]) == ({"kind": "canceled"}, T0 + 500)
    t.advance(days=1)
    assert log(t) == [] and t.timeline() == []


def test_cancel_inside_a_failing_mutation_is_rolled_back(t):
    job_id = schedule(t, lambda s: s.run_after(1000, internal.m.work))

    def fn(ctx):
        ctx.scheduler.cancel(job_id)
        raise ConvexError("no")

    with pytest.raises(ConvexError):
        t.run(fn)
    assert job(t, job_id)["state"] == {"kind": "pending"}
    t.advance(1000)
    assert job(t, job_id)["state"] == {"kind": "success"}


def test_cancel_a_pending_job_from_an_action(t):
    job_id = schedule(t, lambda s: s.run_after(1000, internal.m.work))
    t.action(lambda ctx: ctx.scheduler.cancel(job_id))
    assert job(t, job_id)["state"] == {"kind": "canceled"}
    t.advance(2000)
    assert log(t) == []


def test_cancel_a_running_action_lets_it_finish_and_cancels_what_it_schedules_next(t):
    job_id = t.mutation(api.m.schedule_one, {"ref": "m:self_cancel"})
    t.advance(0)
    [after] = [d["args"] for d in log(t)]
    assert after["still"] == "running"  # it kept running after the cancel
    doc = job(t, job_id)
    assert (doc["state"], doc["completedTime"]) == ({"kind": "canceled"}, T0)
    later = job(t, after["later"])
    assert (later["state"], later["scheduledTime"], later["completedTime"]) == ({"kind": "canceled"}, T0 + 1000, T0)
    t.advance(days=1)
    assert len(log(t)) == 1  # the follow-up never ran
    t.advance_to(T0 + 7 * DAY - 1)
    assert job(t, after["later"]) is not None and job(t, job_id) is not None
    t.advance(1)
    assert job(t, after["later"]) is None and job(t, job_id) is None


def test_cancel_a_completed_action_raises(t):
    ok = schedule(t, lambda s: s.run_after(0, internal.m.act))
    failed = schedule(t, lambda s: s.run_after(0, internal.m.boom_action))
    t.advance(0)
    for job_id, kind in ((ok, "success"), (failed, "failed")):
        with pytest.raises(ConvexPyError):
            t.run(lambda ctx: ctx.scheduler.cancel(job_id))
        assert job(t, job_id)["state"]["kind"] == kind
        assert job(t, job_id)["completedTime"] == T0


def test_cancel_a_committed_mutation_changes_nothing(t):
    ok = schedule(t, lambda s: s.run_after(0, internal.m.work))
    failed = schedule(t, lambda s: s.run_after(0, internal.m.boom))
    t.advance(10)
    before = [job(t, ok), job(t, failed)]
    t.run(lambda ctx: ctx.scheduler.cancel(ok))
    t.run(lambda ctx: ctx.scheduler.cancel(failed))
    assert [job(t, ok), job(t, failed)] == before
    assert before[0]["state"] == {"kind": "success"} and before[1]["state"]["kind"] == "failed"


def test_cancel_a_canceled_job_changes_nothing(t):
    job_id = schedule(t, lambda s: s.run_after(1000, internal.m.work))
    t.run(lambda ctx: ctx.scheduler.cancel(job_id))
    t.advance(10)
    t.run(lambda ctx: ctx.scheduler.cancel(job_id))
    assert (job(t, job_id)["state"], job(t, job_id)["completedTime"]) == ({"kind": "canceled"}, T0)


def test_cancel_with_an_id_of_another_table(t):
    doc_id = t.run(lambda ctx: ctx.db.insert("log", {"fn": "x"}))
    for bad in (doc_id, str(doc_id), "not-an-id"):
        with pytest.raises(ConvexPyError) as info:
            t.run(lambda ctx: ctx.scheduler.cancel(bad))
        assert str(info.value) == (
            "Invalid scheduled function ID. The ID must be an ID on the '_scheduled_functions' table."
        )


# --- retention ------------------------------------------------------------------------------------------


def test_finished_jobs_are_removed_exactly_seven_days_after_completion(t):
    success = schedule(t, lambda s: s.run_after(0, internal.m.work))
    failed = schedule(t, lambda s: s.run_after(1000, internal.m.boom))
    canceled = schedule(t, lambda s: s.run_after(DAY, internal.m.work))
    pending = schedule(t, lambda s: s.run_after(30 * DAY, internal.m.work))
    t.advance(0)
    t.advance(500)
    t.run(lambda ctx: ctx.scheduler.cancel(canceled))
    t.advance(500)  # failed completes at T0 + 1000

    t.advance_to(T0 + 7 * DAY - 1)
    assert {j["_id"] for j in t.scheduled_functions()} == {success, failed, canceled, pending}
    t.advance(1)  # T0 + 7d
    assert job(t, success) is None
    assert {j["_id"] for j in t.scheduled_functions()} == {failed, canceled, pending}
    t.advance(499)  # T0 + 7d + 499
    assert job(t, canceled) is not None
    t.advance(1)  # T0 + 7d + 500
    assert job(t, canceled) is None and job(t, failed) is not None
    t.advance(499)
    assert job(t, failed) is not None
    t.advance(1)  # T0 + 7d + 1000
    assert job(t, failed) is None
    assert [j["_id"] for j in t.scheduled_functions()] == [pending]
    t.advance_to(T0 + 30 * DAY)
    assert (job(t, pending)["state"], job(t, pending)["completedTime"]) == ({"kind": "success"}, T0 + 30 * DAY)
    t.advance(7 * DAY - 1)
    assert job(t, pending) is not None
    t.advance(1)
    assert t.scheduled_functions() == []
