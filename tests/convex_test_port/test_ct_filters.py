"""Port of convex-test's convex/filters.test.ts: filter expressions (undefined, and, or, neq,
arithmetic, nested fields) and an index on a nested field."""

from __future__ import annotations

import pytest

from convex_py import UNSET, define_schema, define_table, v
from emulator import ConvexEmulator

from _ct import APP, match_object

pytestmark = pytest.mark.convex_app(str(APP))


# filters.test.ts: test("by undefined")
def test_by_undefined():
    schema = define_schema({"things": define_table({"field": v.optional(v.string())}).index("field", ["field"])})
    t = ConvexEmulator(modules={}, schema=schema)

    async def body(ctx):
        await ctx.db.insert("things", {})
        await ctx.db.insert("things", {"field": "some"})
        return await ctx.db.query("things").filter(lambda q: q.eq(q.field("field"), UNSET)).collect()

    things = t.run(body)
    assert len(things) == 1 and "field" not in things[0]


def _two_messages(query):
    async def body(ctx):
        await ctx.db.insert("messages", {"body": "hi", "author": "Alice"})
        await ctx.db.insert("messages", {"body": "hello", "author": "Bob"})
        return await ctx.db.query("messages").filter(query).collect()

    return body


# filters.test.ts: test("and operator")
def test_and_operator(convex):
    result = convex.run(_two_messages(lambda q: q.and_(q.eq(q.field("body"), "hi"), q.eq(q.field("author"), "Alice"))))
    match_object(result, [{"body": "hi", "author": "Alice"}])


# filters.test.ts: test("or operator")
def test_or_operator(convex):
    result = convex.run(_two_messages(lambda q: q.or_(q.eq(q.field("body"), "hi"), q.eq(q.field("body"), "hello"))))
    match_object(result, [{"body": "hi", "author": "Alice"}, {"body": "hello", "author": "Bob"}])


# filters.test.ts: test("neq operator")
def test_neq_operator(convex):
    result = convex.run(_two_messages(lambda q: q.neq(q.field("body"), "hi")))
    match_object(result, [{"body": "hello", "author": "Bob"}])


# filters.test.ts: test("math operators")
def test_math_operators(convex):
    async def body(ctx):
        await ctx.db.insert("messages", {"body": "hi", "author": "Alice", "score": 42})
        await ctx.db.insert("messages", {"body": "hello", "author": "Bob", "score": 10})
        return await ctx.db.query("messages").filter(
            lambda q: q.and_(
                q.gt(q.field("score"), 41),
                q.gte(q.field("score"), 42),
                q.lt(q.add(q.field("score"), -2), 41),
                q.lte(q.sub(q.field("score"), 2), 40),
                q.eq(q.mul(q.div(q.field("score"), 6), 2), 14),
                q.eq(q.mod(q.field("score"), 2), 0),
            )
        ).collect()

    result = convex.run(body)
    match_object(result, [{"body": "hi", "author": "Alice", "score": 42}])
    assert type(result[0]["score"]) is float  # v.number(): stored as a float64


# filters.test.ts: test("nested field")
def test_nested_field():
    schema = define_schema(
        {
            "things": define_table({"field": v.optional(v.object({"nested": v.string()}))}).index(
                "fieldNested", ["field.nested"]
            )
        }
    )
    t = ConvexEmulator(modules={}, schema=schema)

    async def body(ctx):
        await ctx.db.insert("things", {})
        await ctx.db.insert("things", {"field": {"nested": "some"}})
        things = await ctx.db.query("things").filter(lambda q: q.eq(q.field("field.nested"), "some")).collect()
        match_object(things, [{"field": {"nested": "some"}}])
        by_index = await (
            ctx.db.query("things").with_index("fieldNested", lambda q: q.eq("field.nested", "some")).collect()
        )
        match_object(by_index, [{"field": {"nested": "some"}}])

    t.run(body)
