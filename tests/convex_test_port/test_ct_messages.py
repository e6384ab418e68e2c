"""Port of convex-test's convex/messages.test.ts: a small chat app, an action calling out (mocked),
and every kind of value stored, read by get, index, filter, patched, replaced and deleted."""

from __future__ import annotations

import math

import httpx
import pytest

from convex_py import UNSET, api, define_schema, define_table, v
from emulator import ConvexEmulator

from _ct import APP, match_object

pytestmark = pytest.mark.convex_app(str(APP))


# messages.test.ts: test("messages")
def test_messages(convex):
    convex.mutation(api.messages.send, {"body": "hello", "author": "sarah"})
    convex.mutation(api.messages.send, {"body": "hello", "author": "tom"})
    by_sarah = convex.with_identity({"name": "sarah"}).query(api.messages.listByAuth)
    assert len(by_sarah) == 1
    assert len(convex.run(lambda ctx: ctx.db.query("messages").collect())) == 2


# messages.test.ts: test("ai") (vi.stubGlobal("fetch") becomes monkeypatching httpx)
def test_ai(convex, monkeypatch):
    sent = []

    async def fake_post(self, url, **kwargs):
        sent.append((url, kwargs["content"]))
        return httpx.Response(200, text="I am the overlord")

    monkeypatch.setattr(httpx.AsyncClient, "post", fake_post)
    convex.action(api.messages.sendAIMessage, {"prompt": "hello"})
    match_object(convex.query(api.messages.list), [{"author": "AI", "body": "I am the overlord"}])
    assert sent == [("https://api.openai.com/", '{"model": "gpt89", "prompt": "hello"}')]


def _same(a, b):
    """Equal as Convex values: same type, NaN equal to NaN, -0.0 distinct from 0.0."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


BODIES = [
    "stringValue", UNSET, True, 35.0, 34, None, ["a"], [34], {"a": 1.0}, {"a": 34}, bytes(8),
    math.inf, -math.inf, -0.0, math.nan,
]


# messages.test.ts: test("all types serde")
@pytest.mark.parametrize("value", BODIES, ids=[
    "string", "undefined", "boolean", "float64", "int64", "null", "array", "array of int64", "object",
    "object of int64", "bytes", "+inf", "-inf", "-0", "NaN",
])
def test_all_types_serde(value):
    relaxed = define_schema({"messages": define_table({"body": v.optional(v.any())}).index("body", ["body"])})
    t = ConvexEmulator(modules={}, schema=relaxed)

    def check(doc):
        assert doc is not None
        if value is UNSET:
            assert "body" not in doc
        else:
            assert _same(doc["body"], value), (doc["body"], value)

    async def body(ctx):
        id = await ctx.db.insert("messages", {"body": value})
        check(await ctx.db.get(id))
        check(await ctx.db.query("messages").with_index("body", lambda q: q.eq("body", value)).unique())
        check(await ctx.db.query("messages").filter(lambda q: q.eq(q.field("body"), value)).unique())
        await ctx.db.patch(id, {"body": value})
        check(await ctx.db.get(id))
        await ctx.db.replace(id, {"body": value})
        check(await ctx.db.get(id))
        await ctx.db.delete(id)
        assert await ctx.db.get(id) is None

    t.run(body)
