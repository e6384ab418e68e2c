"""Port of convex-test's convex/withIndexUndefined.test.ts: `q.eq(field, UNSET)` in an index range
matches documents without the field, and only those (not null)."""

from __future__ import annotations

from convex_py import UNSET, define_schema, define_table, v
from emulator import ConvexEmulator


def _things(field):
    return ConvexEmulator(modules={}, schema=define_schema({"things": define_table(field).index("field", ["field"])}))


# withIndexUndefined.test.ts: test("withIndex undefined field matching")
def test_with_index_undefined_field_matching():
    t = _things({"field": v.optional(v.string()), "otherField": v.optional(v.string())})

    async def body(ctx):
        await ctx.db.insert("things", {})
        await ctx.db.insert("things", {"field": "some"})
        await ctx.db.insert("things", {"field": "other"})
        await ctx.db.insert("things", {"otherField": "value"})
        return await ctx.db.query("things").with_index("field", lambda q: q.eq("field", UNSET)).collect()

    things = t.run(body)
    assert [{k: x for k, x in d.items() if not k.startswith("_")} for d in things] == [{}, {"otherField": "value"}]


# withIndexUndefined.test.ts: test("withIndex undefined vs null distinction")
def test_with_index_undefined_vs_null_distinction():
    t = _things({"field": v.optional(v.union(v.string(), v.null()))})

    async def seed(ctx):
        await ctx.db.insert("things", {"field": None})
        await ctx.db.insert("things", {"field": "value"})
        await ctx.db.insert("things", {})

    t.run(seed)
    undefined = t.run(lambda ctx: ctx.db.query("things").with_index("field", lambda q: q.eq("field", UNSET)).collect())
    null = t.run(lambda ctx: ctx.db.query("things").with_index("field", lambda q: q.eq("field", None)).collect())
    assert len(undefined) == 1 and "field" not in undefined[0]
    assert len(null) == 1 and null[0]["field"] is None
