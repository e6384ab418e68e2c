"""`ctx.meta` (function, transaction, deployment and request metadata, the snapshot timestamp),
`ctx.run_query` inside queries, and `transaction_limits=` on nested calls (Convex's
`transactionLimits`): exact values and Convex's error texts."""

from __future__ import annotations

import pytest

from convex_py import action, define_schema, define_table, internal_mutation, mutation, query, v
from convex_py.errors import InvalidArgumentError, LimitExceededError, ReadOnlyError, UnsupportedInFunctionError
from emulator import ConvexEmulator, Limits

START = "2030-01-01T00:00:00Z"
SCHEMA = define_schema({"messages": define_table({"author": v.string(), "body": v.string()})})
LIMITS_ARG = v.optional(v.record(v.string(), v.number()))


@query
async def meta_query(ctx, args):
    return await ctx.meta.get_function_metadata()


@mutation
def meta_mutation(ctx, args):
    return ctx.meta.get_function_metadata()


@action
async def meta_action(ctx, args):
    return await ctx.meta.getFunctionMetadata()


@internal_mutation
def meta_internal(ctx, args):
    return ctx.meta.get_function_metadata()


@query
def default(ctx, args):
    return ctx.meta.get_function_metadata()


@query
def read_all(ctx, args):
    return len(ctx.db.query("messages").collect())


@query(args={"n": v.number()})
def read_n(ctx, args):
    return len(ctx.db.query("messages").take(int(args["n"])))


@mutation(args={"count": v.number()})
def insert_many(ctx, args):
    for i in range(int(args["count"])):
        ctx.db.insert("messages", {"author": "child", "body": f"msg{i}"})


@mutation(args={"count": v.number()})
def insert_many_then_throw(ctx, args):
    for i in range(int(args["count"])):
        ctx.db.insert("messages", {"author": "child", "body": f"msg{i}"})
    raise RuntimeError("nested boom")


@query(args={"limits": LIMITS_ARG})
def parent_read(ctx, args):
    return ctx.run_query(read_all, {}, transaction_limits=args.get("limits"))


@query(args={"limits": LIMITS_ARG})
async def parent_read_convex_options(ctx, args):
    return await ctx.runQuery(read_all, {}, {"transactionLimits": args["limits"]})


@query(args={"nested": v.number(), "limits": LIMITS_ARG})
def nest_then_read_all(ctx, args):
    ctx.run_query(read_n, {"n": args["nested"]}, transaction_limits=args["limits"])
    return len(ctx.db.query("messages").collect())


@mutation(args={"count": v.number(), "limits": LIMITS_ARG})
def parent_insert(ctx, args):
    ctx.run_mutation(insert_many, {"count": args["count"]}, transaction_limits=args["limits"])


@mutation(args={"count": v.number()})
def rollback_then_metrics(ctx, args):
    try:
        ctx.run_mutation(insert_many_then_throw, {"count": args["count"]})
    except RuntimeError:
        pass
    return ctx.meta.get_transaction_metrics()["documentsWritten"]["used"]


@query
def nested_metrics(ctx, args):
    ctx.db.query("messages").take(2)
    return {"parent": ctx.meta.get_transaction_metrics()["documentsRead"],
            "nested": ctx.run_query(child_metrics, {}, transaction_limits={"documentsRead": 3}),
            "after": ctx.meta.get_transaction_metrics()["documentsRead"],
            "name": ctx.meta.get_function_metadata()["name"]}


@query
def child_metrics(ctx, args):
    ctx.db.query("messages").first()
    return ctx.meta.get_transaction_metrics()["documentsRead"]


@query
def query_writes_through_run_query(ctx, args):
    return ctx.run_query(try_insert, {})


@query
def try_insert(ctx, args):
    return ctx.db.insert("messages", {"author": "x", "body": "y"})


@mutation
def schedule_under_limits(ctx, args):
    ctx.run_mutation(schedule_two, {}, transaction_limits={"functionsScheduled": 1})


@mutation
def schedule_two(ctx, args):
    ctx.scheduler.run_after(0, insert_many, {"count": 1})
    ctx.scheduler.run_after(0, insert_many, {"count": 1})


@action(args={"limits": LIMITS_ARG})
def action_with_limits(ctx, args):
    return ctx.run_query(read_all, {}, transaction_limits=args.get("limits"))


@action
def action_runs_action(ctx, args):
    return ctx.run_action(action_with_limits, {}, transaction_limits={"documentsRead": 2})


@mutation
def request_mutation(ctx, args):
    return ctx.meta.get_request_metadata()


@action
def request_action(ctx, args):
    return [ctx.meta.get_request_metadata(), ctx.run_mutation(request_mutation, {})]


@mutation
def record_request(ctx, args):
    ctx.db.insert("messages", {"author": "req", "body": str(ctx.meta.get_request_metadata()["scheduledFunctionId"])})


@action
async def record_through_action(ctx, args):
    own = (await ctx.meta.get_request_metadata())["scheduledFunctionId"]
    await ctx.run_mutation(record_request, {})
    await ctx.run_mutation(insert_body, {"body": own})


@mutation(args={"body": v.string()})
def insert_body(ctx, args):
    ctx.db.insert("messages", {"author": "req", "body": args["body"]})


@mutation
def snapshots(ctx, args):
    before = ctx.meta.get_snapshot_ts()
    return [before, ctx.meta.get_snapshot_ts()]


MODULES = {
    "meta": {
        "meta_query": meta_query, "meta_mutation": meta_mutation, "meta_action": meta_action,
        "meta_internal": meta_internal, "default": default, "read_all": read_all, "read_n": read_n,
        "insert_many": insert_many, "insert_many_then_throw": insert_many_then_throw, "parent_read": parent_read,
        "parent_read_convex_options": parent_read_convex_options, "nest_then_read_all": nest_then_read_all,
        "parent_insert": parent_insert, "rollback_then_metrics": rollback_then_metrics,
        "nested_metrics": nested_metrics, "child_metrics": child_metrics,
        "query_writes_through_run_query": query_writes_through_run_query, "try_insert": try_insert,
        "schedule_under_limits": schedule_under_limits, "schedule_two": schedule_two,
        "action_with_limits": action_with_limits, "action_runs_action": action_runs_action,
        "request_mutation": request_mutation, "request_action": request_action, "snapshots": snapshots,
        "record_request": record_request, "record_through_action": record_through_action, "insert_body": insert_body,
    }
}


def make(**kw) -> ConvexEmulator:
    return ConvexEmulator(modules=MODULES, schema=SCHEMA, start_time=START, **kw)


@pytest.fixture
def t() -> ConvexEmulator:
    return make()


def seed(t: ConvexEmulator, count: int) -> None:
    t.run(lambda ctx: [ctx.db.insert("messages", {"author": "sarah", "body": f"msg{i}"}) for i in range(count)])


# --- get_function_metadata ------------------------------------------------------------------------


def test_function_metadata_of_named_functions(t: ConvexEmulator) -> None:
    assert t.query("meta:meta_query") == {"name": "meta:meta_query", "componentPath": "", "type": "query",
                                          "visibility": "public"}
    assert t.mutation("meta:meta_mutation") == {"name": "meta:meta_mutation", "componentPath": "",
                                                "type": "mutation", "visibility": "public"}
    assert t.action("meta:meta_action") == {"name": "meta:meta_action", "componentPath": "", "type": "action",
                                            "visibility": "public"}
    assert t.mutation("meta:meta_internal")["visibility"] == "internal"
    assert t.query("meta:default") == {"name": "meta", "componentPath": "", "type": "query", "visibility": "public"}


def test_function_metadata_of_inline_functions(t: ConvexEmulator) -> None:
    expected = {"name": "inline", "componentPath": "", "visibility": "public"}
    assert t.query(lambda ctx: ctx.meta.get_function_metadata()) == {**expected, "type": "query"}
    assert t.run(lambda ctx: ctx.meta.get_function_metadata()) == {**expected, "type": "mutation"}
    assert t.action(lambda ctx: ctx.meta.get_function_metadata()) == {**expected, "type": "action"}


def test_deployment_metadata(t: ConvexEmulator) -> None:
    expected = {"name": "test", "region": None, "class": "s16"}
    assert t.query(lambda ctx: ctx.meta.get_deployment_metadata()) == expected
    assert t.action(lambda ctx: ctx.meta.getDeploymentMetadata()) == expected


# --- get_transaction_metrics ---------------------------------------------------------------------


def test_transaction_metrics_count_what_this_transaction_used(t: ConvexEmulator) -> None:
    seed(t, 3)

    def go(ctx):
        ctx.db.query("messages").collect()
        ctx.db.insert("messages", {"author": "a", "body": "b"})
        ctx.scheduler.run_after(0, insert_many, {"count": 1})
        return ctx.meta.get_transaction_metrics()

    metrics = t.run(go)
    assert sorted(metrics) == ["bytesRead", "bytesWritten", "databaseQueries", "documentsRead", "documentsWritten",
                               "functionsScheduled", "scheduledFunctionArgsBytes"]
    assert metrics["documentsRead"] == {"used": 3, "remaining": 31_997}
    assert metrics["documentsWritten"] == {"used": 1, "remaining": 15_999}
    assert metrics["databaseQueries"] == {"used": 1, "remaining": 4_095}
    assert metrics["functionsScheduled"] == {"used": 1, "remaining": 999}
    args_bytes = metrics["scheduledFunctionArgsBytes"]["used"]
    assert args_bytes > 0 and metrics["scheduledFunctionArgsBytes"]["remaining"] == 8 * 2**20 - args_bytes
    written = metrics["bytesWritten"]["used"]
    assert written > 0 and metrics["bytesWritten"]["remaining"] == 16 * 2**20 - written


def test_transaction_metrics_are_for_queries_and_mutations_only(t: ConvexEmulator) -> None:
    with pytest.raises(UnsupportedInFunctionError) as caught:
        t.action(lambda ctx: ctx.meta.get_transaction_metrics())
    assert str(caught.value) == (
        "getTransactionMetrics() can only be called from a query or mutation. "
        "It is not available in actions or outside of a Convex function."
    )


def test_nested_calls_see_their_own_caps_and_the_shared_usage(t: ConvexEmulator) -> None:
    seed(t, 5)
    result = t.query("meta:nested_metrics")
    assert result["parent"] == {"used": 2, "remaining": 31_998}
    assert result["nested"] == {"used": 3, "remaining": 2}  # cap: 2 used so far + a budget of 3
    assert result["after"] == {"used": 3, "remaining": 31_997}
    assert result["name"] == "meta:nested_metrics"  # the caller's metadata again after the nested call


def test_rolled_back_nested_writes_are_not_counted(t: ConvexEmulator) -> None:
    assert t.mutation("meta:rollback_then_metrics", {"count": 5}) == 0
    assert t.query("meta:read_all") == 0


# --- request metadata, snapshot timestamps ----------------------------------------------------------


def test_request_metadata_in_mutations_and_actions(t: ConvexEmulator) -> None:
    request = t.mutation("meta:request_mutation")
    assert request == {"ip": None, "userAgent": None, "requestId": request["requestId"],
                       "scheduledFunctionId": None, "authToken": None}
    assert len(request["requestId"]) == 16
    own, nested = t.action("meta:request_action")
    assert nested == own  # a function called by a function shares its request metadata
    with pytest.raises(UnsupportedInFunctionError, match="^Cannot get request metadata in a query$"):
        t.query(lambda ctx: ctx.meta.get_request_metadata())


def test_request_metadata_names_the_scheduled_function(t: ConvexEmulator) -> None:
    mutation_job = t.run(lambda ctx: ctx.scheduler.run_after(0, record_request, {}))
    action_job = t.run(lambda ctx: ctx.scheduler.run_after(10, record_through_action, {}))
    t.finish_all_scheduled_functions()
    bodies = t.run(lambda ctx: [d["body"] for d in ctx.db.query("messages").collect()])
    assert bodies == [mutation_job, action_job, action_job]  # a scheduled action's calls report its job
    assert t.run(lambda ctx: ctx.meta.get_request_metadata()["scheduledFunctionId"]) is None


def test_snapshot_ts_is_fixed_within_a_transaction_and_grows_with_time(t: ConvexEmulator) -> None:
    first = t.mutation("meta:snapshots")
    assert first[0] == first[1] == 1_893_456_000_000 * 1_000_000 - 1
    t.advance(ms=5)
    assert t.mutation("meta:snapshots")[0] == 1_893_456_000_005 * 1_000_000 - 1


# --- run_query inside queries -------------------------------------------------------------------------


def test_run_query_inside_a_query_reads_the_same_snapshot(t: ConvexEmulator) -> None:
    seed(t, 4)
    assert t.query("meta:parent_read", {}) == 4


def test_a_query_run_from_a_query_cannot_write(t: ConvexEmulator) -> None:
    with pytest.raises(ReadOnlyError):
        t.query("meta:query_writes_through_run_query")


def test_use_stale_snapshot_is_only_for_mutations(t: ConvexEmulator) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        t.query(lambda ctx: ctx.run_query(read_all, {}, {"useStaleSnapshot": True}))
    assert str(caught.value) == "`useStaleSnapshot` is only supported in mutations, not queries."
    seed(t, 2)
    assert t.run(lambda ctx: ctx.run_query(read_all, {}, {"useStaleSnapshot": True})) == 2


# --- transaction_limits ------------------------------------------------------------------------------


def test_nested_query_documents_read_limit(t: ConvexEmulator) -> None:
    seed(t, 10)
    with pytest.raises(LimitExceededError) as caught:
        t.query("meta:parent_read", {"limits": {"documentsRead": 5}})
    assert str(caught.value).startswith("Too many documents read in a single function execution (limit: 5).")
    with pytest.raises(LimitExceededError, match=r"\(limit: 5\)"):
        t.query("meta:parent_read_convex_options", {"limits": {"documentsRead": 5}})


def test_nested_query_under_its_limit(t: ConvexEmulator) -> None:
    seed(t, 3)
    assert t.query("meta:parent_read", {"limits": {"documentsRead": 5}}) == 3
    assert t.query("meta:parent_read", {}) == 3


def test_nested_mutation_documents_written_limit(t: ConvexEmulator) -> None:
    with pytest.raises(LimitExceededError) as caught:
        t.mutation("meta:parent_insert", {"count": 10, "limits": {"documentsWritten": 3}})
    assert str(caught.value) == "Too many writes in a single function execution (limit: 3)"
    assert t.query("meta:read_all") == 0
    t.mutation("meta:parent_insert", {"count": 2, "limits": {"documentsWritten": 5}})
    assert t.query("meta:read_all") == 2


def test_nested_limits_never_raise_the_global_limit() -> None:
    t = make(limits=Limits(max_documents_read=5))
    seed(t, 10)
    for nested in (100_000, 8):
        with pytest.raises(LimitExceededError, match=r"\(limit: 5\)"):
            t.query("meta:parent_read", {"limits": {"documentsRead": nested}})


def test_a_nested_limit_ends_with_its_call() -> None:
    t = make(limits=Limits(max_documents_read=100))
    seed(t, 10)
    assert t.query("meta:nest_then_read_all", {"nested": 2, "limits": {"documentsRead": 3}}) == 10


def test_nested_limits_cap_scheduling(t: ConvexEmulator) -> None:
    with pytest.raises(LimitExceededError) as caught:
        t.mutation("meta:schedule_under_limits")
    assert str(caught.value) == "Too many functions scheduled by this mutation (limit: 1)"
    assert t.scheduled_functions() == []


def test_action_calls_take_transaction_limits(t: ConvexEmulator) -> None:
    seed(t, 3)
    assert t.action("meta:action_with_limits", {"limits": {"documentsRead": 3}}) == 3
    with pytest.raises(LimitExceededError, match=r"\(limit: 2\)"):
        t.action("meta:action_with_limits", {"limits": {"documents_read": 2}})
    with pytest.raises(LimitExceededError, match=r"\(limit: 2\)"):
        t.action("meta:action_runs_action")  # its queries inherit the cap


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"documentRead": 3}, "unknown transaction limit 'documentRead'"),
        ({"documentsRead": -1}, "must be a non-negative integer, got -1"),
        ({"filesRead": 1}, "about file storage"),
        ([("documentsRead", 1)], "must be a dict"),
    ],
)
def test_bad_transaction_limits(t: ConvexEmulator, limits, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        t.query(lambda ctx: ctx.run_query(read_all, {}, transaction_limits=limits))


def test_http_action_metadata_is_convex_one() -> None:
    from convex_py._functions import ConvexFunction
    from emulator.meta import function_metadata

    handler = ConvexFunction("action", "public", lambda ctx, request: None)
    # Convex reports an HTTP action as the action "http" (its module path, stripped), as convex-test does.
    assert function_metadata("http", handler) == {"name": "http", "componentPath": "", "type": "action",
                                                  "visibility": "public"}
