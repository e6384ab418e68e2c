"""Port of convex-test's convex/indexes.test.ts: index ranges that TypeScript's types forbid are
errors at run time; bounds in either order are fine."""

from __future__ import annotations

import pytest

from convex_py.errors import InvalidQueryError

from _ct import APP

pytestmark = pytest.mark.convex_app(str(APP))

BAD_RANGES = [
    # indexes.test.ts: test("index must use only its fields")
    ("author", lambda q: q.eq("author", "sarah").eq("body", "hello1")),
    # indexes.test.ts: test("index must use only its fields, by_id")
    ("by_id", lambda q: q.eq("_creationTime", 3)),
    # indexes.test.ts: test("index must use only its fields, by_creation_time")
    ("by_creation_time", lambda q: q.eq("_id", 3)),
    # indexes.test.ts: test("_id is always last indexed field gt gt")
    ("author", lambda q: q.eq("author", "sarah").gt("_creationTime", 3).gt("_id", "someId")),
    # indexes.test.ts: test("_id is always last indexed field lt lt")
    ("author", lambda q: q.eq("author", "sarah").lt("_creationTime", 3).lt("_id", "someId")),
    # indexes.test.ts: test("_id is always last indexed field lt gt")
    ("author", lambda q: q.eq("author", "sarah").lt("_creationTime", 3).gt("_id", "someId")),
    # indexes.test.ts: test("_id is always last indexed field gt lt") (its body chains .eq after .lt)
    ("author", lambda q: q.eq("author", "sarah").lt("_creationTime", 3).eq("_id", "someId")),
]


@pytest.mark.parametrize("index, range_fn", BAD_RANGES, ids=[
    "only its fields", "only its fields, by_id", "only its fields, by_creation_time",
    "_id last gt gt", "_id last lt lt", "_id last lt gt", "_id last gt lt",
])
def test_index_range_outside_the_index_throws(convex, index, range_fn):
    async def body(ctx):
        with pytest.raises(InvalidQueryError):
            await ctx.db.query("messages").with_index(index, range_fn).collect()

    convex.run(body)


def _seed(ctx):
    for author in ("aaa", "nipunn", "pat", "sarah", "zed"):
        ctx.db.insert("messages", {"author": author, "body": "hi"})


# indexes.test.ts: test("gt,lt in range of indexed field")
def test_gt_lt_in_range_of_indexed_field(convex):
    def body(ctx):
        _seed(ctx)
        docs = ctx.db.query("messages").with_index("author", lambda q: q.gt("author", "nipunn").lt("author", "sarah"))
        return [d["author"] for d in docs.collect()]

    assert convex.run(body) == ["pat"]


# indexes.test.ts: test("lt,gt in range of indexed field")
def test_lt_gt_in_range_of_indexed_field(convex):
    def body(ctx):
        _seed(ctx)
        docs = ctx.db.query("messages").with_index("author", lambda q: q.lt("author", "sarah").gt("author", "nipunn"))
        return [d["author"] for d in docs.collect()]

    assert convex.run(body) == ["pat"]


# indexes.test.ts: test("gt,lt,lt in range of indexed field")
def test_gt_lt_gt_in_range_of_indexed_field(convex):
    async def body(ctx):
        with pytest.raises(InvalidQueryError, match=r"only one lower bound"):
            await ctx.db.query("messages").with_index(
                "author", lambda q: q.gt("author", "nipunn").lt("author", "sarah").gt("author", "aaa")
            ).collect()

    convex.run(body)
