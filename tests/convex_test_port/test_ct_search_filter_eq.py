"""Port of convex-test's convex/searchFilterEq.test.ts: a search's `eq` filter on a missing field
(`UNSET`) matches documents without it, and only those (not null)."""

from __future__ import annotations

from convex_py import UNSET, define_schema, define_table, v
from emulator import ConvexEmulator


def _strip(docs):
    return [{k: x for k, x in d.items() if not k.startswith("_")} for d in docs]


# searchFilterEq.test.ts: test("withSearchIndex .eq with undefined values")
def test_with_search_index_eq_with_undefined_values():
    schema = define_schema({
        "messages": define_table(
            {"body": v.string(), "author": v.optional(v.string()), "deletionTime": v.optional(v.number())}
        ).search_index("body", {"searchField": "body", "filterFields": ["author", "deletionTime"]})
    })
    t = ConvexEmulator(modules={}, schema=schema)

    async def seed(ctx):
        await ctx.db.insert("messages", {"body": "Hello world", "author": "alice"})
        await ctx.db.insert("messages", {"body": "Goodbye world", "author": "bob", "deletionTime": 123456})
        await ctx.db.insert("messages", {"body": "Test message"})

    t.run(seed)

    def search(text, field, value):
        return _strip(t.run(lambda ctx: ctx.db.query("messages").with_search_index(
            "body", lambda q: q.search("body", text).eq(field, value)).collect()))

    assert search("world", "deletionTime", UNSET) == [{"body": "Hello world", "author": "alice"}]
    assert search("world", "deletionTime", 123456) == [
        {"body": "Goodbye world", "author": "bob", "deletionTime": 123456.0}
    ]
    assert search("message", "author", UNSET) == [{"body": "Test message"}]
    assert search("world", "author", "alice") == [{"body": "Hello world", "author": "alice"}]


# searchFilterEq.test.ts: test("withSearchIndex .eq undefined vs null distinction")
def test_with_search_index_eq_undefined_vs_null_distinction():
    schema = define_schema({
        "items": define_table({"name": v.string(), "status": v.optional(v.union(v.string(), v.null()))}).search_index(
            "name", {"searchField": "name", "filterFields": ["status"]}
        )
    })
    t = ConvexEmulator(modules={}, schema=schema)

    async def seed(ctx):
        await ctx.db.insert("items", {"name": "item1"})
        await ctx.db.insert("items", {"name": "item2", "status": None})
        await ctx.db.insert("items", {"name": "item3", "status": "active"})

    t.run(seed)

    def search(value):
        return _strip(t.run(lambda ctx: ctx.db.query("items").with_search_index(
            "name", lambda q: q.search("name", "item").eq("status", value)).collect()))

    # "item" is a prefix of item1..item3 only if the tokenizer keeps them whole: it does (one token each).
    assert search(UNSET) == [{"name": "item1"}]
    assert search(None) == [{"name": "item2", "status": None}]
    assert search("active") == [{"name": "item3", "status": "active"}]
