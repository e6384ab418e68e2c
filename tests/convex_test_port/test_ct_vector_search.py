"""Port of convex-test's convex/vectorSearch.test.ts: `ctx.vector_search` from an action, with and
without a filter, most similar first."""

from __future__ import annotations

import pytest

from convex_py import api
from emulator import ConvexEmulator

from _ct import APP


# vectorSearch.test.ts: test("vector search")
def test_vector_search():
    # The schema's index has 1536 dimensions (as convex-test's); convex-test does not check the length
    # of vectors, Convex does, so these 3-dimensional vectors are padded with zeros.
    def vec(*xs):
        return [float(x) for x in xs] + [0.0] * (1536 - len(xs))

    t = ConvexEmulator(APP)

    async def seed(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "convex", "embedding": vec(1, 1, 1)})
        await ctx.db.insert("messages", {"author": "michal", "body": "next", "embedding": vec(0, 0, 0)})
        await ctx.db.insert("messages", {"author": "sarah", "body": "base", "embedding": vec(1, 1, 0)})
        await ctx.db.insert("messages", {"author": "michal", "body": "rad", "embedding": vec(1, 1, 0)})

    t.run(seed)
    messages = t.action(api.vectorSearch.vectorSearch, {"embedding": vec(1, 1, 1), "author": None, "limit": 3})
    assert [(m["author"], m["body"]) for m in messages] == [("sarah", "convex"), ("sarah", "base"), ("michal", "rad")]
    assert messages[0]["score"] == pytest.approx(1.0)
    assert messages[1]["score"] == pytest.approx(2 / (3 ** 0.5 * 2 ** 0.5))
    messages = t.action(api.vectorSearch.vectorSearch, {"embedding": vec(1, 1, 1), "author": "sarah", "limit": 10})
    assert [(m["author"], m["body"]) for m in messages] == [("sarah", "convex"), ("sarah", "base")]
