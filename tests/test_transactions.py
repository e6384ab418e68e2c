"""Transactions: a mutation is all or nothing (writes and scheduling), nested calls share its
transaction, a failing nested mutation rolls back only itself, queries are read-only, and an
action's calls are each their own transaction."""

from __future__ import annotations

import asyncio

import pytest

from convex_py import (
    ConvexError,
    action,
    api,
    define_schema,
    define_table,
    internal,
    internal_mutation,
    mutation,
    query,
    v,
)
from convex_py.errors import ReadOnlyError, SchemaValidationError
from emulator import ConvexEmulator

START = "2030-01-01T00:00:00Z"


@query
def get_count(ctx, args):
    doc = ctx.db.query("counters").first()
    return 0 if doc is None else doc["value"]


@mutation
def increment(ctx, args):
    doc = ctx.db.query("counters").first()
    if doc is None:
        ctx.db.insert("counters", {"value": 1})
        return 1
    ctx.db.patch(doc["_id"], {"value": doc["value"] + 1})
    return doc["value"] + 1


@mutation(args={"text": v.string()})
def log(ctx, args):
    return ctx.db.insert("logs", {"text": args["text"]})


@internal_mutation(args={"text": v.string()})
def log_then_fail(ctx, args):
    ctx.db.insert("logs", {"text": args["text"]})
    ctx.scheduler.run_after(0, internal.tx.noop, {})
    raise ConvexError("nested failure")


@internal_mutation
def noop(ctx, args):
    return None


@mutation
def parent_catches(ctx, args):
    ctx.db.insert("logs", {"text": "parent before"})
    ctx.run_mutation(api.tx.log, {"text": "child ok"})
    try:
        ctx.run_mutation(internal.tx.log_then_fail, {"text": "child failed"})
    except ConvexError as e:
        caught = e.data
    ctx.db.insert("logs", {"text": "parent after"})
    return {"caught": caught, "seen": [d["text"] for d in ctx.db.query("logs").collect()]}


@mutation
async def async_parent_catches(ctx, args):
    await ctx.db.insert("logs", {"text": "async parent"})
    try:
        await ctx.run_mutation(internal.tx.log_then_fail, {"text": "child failed"})
    except ConvexError:
        pass
    await ctx.run_mutation(api.tx.log, {"text": "async child ok"})
    return await ctx.run_query(api.tx.all_logs, {})


@mutation
def parent_fails_after_child(ctx, args):
    ctx.run_mutation(api.tx.log, {"text": "child committed?"})
    ctx.scheduler.run_after(0, internal.tx.noop, {})
    raise ConvexError("parent failure")


@mutation
def reads_own_writes(ctx, args):
    log_id = ctx.db.insert("logs", {"text": "mine"})
    direct = ctx.db.get(log_id)["text"]
    via_query = ctx.run_query(api.tx.all_logs, {})
    ctx.db.patch(log_id, {"text": "patched"})
    after_patch = ctx.run_query(api.tx.all_logs, {})
    child = ctx.run_mutation(api.tx.log, {"text": "child"})
    after_child = [d["text"] for d in ctx.db.query("logs").collect()]
    child_doc = ctx.db.get(child)["text"]
    ctx.db.delete(log_id)
    after_delete = ctx.run_query(api.tx.all_logs, {})
    return [direct, via_query, after_patch, after_child, child_doc, after_delete]


@query
def all_logs(ctx, args):
    return [d["text"] for d in ctx.db.query("logs").collect()]


@query
def query_that_writes(ctx, args):
    ctx.db.insert("logs", {"text": "nope"})


@query
def query_calling_mutation(ctx, args):
    return ctx.run_mutation(api.tx.log, {"text": "from query"})


@mutation
def schedules_then_fails(ctx, args):
    ctx.db.insert("logs", {"text": "doomed"})
    ctx.scheduler.run_after(0, internal.tx.noop, {})
    ctx.scheduler.run_at(ctx_now_plus(1000), internal.tx.noop, {})
    raise RuntimeError("boom")


def ctx_now_plus(ms: float) -> float:
    return 1893456000000.0 + ms


@action
def action_mutates_then_fails(ctx, args):
    ctx.run_mutation(api.tx.log, {"text": "from action"})
    ctx.scheduler.run_after(0, internal.tx.noop, {})
    raise ConvexError("action failed")


@action
async def gather_increments(ctx, args):
    results = await asyncio.gather(*(ctx.run_mutation(api.tx.increment, {}) for _ in range(20)))
    return {"results": sorted(results), "final": await ctx.run_query(api.tx.get_count, {})}


@action
async def increment_via_action(ctx, args):
    await asyncio.sleep(0)
    return await ctx.run_mutation(api.tx.increment, {})


@action
async def gather_actions(ctx, args):
    results = await asyncio.gather(*(ctx.run_action(api.tx.increment_via_action, {}) for _ in range(10)))
    return sorted(results)


@action
async def gather_mixed(ctx, args):
    async def bump_and_log(i):
        await asyncio.sleep(0)
        value = await ctx.run_mutation(api.tx.increment, {})
        await ctx.run_mutation(api.tx.log, {"text": f"bump {i}"})
        return value

    values = await asyncio.gather(*(bump_and_log(i) for i in range(8)))
    return sorted(values)


FUNCTIONS = {
    name: globals()[name]
    for name in (
        "get_count", "increment", "async_parent_catches", "log", "log_then_fail", "noop", "parent_catches", "parent_fails_after_child",
        "reads_own_writes", "all_logs", "query_that_writes", "query_calling_mutation", "schedules_then_fails",
        "action_mutates_then_fails", "gather_increments", "increment_via_action", "gather_actions", "gather_mixed",
    )
}

SCHEMA = define_schema(
    {"counters": define_table({"value": v.int64()}), "logs": define_table({"text": v.string()})}
)


@pytest.fixture
def t() -> ConvexEmulator:
    return ConvexEmulator(modules={"tx": FUNCTIONS}, schema=SCHEMA, start_time=START)


def logs(t: ConvexEmulator) -> list[str]:
    return t.query(api.tx.all_logs)


# --- A mutation sees its own writes ----------------------------------------------------------------------


def test_mutation_sees_its_own_writes_including_nested_calls(t: ConvexEmulator) -> None:
    assert t.mutation(api.tx.reads_own_writes) == [
        "mine",
        ["mine"],
        ["patched"],
        ["patched", "child"],
        "child",
        ["child"],
    ]
    assert logs(t) == ["child"]


def test_committed_writes_are_seen_by_later_calls(t: ConvexEmulator) -> None:
    assert t.mutation(api.tx.increment) == 1
    assert t.mutation(api.tx.increment) == 2
    assert t.query(api.tx.get_count) == 2


# --- All or nothing --------------------------------------------------------------------------------------


def test_failing_mutation_leaves_nothing_behind(t: ConvexEmulator) -> None:
    log_id = t.mutation(api.tx.log, {"text": "keep"})
    before = t.run(lambda ctx: ctx.db.get(log_id))

    def messy(ctx):
        ctx.db.insert("logs", {"text": "new"})
        ctx.db.patch(log_id, {"text": "changed"})
        ctx.db.insert("counters", {"value": 5})
        ctx.db.delete(log_id)
        ctx.db.insert("logs", {"text": "newer"})
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        t.run(messy)
    assert logs(t) == ["keep"]
    assert t.run(lambda ctx: ctx.db.get(log_id)) == before
    assert t.query(api.tx.get_count) == 0


def test_failing_mutation_leaves_nothing_scheduled(t: ConvexEmulator) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        t.mutation(api.tx.schedules_then_fails)
    assert logs(t) == []
    assert t.scheduled_functions() == []
    assert t.query(lambda ctx: ctx.db.system.query("_scheduled_functions").collect()) == []
    # And nothing runs later either.
    t.advance(seconds=10)
    assert t.scheduled_functions() == []


def test_schema_error_midway_rolls_back_earlier_writes(t: ConvexEmulator) -> None:
    def go(ctx):
        ctx.db.insert("logs", {"text": "first"})
        ctx.db.insert("logs", {"text": 2})

    with pytest.raises(SchemaValidationError):
        t.run(go)
    assert logs(t) == []


def test_after_a_failure_the_next_mutation_works(t: ConvexEmulator) -> None:
    with pytest.raises(RuntimeError):
        t.mutation(api.tx.schedules_then_fails)
    assert t.mutation(api.tx.increment) == 1
    t.run(lambda ctx: ctx.scheduler.run_after(0, internal.tx.noop, {}))
    assert len(t.scheduled_functions()) == 1


# --- Nested mutations: sub-transactions -------------------------------------------------------------------


def test_failing_nested_mutation_rolls_back_only_itself(t: ConvexEmulator) -> None:
    result = t.mutation(api.tx.parent_catches)
    assert result == {"caught": "nested failure", "seen": ["parent before", "child ok", "parent after"]}
    assert logs(t) == ["parent before", "child ok", "parent after"]
    # The job scheduled by the failed child is gone with it.
    assert t.scheduled_functions() == []


def test_async_mutation_nested_calls(t: ConvexEmulator) -> None:
    assert t.mutation(api.tx.async_parent_catches) == ["async parent", "async child ok"]
    assert logs(t) == ["async parent", "async child ok"]
    assert t.scheduled_functions() == []


def test_parent_failure_rolls_back_its_successful_children(t: ConvexEmulator) -> None:
    with pytest.raises(ConvexError, match="parent failure"):
        t.mutation(api.tx.parent_fails_after_child)
    assert logs(t) == []
    assert t.scheduled_functions() == []


def test_uncaught_nested_failure_fails_the_parent(t: ConvexEmulator) -> None:
    def go(ctx):
        ctx.db.insert("logs", {"text": "parent"})
        ctx.run_mutation(internal.tx.log_then_fail, {"text": "child"})

    with pytest.raises(ConvexError, match="nested failure"):
        t.run(go)
    assert logs(t) == []


def test_nested_failure_keeps_writes_made_before_it_in_nested_successes(t: ConvexEmulator) -> None:
    def go(ctx):
        ctx.run_mutation(api.tx.increment, {})
        try:
            ctx.run_mutation(internal.tx.log_then_fail, {"text": "x"})
        except ConvexError:
            pass
        ctx.run_mutation(api.tx.increment, {})
        return ctx.run_query(api.tx.get_count, {})

    assert t.run(go) == 2
    assert t.query(api.tx.get_count) == 2
    assert logs(t) == []


def test_nested_rollback_restores_patched_and_deleted_documents() -> None:
    log_id = None

    @internal_mutation
    def child(ctx, args):
        ctx.db.patch(log_id, {"text": "patched"})
        ctx.db.insert("logs", {"text": "inserted"})
        ctx.db.delete(log_id)
        raise ConvexError("child")

    t2 = ConvexEmulator(modules={"tx": FUNCTIONS, "child": {"child": child}}, schema=SCHEMA, start_time=START)
    log_id = t2.mutation(api.tx.log, {"text": "original"})

    def go(ctx):
        try:
            ctx.run_mutation(internal.child.child, {})
        except ConvexError:
            pass
        return ctx.db.get(log_id)["text"], [d["text"] for d in ctx.db.query("logs").collect()]

    assert t2.run(go) == ("original", ["original"])
    assert t2.query(api.tx.all_logs) == ["original"]


# --- Queries are read-only -----------------------------------------------------------------------------------


def test_query_cannot_write(t: ConvexEmulator) -> None:
    with pytest.raises(ReadOnlyError):
        t.query(api.tx.query_that_writes)
    assert logs(t) == []


def test_query_cannot_run_a_mutation(t: ConvexEmulator) -> None:
    with pytest.raises(AttributeError):
        t.query(api.tx.query_calling_mutation)
    assert logs(t) == []


def test_nested_query_inside_a_mutation_cannot_write(t: ConvexEmulator) -> None:
    def go(ctx):
        ctx.db.insert("logs", {"text": "parent"})
        ctx.run_query(api.tx.query_that_writes, {})

    with pytest.raises(ReadOnlyError):
        t.run(go)
    assert logs(t) == []


# --- Actions are not transactions --------------------------------------------------------------------------------


def test_action_calls_commit_on_their_own(t: ConvexEmulator) -> None:
    with pytest.raises(ConvexError, match="action failed"):
        t.action(api.tx.action_mutates_then_fails)
    assert logs(t) == ["from action"]
    # Scheduling from an action happens at once and survives the action failing.
    assert [j["name"] for j in t.scheduled_functions()] == ["tx:noop"]


def test_action_sees_each_committed_call(t: ConvexEmulator) -> None:
    def act(ctx):
        seen = []
        for _ in range(3):
            ctx.run_mutation(api.tx.increment, {})
            seen.append(ctx.run_query(api.tx.get_count, {}))
        return seen

    assert t.action(act) == [1, 2, 3]


def test_failed_mutation_inside_an_action_rolls_back_only_that_mutation(t: ConvexEmulator) -> None:
    def act(ctx):
        ctx.run_mutation(api.tx.log, {"text": "one"})
        try:
            ctx.run_mutation(internal.tx.log_then_fail, {"text": "two"})
        except ConvexError:
            pass
        ctx.run_mutation(api.tx.log, {"text": "three"})

    t.action(act)
    assert logs(t) == ["one", "three"]
    assert t.scheduled_functions() == []


def test_concurrent_mutations_from_an_async_action_all_apply(t: ConvexEmulator) -> None:
    result = t.action(api.tx.gather_increments)
    assert result == {"results": list(range(1, 21)), "final": 20}
    assert t.query(api.tx.get_count) == 20


def test_concurrent_actions_from_an_async_action(t: ConvexEmulator) -> None:
    assert t.action(api.tx.gather_actions) == list(range(1, 11))
    assert t.query(api.tx.get_count) == 10


def test_concurrent_interleaved_calls(t: ConvexEmulator) -> None:
    assert t.action(api.tx.gather_mixed) == list(range(1, 9))
    assert t.query(api.tx.get_count) == 8
    assert sorted(logs(t)) == sorted(f"bump {i}" for i in range(8))


def test_async_action_run_from_an_async_test() -> None:
    t = ConvexEmulator(modules={"tx": FUNCTIONS}, schema=SCHEMA, start_time=START)

    async def main():
        return t.action(api.tx.gather_increments)

    assert asyncio.run(main())["final"] == 20


def test_commit_hooks_run_on_commit_never_after_a_rollback_and_at_once_outside_a_transaction() -> None:
    """Store.after_commit: what follows a commit (a job joining the heap, a cron starting) happens
    only if the transaction commits, and a hook added outside any transaction runs at once."""
    from emulator.limits import Limits
    from emulator.store import Store

    class Clock:
        now = 1_000.0

    store = Store(None, Limits(), Clock())
    ran: list[str] = []
    store.after_commit(lambda: ran.append("outside"))
    assert ran == ["outside"]

    store.begin()
    store.after_commit(lambda: ran.append("rolled back"))
    store.rollback()
    store.begin()
    store.after_commit(lambda: ran.append("committed"))
    assert ran == ["outside"]
    store.commit()
    assert ran == ["outside", "committed"]

    store.begin()  # the rolled-back hook is gone for good: nothing runs at a later, empty commit
    store.commit()
    assert ran == ["outside", "committed"]


def test_the_garbage_collector_is_as_the_caller_left_it_after_every_kind_of_mutation(t: ConvexEmulator) -> None:
    """A mutation pauses the cyclic collector while it runs: it is on again afterwards whatever happened
    (a failure, a failed nested call, retried commits, calls from an action, mutations from many threads
    at once, as the dev server makes them), and a collector the caller turned off stays off."""
    import gc
    import threading

    from convex_py.errors import LimitExceededError

    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="boom"):
        t.mutation(api.tx.schedules_then_fails)
    assert gc.isenabled()
    assert t.mutation(api.tx.parent_catches)["caught"] == "nested failure"
    assert gc.isenabled()
    with pytest.raises(ConvexError):
        t.mutation(api.tx.parent_fails_after_child)
    assert gc.isenabled()
    t.fail_next_commits(2)
    assert t.mutation(api.tx.increment) == 1
    assert gc.isenabled()
    with pytest.raises(ConvexError, match="action failed"):
        t.action(api.tx.action_mutates_then_fails)
    assert t.action(api.tx.gather_increments)["final"] == 21
    assert gc.isenabled()
    with pytest.raises(LimitExceededError):
        t.mutation(lambda ctx: [ctx.db.insert("logs", {"text": "x" * 900_000}) for _ in range(20)])
    assert gc.isenabled()

    failures: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(20):
                t.mutation(api.tx.increment)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert t.query(api.tx.get_count) == 101
    assert gc.isenabled()

    gc.disable()
    try:
        assert t.mutation(api.tx.increment) == 102
        with pytest.raises(RuntimeError):
            t.mutation(api.tx.schedules_then_fails)
        assert not gc.isenabled()
    finally:
        gc.enable()
