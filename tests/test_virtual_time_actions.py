"""Scheduled async actions take virtual time; queries match ints to v.number() fields; runaway guards."""

from __future__ import annotations

import asyncio

import pytest

from convex_py import define_schema, define_table, internal, internal_action, internal_mutation, query, v
from convex_py.errors import RunawaySchedulingError
from emulator import ConvexEmulator

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z


@internal_action
async def slow(ctx, args):
    await asyncio.sleep(args["seconds"])
    await ctx.run_mutation(internal.m.note, {"text": "done"})
    await ctx.scheduler.run_after(0, internal.m.note, {"text": "after"})


@internal_mutation
def note(ctx, args):
    ctx.db.insert("notes", {"text": args["text"]})


@query
def notes(ctx, args):
    return [[n["text"], n["_creationTime"]] for n in ctx.db.query("notes").collect()]


@internal_mutation
def forever(ctx, args):
    ctx.scheduler.run_after(0, internal.m.forever)


@internal_action
async def forever_after_a_sleep(ctx, args):
    # Each run sleeps, then schedules the next: time moves, so only the generation count can stop it.
    await asyncio.sleep(1)
    if args.get("via_mutation"):
        await ctx.run_mutation(internal.m.schedule_sleeper, {})
    else:
        await ctx.scheduler.run_after(0, internal.m.forever_after_a_sleep, {})


@internal_mutation
def schedule_sleeper(ctx, args):
    ctx.scheduler.run_after(0, internal.m.forever_after_a_sleep, {"via_mutation": True})


MODULES = {"m": {"slow": slow, "note": note, "notes": notes, "forever": forever,
                 "forever_after_a_sleep": forever_after_a_sleep, "schedule_sleeper": schedule_sleeper}}


@pytest.fixture
def t():
    emulator = ConvexEmulator(modules=MODULES, start_time=T0)
    yield emulator
    emulator.close()


def job_state(t: ConvexEmulator, job_id: str) -> str:
    return t.run(lambda ctx: ctx.db.system.get(job_id))["state"]["kind"]


def test_a_scheduled_action_is_in_progress_while_it_sleeps(t):
    job_id = t.run(lambda ctx: ctx.scheduler.run_after(1000, internal.m.slow, {"seconds": 90}))
    t.advance(seconds=1)
    assert job_state(t, job_id) == "inProgress"
    t.advance(seconds=89)
    assert job_state(t, job_id) == "inProgress"
    assert t.query("m:notes") == []
    t.advance(seconds=1)
    assert job_state(t, job_id) == "success"
    job = t.run(lambda ctx: ctx.db.system.get(job_id))
    assert job["completedTime"] == T0 + 91_000
    assert t.query("m:notes") == [["done", T0 + 91_000], ["after", T0 + 91_000.002]]
    [entry] = [e for e in t.timeline() if e["function"] == "m:slow"]
    assert (entry["time"], entry["completedTime"], entry["outcome"]) == (T0 + 1000, T0 + 91_000, "success")


def test_finish_in_progress_lets_running_actions_end(t):
    job_id = t.run(lambda ctx: ctx.scheduler.run_after(0, internal.m.slow, {"seconds": 30}))
    t.advance(0)
    assert job_state(t, job_id) == "inProgress"
    assert t.finish_in_progress_scheduled_functions() == 1
    assert job_state(t, job_id) == "success"
    assert t.now == T0 + 30_000
    # Time moved to the action's end, so what fell due on the way (its own run_after(0)) ran too.
    assert t.scheduled_functions("pending") == []
    assert t.query("m:notes") == [["done", T0 + 30_000], ["after", T0 + 30_000.002]]


def test_finish_all_waits_for_running_actions_and_what_they_schedule(t):
    t.run(lambda ctx: ctx.scheduler.run_after(0, internal.m.slow, {"seconds": 5}))
    t.finish_all_scheduled_functions()
    assert t.query("m:notes") == [["done", T0 + 5000], ["after", T0 + 5000.002]]
    assert t.now == T0 + 5000


def test_cancel_a_sleeping_action_keeps_it_running_and_cancels_what_it_schedules(t):
    job_id = t.run(lambda ctx: ctx.scheduler.run_after(0, internal.m.slow, {"seconds": 10}))
    t.advance(0)
    t.run(lambda ctx: ctx.scheduler.cancel(job_id))
    assert job_state(t, job_id) == "canceled"
    t.advance(seconds=10)
    # It ran to its end: its mutation committed, but the job it scheduled afterwards is canceled.
    assert t.query("m:notes") == [["done", T0 + 10_000]]
    assert job_state(t, job_id) == "canceled"
    [later] = [j for j in t.scheduled_functions() if j["name"] == "m:note"]
    assert later["state"] == {"kind": "canceled"}


@pytest.mark.parametrize("via_mutation", [False, True])
def test_finish_all_stops_an_action_that_reschedules_itself_after_an_await(t, via_mutation):
    t.run(lambda ctx: ctx.scheduler.run_after(0, internal.m.forever_after_a_sleep, {"via_mutation": via_mutation}))
    with pytest.raises(RunawaySchedulingError, match="after 5 iterations"):
        t.finish_all_scheduled_functions(max_iterations=5)
    # Five generations ran, each one virtual second long; the sixth is left pending.
    assert t.now == T0 + 5000
    assert len(t.scheduled_functions("success")) == 5
    assert len(t.scheduled_functions("pending")) == 1


def test_advance_stops_a_run_after_zero_loop(t):
    t.run(lambda ctx: ctx.scheduler.run_after(0, internal.m.forever))
    with pytest.raises(RunawaySchedulingError, match="at the same virtual time"):
        t.advance(0)
    assert len(t.scheduled_functions("pending")) == 1


SCHEMA = define_schema(
    {
        "points": define_table({"x": v.number(), "y": v.number(), "tag": v.string(), "count": v.int64()})
        .index("by_x_y", ["x", "y"])
        .index("by_tag", ["tag"]),
    }
)


@pytest.fixture
def points():
    emulator = ConvexEmulator(schema=SCHEMA, start_time=T0)
    emulator.run(
        lambda ctx: [ctx.db.insert("points", {"x": 1, "y": i, "tag": "a", "count": i}) for i in range(5)]
    )
    return emulator


def test_an_int_bound_matches_a_number_field_in_an_index_range(points):
    ys = points.query(
        lambda ctx: [p["y"] for p in ctx.db.query("points").with_index("by_x_y", lambda q: q.eq("x", 1).gt("y", 2)).collect()]
    )
    assert ys == [3.0, 4.0]


def test_an_int_literal_matches_a_number_field_in_a_filter(points):
    assert points.query(lambda ctx: [p["y"] for p in ctx.db.query("points").filter(lambda q: q.gt(q.field("y"), 3)).collect()]) == [4.0]
    assert points.query(lambda ctx: [p["y"] for p in ctx.db.query("points").filter(lambda q: q.eq(q.field("y"), 3)).collect()]) == [3.0]


def test_int64_fields_keep_their_type_in_comparisons(points):
    # v.int64() stores ints: a float literal is a different Convex type and sorts after every int64.
    assert points.query(lambda ctx: len(ctx.db.query("points").filter(lambda q: q.eq(q.field("count"), 3.0)).collect())) == 0
    assert points.query(lambda ctx: len(ctx.db.query("points").filter(lambda q: q.eq(q.field("count"), 3)).collect())) == 1


def test_without_a_schema_int64_and_float64_stay_distinct():
    t = ConvexEmulator(start_time=T0)
    t.run(lambda ctx: [ctx.db.insert("prices", {"p": p}) for p in (5, 1.5, 10)])
    # Stored values keep their type: an int is an int64, a float a float64.
    stored = t.query(lambda ctx: [d["p"] for d in ctx.db.query("prices").collect()])
    assert [(p, type(p)) for p in stored] == [(5, int), (1.5, float), (10, int)]
    # A filter's literal is a number beside either type (SEMANTICS, porting habits: Python's `5`
    # is JavaScript's 5, a float64), so 1.5 is below 5 rather than after every int64.
    assert t.query(lambda ctx: [d["p"] for d in ctx.db.query("prices").filter(lambda q: q.gte(q.field("p"), 5)).collect()]) == [5, 10]


def test_every_index_ranges_over_creation_time_last(points):
    times = points.query(lambda ctx: [p["_creationTime"] for p in ctx.db.query("points").collect()])
    found = points.query(
        lambda ctx: [
            p["_creationTime"]
            for p in ctx.db.query("points").with_index("by_tag", lambda q: q.eq("tag", "a").gt("_creationTime", times[2])).collect()
        ]
    )
    assert found == times[3:]


def test_the_first_document_at_time_zero_has_creation_time_zero():
    t = ConvexEmulator(start_time=0)
    first = t.run(lambda ctx: ctx.db.get(ctx.db.insert("t", {"a": 1})))
    assert first["_creationTime"] == 0.0
