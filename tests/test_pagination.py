"""Pagination as Convex's: one `.paginate()` per function execution, `endCursor`, `maximumRowsRead`,
`maximumBytesRead`, `pageStatus`/`splitCursor`, and loops that split pages still visiting every
document exactly once. Cases from convex-test's pagination suite, plus Convex's backend rules."""

from __future__ import annotations

import random

import pytest

from convex_py import (
    action,
    define_schema,
    define_table,
    pagination_opts_validator,
    pagination_result_validator,
    query,
    v,
)
from convex_py.errors import ArgumentValidationError, InvalidQueryError
from emulator import ConvexEmulator, Limits

SCHEMA = define_schema(
    {
        "messages": define_table({"author": v.string(), "body": v.string(), "score": v.optional(v.number())})
        .index("author", ["author"])
        .index("author_body", ["author", "body"]),
    }
)


@query(args={"author": v.string(), "paginationOptions": pagination_opts_validator})
def list_by(ctx, args):
    return ctx.db.query("messages").filter(lambda q: q.eq(q.field("author"), args["author"])).paginate(
        args["paginationOptions"]
    )


@query(args={"paginationOptions": pagination_opts_validator})
def list_all(ctx, args):
    return ctx.db.query("messages").paginate(args["paginationOptions"])


@query(args={"author": v.string(), "paginationOptions": pagination_opts_validator})
def list_with_index(ctx, args):
    return (
        ctx.db.query("messages")
        .with_index("author", lambda q: q.eq("author", args["author"]))
        .paginate(args["paginationOptions"])
    )


@query(args={"paginationOptions": pagination_opts_validator}, returns=pagination_result_validator(v.any()))
async def list_desc(ctx, args):
    return await ctx.db.query("messages").order("desc").paginate(args["paginationOptions"])


@query
def paginate_twice(ctx, args):
    ctx.db.query("messages").paginate({"numItems": 10, "cursor": None})
    return ctx.db.query("messages").paginate({"numItems": 10, "cursor": None})


@action
def two_queries(ctx, args):
    opts = {"paginationOptions": {"numItems": 10, "cursor": None}}
    return [len(ctx.run_query(list_all, opts)["page"]), len(ctx.run_query(list_all, opts)["page"])]


@query
def nested_paginations(ctx, args):
    first = ctx.run_query(list_all, {"paginationOptions": {"numItems": 10, "cursor": None}})
    mine = ctx.db.query("messages").paginate({"numItems": 1, "cursor": None})
    return [len(first["page"]), len(mine["page"])]


MODULES = {
    "pagination": {
        "list_by": list_by,
        "list_all": list_all,
        "list_with_index": list_with_index,
        "list_desc": list_desc,
        "paginate_twice": paginate_twice,
        "two_queries": two_queries,
        "nested_paginations": nested_paginations,
    }
}


def make(**kw) -> ConvexEmulator:
    return ConvexEmulator(modules=MODULES, schema=SCHEMA, start_time="2030-01-01T00:00:00Z", **kw)


@pytest.fixture
def t() -> ConvexEmulator:
    return make()


def seed(t: ConvexEmulator, rows: list[tuple[str, str]]) -> list:
    return t.run(lambda ctx: [ctx.db.insert("messages", {"author": a, "body": b}) for a, b in rows])


def bodies(result: dict) -> list[str]:
    return [doc["body"] for doc in result["page"]]


def opts(**kw) -> dict:
    return {"paginationOptions": {"cursor": None, **kw}}


SARAH = [("sarah", "hello1"), ("michal", "boo"), ("sarah", "hello2"), ("sarah", "hello3"),
         ("sarah", "hello4"), ("michal", "boing"), ("sarah", "hello5")]


# --- Pages and cursors --------------------------------------------------------------------------


def test_paginate_with_a_filter_then_after_done(t: ConvexEmulator) -> None:
    seed(t, SARAH)
    first = t.query("pagination:list_by", {"author": "sarah", **opts(numItems=2)})
    assert bodies(first) == ["hello1", "hello2"]
    assert first["isDone"] is False
    second = t.query("pagination:list_by", {"author": "sarah", "paginationOptions": {
        "cursor": first["continueCursor"], "numItems": 4}})
    assert bodies(second) == ["hello3", "hello4", "hello5"]
    assert second["isDone"] is True
    assert second["continueCursor"] == "_end"
    after = t.query("pagination:list_by", {"author": "sarah", "paginationOptions": {
        "cursor": second["continueCursor"], "numItems": 4}})
    assert after == {"page": [], "isDone": True, "continueCursor": "_end"}


def test_an_ordinary_page_has_exactly_convex_three_fields(t: ConvexEmulator) -> None:
    seed(t, SARAH)
    result = t.query("pagination:list_all", opts(numItems=3))
    assert sorted(result) == ["continueCursor", "isDone", "page"]


def test_pagination_opts_validator_is_convex_one(t: ConvexEmulator) -> None:
    assert pagination_opts_validator.json_schema()["required"] == ["numItems", "cursor"]
    assert sorted(pagination_opts_validator.fields) == [
        "cursor", "endCursor", "id", "maximumBytesRead", "maximumRowsRead", "numItems",
    ]
    with pytest.raises(ArgumentValidationError, match="cursor"):
        t.query("pagination:list_all", {"paginationOptions": {"numItems": 2}})
    with pytest.raises(ArgumentValidationError, match="extra"):
        t.query("pagination:list_all", {"paginationOptions": {"numItems": 2, "cursor": None, "pageSize": 3}})
    # numItems arrives as a float (v.number()), as from a JavaScript client
    seed(t, SARAH)
    assert len(t.query("pagination:list_all", opts(numItems=2.0, id=7))["page"]) == 2


def test_pagination_result_validator_accepts_split_pages(t: ConvexEmulator) -> None:
    seed(t, [("a", f"m{i}") for i in range(10)])
    result = t.query("pagination:list_desc", opts(numItems=10, maximumRowsRead=4))
    assert bodies(result) == ["m9", "m8", "m7", "m6"]
    assert result["pageStatus"] == "SplitRequired"


def test_index_pagination_after_deletes(t: ConvexEmulator) -> None:
    ids = seed(t, [("sarah", "hello1"), ("jordan", "hello1"), ("jordan", "hello2"), ("jordan", "hello3"),
                   ("jordan", "hello4")])
    first = t.query("pagination:list_with_index", {"author": "jordan", **opts(numItems=1)})
    assert bodies(first) == ["hello1"]
    t.run(lambda ctx: ctx.db.delete(ids[1]))
    second = t.query("pagination:list_with_index", {"author": "jordan", "paginationOptions": {
        "cursor": first["continueCursor"], "numItems": 2}})
    assert bodies(second) == ["hello2", "hello3"] and second["isDone"] is False
    t.run(lambda ctx: ctx.db.delete(ids[3]))
    third = t.query("pagination:list_with_index", {"author": "jordan", "paginationOptions": {
        "cursor": second["continueCursor"], "numItems": 1}})
    assert bodies(third) == ["hello4"] and third["isDone"] is True


# --- maximumRowsRead, maximumBytesRead ------------------------------------------------------------


def test_maximum_rows_read_splits_the_page(t: ConvexEmulator) -> None:
    seed(t, [("sarah", f"msg{i}") for i in range(10)])
    first = t.query("pagination:list_all", opts(numItems=10, maximumRowsRead=3))
    assert bodies(first) == ["msg0", "msg1", "msg2"]
    assert first["pageStatus"] == "SplitRequired"
    assert first["isDone"] is False
    assert isinstance(first["splitCursor"], str)
    rest = t.query("pagination:list_all", {"paginationOptions": {"cursor": first["continueCursor"], "numItems": 10}})
    assert bodies(rest) == [f"msg{i}" for i in range(3, 10)]
    assert rest["isDone"] is True
    # The split cursor sits after the middle row read (Convex: cursors[len // 2]).
    head = t.query("pagination:list_all", {"paginationOptions": {
        "cursor": None, "numItems": 10, "endCursor": first["splitCursor"]}})
    assert bodies(head) == ["msg0", "msg1"]


def test_maximum_rows_read_counts_rows_before_the_filter(t: ConvexEmulator) -> None:
    seed(t, [("sarah" if i % 3 == 0 else "michal", f"msg{i}") for i in range(10)])
    first = t.query("pagination:list_by", {"author": "sarah", **opts(numItems=10, maximumRowsRead=5)})
    assert bodies(first) == ["msg0", "msg3"]  # rows 0..4 read, two of them match
    assert first["pageStatus"] == "SplitRequired" and first["isDone"] is False
    rest = t.query("pagination:list_by", {"author": "sarah", "paginationOptions": {
        "cursor": first["continueCursor"], "numItems": 10}})
    assert bodies(rest) == ["msg6", "msg9"] and rest["isDone"] is True


def test_maximum_rows_read_that_ends_with_the_range_is_done(t: ConvexEmulator) -> None:
    seed(t, [("a", f"m{i}") for i in range(3)])
    result = t.query("pagination:list_all", opts(numItems=10, maximumRowsRead=3))
    assert bodies(result) == ["m0", "m1", "m2"]
    assert result["isDone"] is True and result["continueCursor"] == "_end"
    assert result["pageStatus"] == "SplitRecommended"  # 3 rows read > 3 * 3 // 4, yet nothing is left


def test_maximum_bytes_read_stops_after_the_row_that_passes_it(t: ConvexEmulator) -> None:
    seed(t, [("sarah", "x" * 100) for _ in range(5)])
    result = t.query("pagination:list_all", opts(numItems=10, maximumBytesRead=1))
    assert len(result["page"]) == 1  # at least one row, so a loop always moves on
    assert result["pageStatus"] == "SplitRequired"
    assert result["splitCursor"] is None  # too few rows to split
    assert result["isDone"] is False


def test_split_recommended_past_three_quarters_of_the_cap(t: ConvexEmulator) -> None:
    seed(t, [("a", f"m{i}") for i in range(10)])
    result = t.query("pagination:list_all", opts(numItems=7, maximumRowsRead=8))
    assert bodies(result) == [f"m{i}" for i in range(7)]
    assert result["pageStatus"] == "SplitRecommended"  # 7 rows read > 8 * 3 // 4
    assert result["isDone"] is False
    head = t.query("pagination:list_all", {"paginationOptions": {
        "cursor": None, "numItems": 7, "endCursor": result["splitCursor"]}})
    assert bodies(head) == ["m0", "m1", "m2", "m3"]  # split after row 7 // 2 = 3 (0-based)
    calm = t.query("pagination:list_all", opts(numItems=6, maximumRowsRead=8))
    assert "pageStatus" not in calm and "splitCursor" not in calm


def test_the_transaction_read_limit_splits_a_page_instead_of_failing() -> None:
    t = make(limits=Limits(max_documents_read=4))
    seed(t, [("a" if i % 2 == 0 else "b", f"m{i}") for i in range(6)])
    result = t.query("pagination:list_by", {"author": "a", **opts(numItems=4)})
    assert bodies(result) == ["m0", "m2"]  # the fifth read passes the limit: the page ends before it
    assert result["pageStatus"] == "SplitRequired" and result["isDone"] is False
    rest = t.query("pagination:list_by", {"author": "a", "paginationOptions": {
        "cursor": result["continueCursor"], "numItems": 4}})
    assert bodies(rest) == ["m4"] and rest["isDone"] is True
    with pytest.raises(InvalidQueryError, match="Requested too many items: 5"):
        t.query("pagination:list_all", opts(numItems=5))


# --- endCursor ----------------------------------------------------------------------------------


def test_end_cursor_refetches_the_same_page(t: ConvexEmulator) -> None:
    seed(t, [("sarah", f"msg{i}") for i in range(5)])
    first = t.query("pagination:list_all", opts(numItems=2))
    second = t.query("pagination:list_all", {"paginationOptions": {"cursor": first["continueCursor"], "numItems": 2}})
    assert bodies(second) == ["msg2", "msg3"]
    again = t.query("pagination:list_all", {"paginationOptions": {
        "cursor": first["continueCursor"], "numItems": 100, "endCursor": second["continueCursor"]}})
    assert bodies(again) == ["msg2", "msg3"]
    assert again["continueCursor"] == second["continueCursor"] and again["isDone"] is False
    # A document inserted inside the page's range joins the refetched page.
    t.run(lambda ctx: ctx.db.patch(second["page"][0]["_id"], {"body": "changed"}))
    assert bodies(t.query("pagination:list_all", {"paginationOptions": {
        "cursor": first["continueCursor"], "numItems": 1, "endCursor": second["continueCursor"]}})) == [
        "changed", "msg3"]


def test_end_cursor_ignores_the_read_caps_and_the_end_of_range(t: ConvexEmulator) -> None:
    seed(t, [("a", f"m{i}") for i in range(5)])
    first = t.query("pagination:list_all", opts(numItems=4))
    capped = t.query("pagination:list_all", {"paginationOptions": {
        "cursor": None, "numItems": 1, "maximumRowsRead": 1, "endCursor": first["continueCursor"]}})
    assert bodies(capped) == ["m0", "m1", "m2", "m3"]
    assert capped["pageStatus"] == "SplitRecommended"  # read 4 rows, past 3/4 of the cap of 1
    to_end = t.query("pagination:list_all", {"paginationOptions": {
        "cursor": first["continueCursor"], "numItems": 1, "endCursor": "_end"}})
    assert bodies(to_end) == ["m4"] and to_end["isDone"] is True and to_end["continueCursor"] == "_end"


# --- A splitting loop visits every document once --------------------------------------------------


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_a_loop_that_splits_pages_visits_every_document_exactly_once(seed_value: int) -> None:
    rng = random.Random(seed_value)
    t = make()
    rows = [("sarah" if rng.random() < 0.4 else "michal", f"msg{i:03}") for i in range(120)]
    seed(t, rows)
    expected = [b for a, b in rows if a == "sarah"]
    seen: list[str] = []
    pages = [(None, None)]  # (cursor, endCursor) still to load, in order
    splits = 0
    while pages:
        cursor, end = pages.pop(0)
        options = {"cursor": cursor, "numItems": rng.randint(1, 9), "maximumRowsRead": rng.randint(1, 12)}
        if end is not None:
            options["endCursor"] = end
        result = t.query("pagination:list_by", {"author": "sarah", "paginationOptions": options})
        following = [] if result["isDone"] or end is not None else [(result["continueCursor"], None)]
        if result.get("pageStatus") is not None and result["splitCursor"] is not None:
            # Convex's client replaces the page by two: (cursor, split] and (split, continueCursor]
            splits += 1
            split = result["splitCursor"]
            pages[:0] = [(cursor, split), (split, result["continueCursor"])] + following
            continue
        seen.extend(bodies(result))
        pages[:0] = following
    assert seen == expected
    assert splits > 5


# --- One paginate per function execution ----------------------------------------------------------


def test_a_second_paginate_in_one_function_is_convex_error(t: ConvexEmulator) -> None:
    seed(t, SARAH)
    with pytest.raises(InvalidQueryError) as caught:
        t.query("pagination:paginate_twice")
    assert str(caught.value) == (
        "This query or mutation function ran multiple paginated queries. Convex only supports "
        "a single paginated query in each function."
    )

    def inline(ctx):
        ctx.db.query("messages").paginate({"numItems": 1, "cursor": None})
        ctx.db.query("messages").paginate({"numItems": 1, "cursor": None})

    with pytest.raises(InvalidQueryError, match="single paginated query"):
        t.run(inline)


def test_each_function_execution_may_paginate_once(t: ConvexEmulator) -> None:
    seed(t, SARAH)
    one = lambda ctx: len(ctx.db.query("messages").paginate({"numItems": 10, "cursor": None})["page"])  # noqa: E731
    assert [t.query(one), t.query(one)] == [7, 7]
    assert t.action("pagination:two_queries") == [7, 7]
    assert t.query("pagination:nested_paginations") == [7, 1]  # a nested query is its own execution


# --- Options Convex refuses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"numItems": 0, "cursor": None}, "Must request at least 1 document while paginating"),
        ({"numItems": -1, "cursor": None}, "`options.numItems` must be a positive number. Received `-1`."),
        ({"numItems": 32_001, "cursor": None}, "Requested too many items: 32001"),
        ({"numItems": 2, "cursor": None, "maximumRowsRead": 0},
         "maximumRowsRead and maximumBytesRead must be greater than 0"),
        ({"numItems": 2, "cursor": None, "maximumBytesRead": 0},
         "maximumRowsRead and maximumBytesRead must be greater than 0"),
    ],
)
def test_bad_options_use_convex_messages(t: ConvexEmulator, options: dict, message: str) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        t.query(lambda ctx: ctx.db.query("messages").paginate(options))
    assert str(caught.value) == message


def test_search_pages_ignore_the_read_caps_as_convex() -> None:
    schema = define_schema(
        {"notes": define_table({"body": v.string()}).search_index("search_body", {"searchField": "body"})}
    )
    t = ConvexEmulator(modules={}, schema=schema, start_time="2030-01-01T00:00:00Z")
    t.run(lambda ctx: [ctx.db.insert("notes", {"body": f"hello {i}"}) for i in range(5)])

    def page(cursor):
        return lambda ctx: ctx.db.query("notes").with_search_index("search_body", lambda q: q.search("body", "hello")) \
            .paginate({"numItems": 3, "cursor": cursor, "maximumRowsRead": 1})

    first = t.query(page(None))
    assert len(first["page"]) == 3 and first["isDone"] is False and "pageStatus" not in first
    rest = t.query(page(first["continueCursor"]))
    assert len(rest["page"]) == 2 and rest["isDone"] is True
    assert {d["body"] for d in first["page"] + rest["page"]} == {f"hello {i}" for i in range(5)}
