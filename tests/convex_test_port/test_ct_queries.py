"""Port of convex-test's convex/queries.test.ts: collect, count, indexes (also by_creation_time and
by_id), the order of values of different types, order, normalize_id, default exports."""

from __future__ import annotations

import pytest

from convex_py import UNSET, api, define_schema, define_table, v
from emulator import ConvexEmulator

from _ct import APP, match_object

pytestmark = pytest.mark.convex_app(str(APP))


# queries.test.ts: test("collect")
def test_collect(convex):
    async def seed(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello1"})
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello2"})

    convex.run(seed)
    messages = convex.query(api.queries.list)
    match_object(messages, [{"author": "sarah", "body": "hello1"}, {"author": "sarah", "body": "hello2"}])


# queries.test.ts: test("count")
def test_count(convex):
    async def seed(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello1"})
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello2"})

    convex.run(seed)
    count = convex.query(api.queries.count)
    assert count == 2.0 and type(count) is float  # Convex's backend answers a float64 (a JS number)


# queries.test.ts: test("withIndex")
def test_with_index(convex):
    async def body(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello1"})
        await ctx.db.insert("messages", {"author": "michal", "body": "hello2"})
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello2"})
        return await ctx.db.query("messages").with_index("author", lambda q: q.eq("author", "sarah")).collect()

    match_object(convex.run(body), [{"author": "sarah", "body": "hello1"}, {"author": "sarah", "body": "hello2"}])


# queries.test.ts: test("withIndex with undefined")
def test_with_index_with_undefined():
    schema = define_schema({"things": define_table({"field": v.optional(v.string())}).index("field", ["field"])})
    t = ConvexEmulator(modules={}, schema=schema)

    async def body(ctx):
        await ctx.db.insert("things", {})
        await ctx.db.insert("things", {"field": "some"})
        return await ctx.db.query("things").with_index("field", lambda q: q.eq("field", UNSET)).collect()

    things = t.run(body)
    assert len(things) == 1 and "field" not in things[0]


# queries.test.ts: describe("system index") / it("works with by_creation_time")
def test_system_index_by_creation_time():
    t = ConvexEmulator(APP, start_time="2024-05-31T00:00:00.000Z")

    async def first(ctx):
        await ctx.db.insert("messages", {"author": "A", "body": "A"})
        await ctx.db.insert("messages", {"author": "B", "body": "B"})

    t.run(first)
    t.advance_to("2024-06-02T00:00:00.000Z")
    t.run(lambda ctx: ctx.db.insert("messages", {"author": "C", "body": "C"}))
    june_1 = 1717200000000  # new Date("2024-06-01T00:00:00.000Z").getTime()

    things = t.run(
        lambda ctx: ctx.db.query("messages").with_index("by_creation_time", lambda q: q.lte("_creationTime", june_1))
        .collect()
    )
    assert [thing["author"] for thing in things] == ["A", "B"]


# queries.test.ts: describe("system index") / it("works with by_id")
def test_system_index_by_id(convex):
    async def body(ctx):
        await ctx.db.insert("messages", {"author": "A", "body": "A"})
        await ctx.db.insert("messages", {"author": "B", "body": "B"})
        return await ctx.db.query("messages").with_index("by_id").collect()

    assert len(convex.run(body)) == 2


# queries.test.ts: test("type ordering")
def test_type_ordering():
    relaxed = define_schema(
        {"messages": define_table({"author": v.optional(v.any()), "body": v.string()}).index("author", ["author"])}
    )
    t = ConvexEmulator(modules={}, schema=relaxed)
    # JavaScript's 34 and 35 are float64s, BigInt(34) an int64, undefined a missing field.
    authors = ["stringValue", "xFactor", UNSET, False, True, 34.0, 35.0, 34, None, ["a"], {"a": 1}, bytes(8)]

    async def body(ctx):
        for author in authors:
            await ctx.db.insert("messages", {"author": author, "body": "hello"})
        docs = await ctx.db.query("messages").with_index("author").order("desc").collect()
        return [doc.get("author", "UNDEFINED") for doc in docs]

    got = t.run(body)
    expected = [{"a": 1}, ["a"], bytes(8), "xFactor", "stringValue", True, False, 35.0, 34.0, 34, None, "UNDEFINED"]
    assert got == expected
    assert [type(x) for x in got] == [type(x) for x in expected]  # 34.0 (float64) before 34 (int64)


# queries.test.ts: test("order")
def test_order(convex):
    convex.run(lambda ctx: ctx.db.insert("messages", {"author": "sarah", "body": "hello1"}))
    convex.run(lambda ctx: ctx.db.insert("messages", {"author": "sarah", "body": "hello2"}))

    async def two(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello3"})
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello4"})

    convex.run(two)
    messages = convex.query(api.queries.lastN, {"count": 3})
    match_object(
        messages,
        [
            {"author": "sarah", "body": "hello2"},
            {"author": "sarah", "body": "hello3"},
            {"author": "sarah", "body": "hello4"},
        ],
    )


# queries.test.ts: test("index order")
def test_index_order(convex):
    async def body(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello3"})
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello4"})
        messages = await (
            ctx.db.query("messages").with_index("author", lambda q: q.eq("author", "sarah")).order("desc").collect()
        )
        match_object(messages, [{"body": "hello4"}, {"body": "hello3"}])

    convex.run(body)


# queries.test.ts: test("normalizeId")
def test_normalize_id(convex):
    async def body(ctx):
        message_id = await ctx.db.insert("messages", {"author": "sarah", "body": "hello"})
        assert ctx.db.normalize_id("messages", message_id) == message_id
        assert ctx.db.normalizeId("messages", "Not an ID") is None

    convex.run(body)


# queries.test.ts: test("default export")
def test_default_export(convex):
    async def seed(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello1"})
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello2"})

    convex.run(seed)
    messages = convex.query(api.queries.default)
    match_object(messages, [{"author": "sarah", "body": "hello1"}, {"author": "sarah", "body": "hello2"}])
