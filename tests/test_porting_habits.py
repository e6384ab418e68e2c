"""Convex code ported line by line to Python behaves as it does on Convex (SEMANTICS, porting habits).

One test per habit, each with the TypeScript line it ports in a comment.
"""

from __future__ import annotations

import asyncio
import textwrap
import warnings
from pathlib import Path

import pytest

from convex_py import define_schema, define_table, internal, internal_action, internal_mutation, mutation, query, v
from convex_py.errors import (
    DirectCallWarning,
    FunctionNotFoundError,
    IndexNotFoundError,
    InvalidValueError,
    LimitExceededError,
    SchemaDefinitionError,
    UnsupportedInFunctionError,
)
from emulator import ConvexEmulator

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
DAY = 24 * 3600 * 1000


def make(modules: dict | None = None, schema=None) -> ConvexEmulator:
    return ConvexEmulator(modules=modules or {}, schema=schema, start_time=T0)


def write_app(tmp_path: Path, files: dict[str, str]) -> Path:
    convex = tmp_path / "convex"
    convex.mkdir()
    for name, text in files.items():
        (convex / name).write_text(textwrap.dedent(text))
    return tmp_path


# --- Numbers: Convex's numbers are float64 ------------------------------------------------------


@mutation(args={"count": v.number()})
def latest(ctx, args):
    # TS: return (await ctx.db.query("messages").order("desc").take(args.count)).map((m) => m.body);
    return [m["body"] for m in ctx.db.query("messages").order("desc").take(args["count"])]


@mutation(args={"count": v.number()})
def schedule_latest(ctx, args):
    ctx.scheduler.run_after(0, internal.messages.latest_job, {"count": args["count"]})


@internal_mutation(args={"count": v.number()})
def latest_job(ctx, args):
    bodies = [m["body"] for m in ctx.db.query("messages").order("desc").take(args["count"])]
    ctx.db.insert("results", {"bodies": bodies})


def messages_app() -> ConvexEmulator:
    t = make({"messages": {"latest": latest, "schedule_latest": schedule_latest, "latest_job": latest_job}})
    t.run(lambda ctx: [ctx.db.insert("messages", {"body": body}) for body in ("a", "b", "c")])
    return t


def test_take_accepts_a_count_that_arrives_as_a_float_called_directly_or_scheduled():
    # TS: await ctx.db.query("messages").order("desc").take(args.count)   (args.count: v.number())
    t = messages_app()
    assert t.mutation("messages:latest", {"count": 2}) == ["c", "b"]
    t.mutation("messages:schedule_latest", {"count": 2})
    t.finish_all_scheduled_functions()
    assert t.run(lambda ctx: [r["bodies"] for r in ctx.db.query("results").collect()]) == [["c", "b"]]
    assert [job["state"] for job in t.scheduled_functions()] == [{"kind": "success"}]


def test_take_refuses_a_count_that_is_not_a_whole_number():
    # TS: await ctx.db.query("messages").take(1.5)  -> "Arg 1 `n` to `take` must be a non-negative integer"
    t = messages_app()
    with pytest.raises(Exception, match=r"Arg 1 `n` to `take` must be a non-negative integer. Received `1.5`."):
        t.query(lambda ctx: ctx.db.query("messages").take(1.5))


def test_paginate_accepts_num_items_as_a_float():
    # TS: await ctx.db.query("messages").paginate({ numItems: 2, cursor: null })
    t = messages_app()
    page = t.query(lambda ctx: ctx.db.query("messages").paginate({"numItems": 2.0, "cursor": None}))
    assert ([m["body"] for m in page["page"]], page["isDone"]) == (["a", "b"], False)


def test_finish_all_takes_max_iterations_as_a_float():
    # TS: await t.finishAllScheduledFunctions(vi.runAllTimers, 10)
    t = messages_app()
    t.mutation("messages:schedule_latest", {"count": 1})
    assert t.finish_all_scheduled_functions(max_iterations=10.0) == 1


def scores() -> ConvexEmulator:
    t = make()
    # TS: await ctx.db.insert("players", { name, score })   -- scores are float64 in Convex
    t.run(lambda ctx: [ctx.db.insert("players", {"name": n, "score": s})
                       for n, s in (("ada", 16.0), ("bob", 14.0), ("cy", 3.5))])
    return t


def names(t: ConvexEmulator, predicate) -> list[str]:
    return t.query(lambda ctx: [p["name"] for p in ctx.db.query("players").filter(predicate).collect()])


def test_filter_equality_with_an_int_literal_matches_a_float_field():
    # TS: .filter((q) => q.eq(q.field("score"), 14))
    assert names(scores(), lambda q: q.eq(q.field("score"), 14)) == ["bob"]


def test_filter_arithmetic_mixes_an_int_literal_with_a_float_field():
    # TS: .filter((q) => q.eq(q.add(q.field("score"), -2), 14))
    assert names(scores(), lambda q: q.eq(q.add(q.field("score"), -2), 14)) == ["ada"]


def test_filter_order_compares_an_int_literal_with_a_float_field_as_numbers():
    # TS: .filter((q) => q.lt(q.field("score"), 10))
    assert names(scores(), lambda q: q.lt(q.field("score"), 10)) == ["cy"]


# --- Direct calls ------------------------------------------------------------------------------------


@internal_mutation
async def process_queue(ctx, args):
    await ctx.db.insert("queue", {"eventId": args["eventId"]})
    return args["eventId"] * 2


@internal_mutation
def count_queue(ctx, args):
    return len(ctx.db.query("queue").collect())


@mutation
async def buy_ticket(ctx, args):
    # TS: const doubled = await processQueue(ctx, { eventId: 3 });
    doubled = await process_queue(ctx, {"eventId": 3})
    # TS: const queued = await countQueue(ctx, {});
    queued = await count_queue(ctx, {})
    return [doubled, queued]


@mutation
def buy_ticket_sync(ctx, args):
    return count_queue(ctx, {})


def test_calling_a_registered_function_directly_runs_its_handler_with_a_warning():
    t = make({"events": {"buy_ticket": buy_ticket, "buy_ticket_sync": buy_ticket_sync},
              "waiting_list": {"process_queue": process_queue, "count_queue": count_queue}})
    with pytest.warns(DirectCallWarning) as warned:
        assert t.mutation("events:buy_ticket") == [6, 1]
    assert [str(w.message).split(" was called")[0] for w in warned] == [
        "The mutation process_queue()", "The mutation count_queue()"]
    assert "Consider calling a helper function instead" in str(warned[0].message)
    assert "ctx.run_mutation(...)" in str(warned[0].message)
    with pytest.warns(DirectCallWarning, match="count_queue"):
        assert t.mutation("events:buy_ticket_sync") == 1


def test_an_async_handler_called_directly_returns_an_awaitable():
    # TS: const pending = processQueue(ctx, { eventId: 4 }); ... await pending;
    async def handler(ctx):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DirectCallWarning)
            pending = process_queue(ctx, {"eventId": 4})
        assert asyncio.iscoroutine(pending)
        return await pending

    t = make({"waiting_list": {"process_queue": process_queue}})
    assert t.run(handler) == 8


def test_a_function_imported_from_another_module_is_not_registered_again(tmp_path):
    # TS (convex/events.ts): import { processQueue } from "./waiting_list";
    app = write_app(tmp_path, {
        "waiting_list.py": """
            from convex_py import internal_mutation

            @internal_mutation
            def process_queue(ctx, args):
                return "processed"
        """,
        "events.py": """
            from convex_py import mutation
            from .waiting_list import process_queue

            @mutation
            def buy(ctx, args):
                return process_queue(ctx, args)
        """,
        "reexport.py": """
            from .waiting_list import process_queue

            __all__ = ["process_queue"]  # TS: export { processQueue } from "./waiting_list";
        """,
    })
    t = ConvexEmulator(app, start_time=T0)
    assert t.mutation("waiting_list:process_queue") == "processed"
    assert t.mutation("reexport:process_queue") == "processed"
    with pytest.raises(FunctionNotFoundError, match="events:process_queue"):
        t.mutation("events:process_queue")
    with pytest.warns(DirectCallWarning):
        assert t.mutation("events:buy") == "processed"


# --- asyncio.gather: the Promise.all habit -------------------------------------------------------


@mutation
async def add_all(ctx, args):
    # TS: const ids = await Promise.all(args.names.map((name) => ctx.db.insert("users", { name })));
    ids = await asyncio.gather(*(ctx.db.insert("users", {"name": name}) for name in args["names"]))

    async def shout(doc_id):
        doc = await ctx.db.get(doc_id)
        await ctx.db.patch(doc_id, {"name": doc["name"].upper()})
        return (await ctx.db.get(doc_id))["name"]

    # TS: return await Promise.all(ids.map((id) => shout(id)));
    return await asyncio.gather(*(shout(doc_id) for doc_id in ids))


@query
async def names_of(ctx, args):
    users = await ctx.db.query("users").collect()
    # TS: return await Promise.all(users.map(async (u) => (await ctx.db.get(u._id))!.name));

    async def name(user):
        return (await ctx.db.get(user["_id"]))["name"]

    return await asyncio.gather(*(name(user) for user in users))


@query
async def sleepy(ctx, args):
    async def later():
        await asyncio.sleep(1)

    await asyncio.gather(later(), ctx.db.query("users").collect())


def test_asyncio_gather_over_ctx_calls_in_mutations_and_queries():
    t = make({"users": {"add_all": add_all, "names_of": names_of, "sleepy": sleepy}})
    assert t.mutation("users:add_all", {"names": ["ada", "bob", "cy"]}) == ["ADA", "BOB", "CY"]
    assert t.query("users:names_of") == ["ADA", "BOB", "CY"]
    # As if run in order: creation times follow the order of the calls.
    times = t.query(lambda ctx: [(u["name"], u["_creationTime"]) for u in ctx.db.query("users").collect()])
    assert times == [("ADA", T0), ("BOB", T0 + 0.001), ("CY", T0 + 0.002)]
    # Time still cannot pass inside a query.
    with pytest.raises(UnsupportedInFunctionError, match="not a Convex operation"):
        t.query("users:sleepy")


def test_asyncio_gather_in_a_query_run_from_an_async_action():
    async def action(ctx):
        return await ctx.run_query("users:names_of")

    t = make({"users": {"add_all": add_all, "names_of": names_of}})
    t.mutation("users:add_all", {"names": ["ada"]})
    assert t.action(action) == ["ADA"]


@query
async def count_plus(ctx, args):
    everyone, first = await asyncio.gather(ctx.db.query("users").collect(), ctx.db.query("users").first())
    return len(everyone) + args["k"]


@mutation
async def nested_gathers(ctx, args):
    # TS: return await Promise.all([10, 20].map(async (k) => await ctx.runQuery(api.users.countPlus, { k })));
    async def one(k):
        return await ctx.run_query("users:count_plus", {"k": k})

    return await asyncio.gather(one(10), one(20))


def test_gathered_calls_that_gather_in_turn_even_under_a_running_event_loop():
    t = make({"users": {"add_all": add_all, "count_plus": count_plus, "nested_gathers": nested_gathers}})
    t.mutation("users:add_all", {"names": ["ada"]})
    assert t.mutation("users:nested_gathers") == [11, 21]

    async def from_an_async_test():
        return t.mutation("users:nested_gathers")

    assert asyncio.run(from_an_async_test()) == [11, 21]


@internal_action
async def nightly(ctx, args):
    await asyncio.sleep(5)
    # TS: const names = await ctx.runQuery(api.users.namesOf, {});
    names = await ctx.run_query("users:names_of")
    await ctx.run_mutation("users:add_all", {"names": [f"{name}-copy" for name in names]})


@mutation
def start_nightly(ctx, args):
    ctx.scheduler.run_after(0, internal.users.nightly)


def test_asyncio_gather_in_a_query_run_by_a_scheduled_action():
    t = make({"users": {"add_all": add_all, "names_of": names_of, "nightly": nightly, "start_nightly": start_nightly}})
    t.mutation("users:add_all", {"names": ["ada", "bob"]})
    t.mutation("users:start_nightly")
    t.advance(seconds=5)
    assert t.query("users:names_of") == ["ADA", "BOB", "ADA-COPY", "BOB-COPY"]
    assert [(job["state"], job["completedTime"]) for job in t.scheduled_functions()] == [
        ({"kind": "success"}, T0 + 5000)]


# --- Index ranges ------------------------------------------------------------------------------------


def test_an_index_range_may_give_its_upper_bound_first():
    # TS: .withIndex("by_n", (q) => q.lt("n", 4).gt("n", 1))
    schema = define_schema({"items": define_table({"n": v.number()}).index("by_n", ["n"])})
    t = make(schema=schema)
    t.run(lambda ctx: [ctx.db.insert("items", {"n": n}) for n in range(6)])
    found = t.query(lambda ctx: [d["n"] for d in ctx.db.query("items").with_index("by_n", lambda q: q.lt("n", 4).gt("n", 1)).collect()])
    assert found == [2.0, 3.0]


# --- Nested mutations that roll back -------------------------------------------------------------------


@internal_mutation
def write_three_then_fail(ctx, args):
    for i in range(3):
        ctx.db.insert("logs", {"i": i})
    raise ValueError("boom")


@mutation
def tolerant(ctx, args):
    # TS: try { await ctx.runMutation(internal.logs.writeThreeThenFail, {}); } catch (e) { /* ignore */ }
    try:
        ctx.run_mutation(internal.logs.write_three_then_fail)
    except ValueError:
        pass
    for i in range(3):
        ctx.db.insert("logs", {"i": 10 + i})


def test_writes_of_a_caught_nested_mutation_do_not_count_toward_the_write_limit():
    t = make({"logs": {"write_three_then_fail": write_three_then_fail, "tolerant": tolerant}})
    t.limits.max_documents_written = 3
    t.mutation("logs:tolerant")
    assert t.run(lambda ctx: [d["i"] for d in ctx.db.query("logs").collect()]) == [10, 11, 12]
    t.limits.max_documents_written = 2
    with pytest.raises(LimitExceededError, match=r"Too many writes in a single function execution \(limit: 2\)"):
        t.mutation("logs:tolerant")


# --- Schema rules ------------------------------------------------------------------------------------------


def test_table_and_field_names_follow_convexs_identifier_rule():
    # TS: defineSchema({ _logs: defineTable({ msg: v.string() }) })  -> refused at push
    with pytest.raises(SchemaDefinitionError, match="^_logs is a reserved table name."):
        define_schema({"_logs": define_table({"msg": v.string()})})
    with pytest.raises(SchemaDefinitionError, match='^Invalid table name: "log-lines". Identifiers must start with a letter'):
        define_schema({"log-lines": define_table({"msg": v.string()})})
    # TS: defineTable({ "a-b": v.string() })
    with pytest.raises(SchemaDefinitionError, match="Identifier a-b has invalid character '-'"):
        define_table({"a-b": v.string()})
    with pytest.raises(SchemaDefinitionError, match="field names starting with '_' are reserved for system fields"):
        define_table({"_a": v.string()})
    # Nested objects: identifiers too, and a leading underscore is fine there.
    table = define_table({"meta": v.object({"_source": v.string()})})
    assert list(table.validator.fields) == ["meta"]


def test_a_staged_index_is_declared_but_cannot_be_queried_yet():
    # TS: .index("by_channel", { fields: ["channel"], staged: true })
    schema = define_schema({
        "messages": define_table({"channel": v.string()})
        .index("by_channel", {"fields": ["channel"], "staged": True})
        .index("by_channel_live", {"fields": ["channel"]}),
    })
    t = make(schema=schema)
    t.run(lambda ctx: ctx.db.insert("messages", {"channel": "#general"}))
    live = t.query(lambda ctx: ctx.db.query("messages").with_index("by_channel_live", lambda q: q.eq("channel", "#general")).collect())
    assert [m["channel"] for m in live] == ["#general"]
    with pytest.raises(IndexNotFoundError) as info:
        t.query(lambda ctx: ctx.db.query("messages").with_index("by_channel").collect())
    assert str(info.value) == (
        "Index messages.by_channel is currently staged and not available to query until it is enabled.")


def test_a_table_the_schema_does_not_declare_is_writable_at_run_time():
    # TS: await ctx.db.insert("auditLog", { action: "login" })   (auditLog not in schema.ts)
    t = make(schema=define_schema({"users": define_table({"name": v.string()})}))
    log_id = t.run(lambda ctx: ctx.db.insert("auditLog", {"action": "login"}))
    assert t.run(lambda ctx: ctx.db.get(log_id))["action"] == "login"


def nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


@mutation
def echo_depth(ctx, args):
    depth, value = 0, args
    while value:
        depth, value = depth + 1, value["x"]
    return depth + 1


def test_arguments_nest_64_levels_and_documents_16():
    t = make({"deep": {"echo_depth": echo_depth}})
    # TS: await ctx.runMutation(api.deep.echoDepth, deeplyNested)  (64 levels of objects)
    assert t.mutation("deep:echo_depth", nested(64)) == 64
    with pytest.raises(Exception, match=r"Value is too nested \(nested 65 levels deep > maximum nesting 64\)"):
        t.mutation("deep:echo_depth", nested(65))
    t.run(lambda ctx: ctx.db.insert("docs", nested(16)))
    with pytest.raises(InvalidValueError, match=r"^Document is too nested \(nested 17 levels deep > maximum nesting 16\)"):
        t.run(lambda ctx: ctx.db.insert("docs", nested(17)))


# --- Errors that say what to do ----------------------------------------------------------------------


def test_ctx_storage_get_url_ports_as_written():
    # TS: await ctx.storage.getUrl(storageId)   (file storage arrived with HTTP actions: tests/test_storage.py)
    t = make()
    storage_id = t.action(lambda ctx: ctx.storage.store(b"hello", "text/plain"))
    url = t.run(lambda ctx: ctx.storage.getUrl(storage_id))
    assert t.fetch(url).content == b"hello"
    t.run(lambda ctx: ctx.storage.delete(storage_id))
    assert t.run(lambda ctx: ctx.storage.getUrl(storage_id)) is None


def test_an_inline_lambda_that_awaits_is_told_to_use_async_def():
    # TS: await t.run(async (ctx) => await insertUser(ctx))
    async def insert_user(ctx):
        return await ctx.db.insert("users", {"name": "ada"})

    t = make()
    with pytest.raises(UnsupportedInFunctionError, match=r"Use `async def`: `async def f\(ctx\): return await helper\(ctx\)`"):
        t.run(lambda ctx: insert_user(ctx))
    assert t.run(lambda ctx: ctx.db.query("users").collect()) == []  # nothing half-written


def test_debug_output_does_not_suggest_debug(tmp_path, capsys):
    from emulator.cli import main

    app = write_app(tmp_path, {"jobs.py": """
        from convex_py import mutation

        @mutation
        def fail(ctx, args):
            raise ValueError("out of stock")
    """})
    assert main(["run", str(app), "jobs:fail", "{}"]) == 1
    plain = capsys.readouterr().err
    assert plain.strip().endswith("the function raised ValueError: out of stock (--debug shows the traceback)")
    assert main(["--debug", "run", str(app), "jobs:fail", "{}"]) == 1
    debug = capsys.readouterr().err
    assert "Traceback" in debug
    assert debug.strip().endswith("the function raised ValueError: out of stock")


# --- Draining ends clean -------------------------------------------------------------------------------


@mutation
def plan(ctx, args):
    # TS: await ctx.scheduler.runAfter(0, internal.jobs.noop, {});
    #     await ctx.scheduler.runAfter(7 * DAY, internal.jobs.noop, {});
    ctx.scheduler.run_after(0, internal.jobs.noop)
    ctx.scheduler.run_after(7 * DAY, internal.jobs.noop)


@internal_mutation
def noop(ctx, args):
    return None


def test_finish_all_also_removes_jobs_whose_seven_days_end_as_it_stops():
    # TS: await t.finishAllScheduledFunctions(vi.runAllTimers);
    t = make({"jobs": {"plan": plan, "noop": noop}})
    t.mutation("jobs:plan")
    t.finish_all_scheduled_functions()
    assert t.now == T0 + 7 * DAY
    # The first job completed at T0: its 7 days end now, so it is gone without another advance.
    assert [(job["scheduledTime"], job["completedTime"]) for job in t.scheduled_functions()] == [
        (T0 + 7 * DAY, T0 + 7 * DAY)]


# --- Handlers as JavaScript writes them (found porting public apps: tests/ported_apps) --------------


@query
async def count_all(ctx):
    # TS: export const countAll = query({ args: {}, handler: async (ctx) => (await ctx.db.query("m").collect()).length });
    return len(await ctx.db.query("m").collect())


@internal_action(args={})
async def no_op():
    # TS: export const noOp = internalAction({ args: {}, handler: async () => {} });
    return None


@mutation(args={"body": v.string()})
async def add_unawaited(ctx, args):
    # TS: return ctx.db.insert("m", { body: args.body });   (an async handler returning the promise)
    return ctx.db.insert("m", {"body": args["body"]})


async def _helper(ctx):
    return 1


@mutation
async def returns_coroutine(ctx, args):
    return _helper(ctx)


def test_handlers_taking_ctx_alone_or_nothing_and_returning_an_unawaited_ctx_call():
    t = make({"m": {"count_all": count_all, "no_op": no_op, "add_unawaited": add_unawaited,
                    "returns_coroutine": returns_coroutine}})
    message_id = t.mutation("m:add_unawaited", {"body": "hi"})
    assert t.run(lambda ctx: ctx.db.get(message_id))["body"] == "hi"
    assert t.query("m:count_all") == 1
    assert t.action("m:no_op") is None
    with pytest.raises(Exception, match=r"`m:returns_coroutine` returned a coroutine: `await` it"):
        t.mutation("m:returns_coroutine")
