"""Job rows a mutation schedules are written in a batch, yet every read inside the mutation sees them."""

from __future__ import annotations

import pytest

from convex_py import internal, internal_mutation, mutation
from emulator import ConvexEmulator

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z


@internal_mutation
def work(ctx, args):
    ctx.db.insert("log", {"n": args["n"]})


@mutation
def schedule_then_fail(ctx, args):
    ctx.scheduler.run_after(10, internal.m.work, {"n": 99})
    raise RuntimeError("inner fails")


@mutation
def outer(ctx, args):
    kept = ctx.scheduler.run_after(10, internal.m.work, {"n": 1})
    try:
        ctx.run_mutation("m:schedule_then_fail", {})
    except RuntimeError:
        pass
    later = ctx.scheduler.run_after(20, internal.m.work, {"n": 2})
    rows = ctx.db.system.query("_scheduled_functions").collect()
    return {"kept": kept, "later": later, "rows": [[r["_id"], r["args"][0]["n"]] for r in rows]}


def make() -> ConvexEmulator:
    return ConvexEmulator(modules={"m": {"work": work, "outer": outer, "schedule_then_fail": schedule_then_fail}},
                          start_time=T0)


def test_get_query_and_cancel_see_rows_scheduled_in_the_same_mutation():
    t = make()

    def body(ctx):
        first = ctx.scheduler.run_after(1000, internal.m.work, {"n": 1})
        row = ctx.db.system.get(first)
        query = ctx.db.system.query("_scheduled_functions")  # built before the next job is scheduled
        second = ctx.scheduler.run_after(2000, internal.m.work, {"n": 2})
        listed = [(r["_id"], r["scheduledTime"], r["state"]["kind"]) for r in query.collect()]
        ctx.scheduler.cancel(second)
        return row, listed, first, second, ctx.db.system.get(second)["state"]

    row, listed, first, second, second_state = t.run(body)
    assert row["_id"] == first and row["name"] == "m:work" and row["args"] == [{"n": 1}]
    assert row["scheduledTime"] == T0 + 1000 and row["state"] == {"kind": "pending"}
    assert listed == [(first, T0 + 1000, "pending"), (second, T0 + 2000, "pending")]
    assert second_state == {"kind": "canceled"}
    assert [(j["_id"], j["state"]["kind"]) for j in t.scheduled_functions()] == [(first, "pending"), (second, "canceled")]
    t.advance(5000)
    assert [d["n"] for d in t.run(lambda ctx: ctx.db.query("log").collect())] == [1]


def test_a_failed_nested_mutation_drops_only_its_own_job_rows():
    t = make()
    out = t.mutation("m:outer", {})
    assert out["rows"] == [[out["kept"], 1], [out["later"], 2]]
    jobs = t.scheduled_functions()
    assert [(j["_id"], j["args"]) for j in jobs] == [(out["kept"], [{"n": 1}]), (out["later"], [{"n": 2}])]
    assert jobs[0]["_creationTime"] < jobs[1]["_creationTime"]
    t.advance(100)
    assert sorted(d["n"] for d in t.run(lambda ctx: ctx.db.query("log").collect())) == [1, 2]


def test_rows_of_a_retried_or_failed_commit_leave_nothing_behind():
    t = make()
    t.fail_next_commits(1)  # the first attempt fails at commit and runs again

    def body(ctx):
        return [ctx.scheduler.run_after(10 * i, internal.m.work, {"n": i}) for i in range(3)]

    ids = t.run(body)
    assert [j["_id"] for j in t.scheduled_functions()] == ids

    def fails(ctx):
        ctx.scheduler.run_after(5, internal.m.work, {"n": 7})
        raise ValueError("no")

    with pytest.raises(ValueError):
        t.run(fails)
    assert [j["_id"] for j in t.scheduled_functions()] == ids
    t.advance(100)
    assert sorted(d["n"] for d in t.run(lambda ctx: ctx.db.query("log").collect())) == [0, 1, 2]
