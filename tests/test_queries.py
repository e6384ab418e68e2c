"""The query builder: index ranges and their rules, order, filters, collect/take/first/unique,
iteration, pagination (including across deletes), missing fields versus null."""

from __future__ import annotations

import pytest

from convex_py import UNSET, define_schema, define_table, query, v
from convex_py.errors import InvalidQueryError, NotUniqueError
from emulator import ConvexEmulator

START = "2030-01-01T00:00:00Z"

SCHEMA = define_schema(
    {
        "items": define_table(
            {
                "cat": v.string(),
                "n": v.int64(),
                "price": v.float64(),
                "tag": v.optional(v.union(v.string(), v.null())),
                "meta": v.optional(v.object({"color": v.string(), "size": v.optional(v.int64())})),
            }
        )
        .index("by_cat_n", ["cat", "n"])
        .index("by_n", ["n"])
        .index("by_tag", ["tag"])
        .index("by_color", ["meta.color"]),
    }
)

ROWS = [
    # (cat, n, price, tag, meta)
    ("a", 1, 1.5, "x", {"color": "red", "size": 1}),
    ("a", 2, 2.5, None, {"color": "blue"}),
    ("a", 3, 3.5, UNSET, UNSET),
    ("b", 1, 10.0, "y", {"color": "red", "size": 3}),
    ("b", 2, 20.0, UNSET, {"color": "green", "size": 2}),
    ("b", 5, 50.0, "x", UNSET),
    ("c", 4, -1.0, None, {"color": "blue", "size": 7}),
]


def row(cat, n, price, tag, meta):
    doc = {"cat": cat, "n": n, "price": price}
    if tag is not UNSET:
        doc["tag"] = tag
    if meta is not UNSET:
        doc["meta"] = meta
    return doc


async def _async_iter(ctx, args):
    out = []
    async for doc in ctx.db.query("items").with_index("by_n").order("desc"):
        out.append(doc["n"])
    page = await ctx.db.query("items").paginate({"numItems": 2, "cursor": None})
    taken = await ctx.db.query("items").take(2)
    unique = await ctx.db.query("items").with_index("by_cat_n", lambda q: q.eq("cat", "c")).unique()
    return {"ns": out, "page": len(page["page"]), "taken": len(taken), "unique": unique["n"]}


@pytest.fixture
def t() -> ConvexEmulator:
    emu = ConvexEmulator(modules={"items": {"async_iter": query(_async_iter)}}, schema=SCHEMA, start_time=START)
    emu.run(lambda ctx: [ctx.db.insert("items", row(*r)) for r in ROWS])
    return emu


def keys(docs) -> list[tuple[str, int]]:
    return [(d["cat"], d["n"]) for d in docs]


def q_index(t: ConvexEmulator, index: str, rng=None, order: str = "asc"):
    return keys(t.query(lambda ctx: ctx.db.query("items").with_index(index, rng).order(order).collect()))


def q_filter(t: ConvexEmulator, predicate):
    return keys(t.query(lambda ctx: ctx.db.query("items").filter(predicate).collect()))


ALL = [(c, n) for c, n, *_ in ROWS]


# --- with_index ranges --------------------------------------------------------------------------------------


def test_index_without_range_orders_by_fields(t: ConvexEmulator) -> None:
    assert q_index(t, "by_cat_n") == [("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("b", 5), ("c", 4)]
    assert q_index(t, "by_n") == [("a", 1), ("b", 1), ("a", 2), ("b", 2), ("a", 3), ("c", 4), ("b", 5)]
    assert q_index(t, "by_n", order="desc") == [("b", 5), ("c", 4), ("a", 3), ("b", 2), ("a", 2), ("b", 1), ("a", 1)]


def test_eq_prefix(t: ConvexEmulator) -> None:
    assert q_index(t, "by_cat_n", lambda q: q.eq("cat", "b")) == [("b", 1), ("b", 2), ("b", 5)]
    assert q_index(t, "by_cat_n", lambda q: q.eq("cat", "b").eq("n", 2)) == [("b", 2)]
    assert q_index(t, "by_cat_n", lambda q: q.eq("cat", "z")) == []
    assert q_index(t, "by_cat_n", lambda q: q.eq("cat", "b"), order="desc") == [("b", 5), ("b", 2), ("b", 1)]


@pytest.mark.parametrize(
    "rng, expected",
    [
        (lambda q: q.eq("cat", "b").gt("n", 1), [("b", 2), ("b", 5)]),
        (lambda q: q.eq("cat", "b").gte("n", 2), [("b", 2), ("b", 5)]),
        (lambda q: q.eq("cat", "b").lt("n", 5), [("b", 1), ("b", 2)]),
        (lambda q: q.eq("cat", "b").lte("n", 2), [("b", 1), ("b", 2)]),
        (lambda q: q.eq("cat", "b").gt("n", 1).lt("n", 5), [("b", 2)]),
        (lambda q: q.eq("cat", "b").gte("n", 1).lte("n", 5), [("b", 1), ("b", 2), ("b", 5)]),
        (lambda q: q.eq("cat", "b").gt("n", 5), []),
        (lambda q: q.eq("cat", "b").gt("n", 3).lt("n", 2), []),
        (lambda q: q.gt("cat", "a"), [("b", 1), ("b", 2), ("b", 5), ("c", 4)]),
        (lambda q: q.gte("cat", "b").lt("cat", "c"), [("b", 1), ("b", 2), ("b", 5)]),
        (lambda q: q.lte("cat", "a"), [("a", 1), ("a", 2), ("a", 3)]),
    ],
)
def test_range_bounds(t: ConvexEmulator, rng, expected) -> None:
    assert q_index(t, "by_cat_n", rng) == expected
    assert q_index(t, "by_cat_n", rng, order="desc") == list(reversed(expected))


def test_range_on_single_field_index(t: ConvexEmulator) -> None:
    assert q_index(t, "by_n", lambda q: q.gte("n", 2).lt("n", 5)) == [("a", 2), ("b", 2), ("a", 3), ("c", 4)]
    assert q_index(t, "by_n", lambda q: q.gt("n", 4)) == [("b", 5)]


def test_range_on_nested_field_index(t: ConvexEmulator) -> None:
    assert q_index(t, "by_color", lambda q: q.eq("meta.color", "red")) == [("a", 1), ("b", 1)]
    # Documents without the field sort first, as missing.
    assert q_index(t, "by_color", lambda q: q.eq("meta.color", UNSET)) == [("a", 3), ("b", 5)]
    assert q_index(t, "by_color")[:2] == [("a", 3), ("b", 5)]


@pytest.mark.parametrize(
    "rng",
    [
        pytest.param(lambda q: q.gt("cat", "a").eq("n", 1), id="eq-after-lower-bound"),
        pytest.param(lambda q: q.lt("cat", "c").eq("n", 1), id="eq-after-upper-bound"),
        pytest.param(lambda q: q.eq("n", 1), id="out-of-order-field"),
        pytest.param(lambda q: q.gt("n", 1), id="bound-skipping-a-field"),
        pytest.param(lambda q: q.eq("price", 1.5), id="not-an-index-field"),
        pytest.param(lambda q: q.eq("cat", "a").eq("n", 1).eq("price", 1.5), id="eq-past-the-last-field"),
        pytest.param(lambda q: q.eq("cat", "a").gt("n", 1).gte("n", 2), id="two-lower-bounds"),
        pytest.param(lambda q: q.eq("cat", "a").gt("n", 1).gt("n", 2), id="two-gt"),
        pytest.param(lambda q: q.eq("cat", "a").lt("n", 1).lte("n", 2), id="two-upper-bounds"),
        pytest.param(lambda q: q.gt("cat", "a").lt("n", 3), id="bounds-on-two-fields"),
        pytest.param(lambda q: q.eq("cat", "a").eq("cat", "b"), id="eq-twice-on-a-field"),
    ],
)
def test_bad_index_ranges(t: ConvexEmulator, rng) -> None:
    with pytest.raises(InvalidQueryError):
        t.query(lambda ctx: ctx.db.query("items").with_index("by_cat_n", rng).collect())


def test_range_function_must_return_the_builder(t: ConvexEmulator) -> None:
    def forgot_return(q):
        q.eq("cat", "a")

    with pytest.raises(InvalidQueryError):
        t.query(lambda ctx: ctx.db.query("items").with_index("by_cat_n", forgot_return).collect())


def test_with_index_after_filter_or_twice_is_an_error(t: ConvexEmulator) -> None:
    with pytest.raises(InvalidQueryError):
        t.query(lambda ctx: ctx.db.query("items").with_index("by_n").with_index("by_cat_n").collect())
    with pytest.raises(InvalidQueryError):
        t.query(lambda ctx: ctx.db.query("items").filter(lambda q: True).with_index("by_n").collect())


def test_bad_order(t: ConvexEmulator) -> None:
    with pytest.raises(InvalidQueryError):
        t.query(lambda ctx: ctx.db.query("items").order("up").collect())


# --- Missing fields versus null ------------------------------------------------------------------------------


def test_eq_on_missing_field_versus_null_in_an_index(t: ConvexEmulator) -> None:
    assert q_index(t, "by_tag", lambda q: q.eq("tag", None)) == [("a", 2), ("c", 4)]
    assert q_index(t, "by_tag", lambda q: q.eq("tag", UNSET)) == [("a", 3), ("b", 2)]
    assert q_index(t, "by_tag", lambda q: q.eq("tag", "x")) == [("a", 1), ("b", 5)]
    # missing < null < strings
    assert q_index(t, "by_tag") == [("a", 3), ("b", 2), ("a", 2), ("c", 4), ("a", 1), ("b", 5), ("b", 1)]
    assert q_index(t, "by_tag", lambda q: q.gt("tag", UNSET)) == [("a", 2), ("c", 4), ("a", 1), ("b", 5), ("b", 1)]


def test_eq_on_missing_field_versus_null_in_a_filter(t: ConvexEmulator) -> None:
    assert q_filter(t, lambda q: q.eq(q.field("tag"), None)) == [("a", 2), ("c", 4)]
    assert q_filter(t, lambda q: q.eq(q.field("tag"), UNSET)) == [("a", 3), ("b", 2)]
    assert q_filter(t, lambda q: q.neq(q.field("tag"), None)) == [("a", 1), ("a", 3), ("b", 1), ("b", 2), ("b", 5)]
    assert q_filter(t, lambda q: q.eq(q.field("nothing.here"), UNSET)) == ALL
    # missing sorts before null
    assert q_filter(t, lambda q: q.lt(q.field("tag"), None)) == [("a", 3), ("b", 2)]
    assert q_filter(t, lambda q: q.lte(q.field("tag"), None)) == [("a", 2), ("a", 3), ("b", 2), ("c", 4)]


# --- Filters -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "predicate, expected",
    [
        (lambda q: q.eq(q.field("n"), 2), [("a", 2), ("b", 2)]),
        (lambda q: q.neq(q.field("cat"), "a"), [("b", 1), ("b", 2), ("b", 5), ("c", 4)]),
        (lambda q: q.lt(q.field("n"), 2), [("a", 1), ("b", 1)]),
        (lambda q: q.lte(q.field("n"), 2), [("a", 1), ("a", 2), ("b", 1), ("b", 2)]),
        (lambda q: q.gt(q.field("n"), 3), [("b", 5), ("c", 4)]),
        (lambda q: q.gte(q.field("n"), 3), [("a", 3), ("b", 5), ("c", 4)]),
        (lambda q: q.eq(2, q.field("n")), [("a", 2), ("b", 2)]),
        (lambda q: q.and_(q.eq(q.field("cat"), "b"), q.gt(q.field("n"), 1)), [("b", 2), ("b", 5)]),
        (lambda q: q.or_(q.eq(q.field("cat"), "c"), q.eq(q.field("n"), 1)), [("a", 1), ("b", 1), ("c", 4)]),
        (lambda q: q.not_(q.eq(q.field("cat"), "a")), [("b", 1), ("b", 2), ("b", 5), ("c", 4)]),
        (
            lambda q: q.and_(q.eq(q.field("cat"), "a"), q.not_(q.or_(q.eq(q.field("n"), 1), q.eq(q.field("n"), 3)))),
            [("a", 2)],
        ),
        (lambda q: q.eq(q.add(q.field("n"), 1), 3), [("a", 2), ("b", 2)]),
        (lambda q: q.eq(q.sub(q.field("n"), 1), 0), [("a", 1), ("b", 1)]),
        (lambda q: q.eq(q.mul(q.field("n"), 10), 50), [("b", 5)]),
        (lambda q: q.gte(q.div(q.field("price"), 2.0), 10.0), [("b", 2), ("b", 5)]),
        (lambda q: q.eq(q.mod(q.field("n"), 2), 0), [("a", 2), ("b", 2), ("c", 4)]),
        (lambda q: q.gt(q.neg(q.field("price")), 0.0), [("c", 4)]),
        (lambda q: q.gt(q.field("price"), q.mul(q.field("price"), 2.0)), [("c", 4)]),
        (lambda q: q.eq(q.field("meta.color"), "red"), [("a", 1), ("b", 1)]),
        (lambda q: q.gte(q.field("meta.size"), 3), [("b", 1), ("c", 4)]),
        (lambda q: q.eq(q.field("meta"), {"color": "blue"}), [("a", 2)]),
        (lambda q: q.eq(q.field("cat"), q.field("cat")), ALL),
        (lambda q: True, ALL),
        (lambda q: False, []),
    ],
)
def test_filters(t: ConvexEmulator, predicate, expected) -> None:
    assert q_filter(t, predicate) == expected


def test_filter_after_index_and_several_filters(t: ConvexEmulator) -> None:
    docs = t.query(
        lambda ctx: ctx.db.query("items")
        .with_index("by_cat_n", lambda q: q.eq("cat", "b"))
        .order("desc")
        .filter(lambda q: q.gt(q.field("n"), 1))
        .filter(lambda q: q.neq(q.field("tag"), "x"))
        .collect()
    )
    assert keys(docs) == [("b", 2)]


def test_filter_with_python_boolean_operators_is_refused(t: ConvexEmulator) -> None:
    with pytest.raises(InvalidQueryError):
        t.query(lambda ctx: ctx.db.query("items").filter(lambda q: q.eq(q.field("n"), 1) and q.eq(q.field("cat"), "a")).collect())


def test_filter_must_return_an_expression(t: ConvexEmulator) -> None:
    with pytest.raises(InvalidQueryError):
        t.query(lambda ctx: ctx.db.query("items").filter(lambda q: "yes").collect())


# --- collect / take / first / unique / iteration --------------------------------------------------------------


def test_collect_take_first(t: ConvexEmulator) -> None:
    def go(ctx):
        q = lambda: ctx.db.query("items").with_index("by_n")  # noqa: E731
        return (
            keys(q().take(3)),
            keys(q().take(0)),
            keys(q().take(100)),
            q().first()["n"],
            q().order("desc").first()["n"],
            ctx.db.query("items").filter(lambda f: f.gt(f.field("n"), 99)).first(),
        )

    take3, take0, take_all, first, last, none = t.query(go)
    assert take3 == [("a", 1), ("b", 1), ("a", 2)]
    assert take0 == []
    assert len(take_all) == 7
    assert (first, last, none) == (1, 5, None)


def test_unique(t: ConvexEmulator) -> None:
    one = t.query(lambda ctx: ctx.db.query("items").with_index("by_cat_n", lambda q: q.eq("cat", "c")).unique())
    assert (one["cat"], one["n"]) == ("c", 4)
    none = t.query(lambda ctx: ctx.db.query("items").with_index("by_cat_n", lambda q: q.eq("cat", "z")).unique())
    assert none is None
    with pytest.raises(NotUniqueError):
        t.query(lambda ctx: ctx.db.query("items").with_index("by_cat_n", lambda q: q.eq("cat", "a")).unique())


def test_iteration(t: ConvexEmulator) -> None:
    def go(ctx):
        return [(d["cat"], d["n"]) for d in ctx.db.query("items").with_index("by_cat_n", lambda q: q.eq("cat", "a"))]

    assert t.query(go) == [("a", 1), ("a", 2), ("a", 3)]


def test_iteration_can_stop_early(t: ConvexEmulator) -> None:
    def go(ctx):
        for doc in ctx.db.query("items").order("desc"):
            return doc["n"]

    assert t.query(go) == 4


def test_async_iteration_and_awaited_results(t: ConvexEmulator) -> None:
    assert t.query("items:async_iter") == {"ns": [5, 4, 3, 2, 2, 1, 1], "page": 2, "taken": 2, "unique": 4}


def test_a_mutation_can_write_while_iterating(t: ConvexEmulator) -> None:
    def go(ctx):
        for doc in ctx.db.query("items").with_index("by_cat_n", lambda q: q.eq("cat", "a")):
            ctx.db.patch(doc["_id"], {"n": doc["n"] + 100})
        return keys(ctx.db.query("items").with_index("by_cat_n", lambda q: q.eq("cat", "a")).collect())

    assert t.run(go) == [("a", 101), ("a", 102), ("a", 103)]


def test_collected_documents_are_copies(t: ConvexEmulator) -> None:
    def go(ctx):
        docs = ctx.db.query("items").collect()
        docs[0]["cat"] = "mutated"
        docs[0]["meta"]["color"] = "mutated"
        return ctx.db.query("items").first()

    first = t.run(go)
    assert first["cat"] == "a" and first["meta"]["color"] == "red"


def test_query_sees_writes_of_its_own_mutation(t: ConvexEmulator) -> None:
    def go(ctx):
        ctx.db.insert("items", {"cat": "a", "n": 0, "price": 0.0})
        first = ctx.db.query("items").with_index("by_cat_n", lambda q: q.eq("cat", "a")).first()
        return first["n"]

    assert t.run(go) == 0


# --- Pagination -----------------------------------------------------------------------------------------------


def paginate(t: ConvexEmulator, n: int, cursor, index: str | None = None, order: str = "asc", rng=None):
    def go(ctx):
        q = ctx.db.query("items")
        if index:
            q = q.with_index(index, rng)
        return q.order(order).paginate({"numItems": n, "cursor": cursor})

    return t.query(go)


def walk(t: ConvexEmulator, n: int, **kw) -> list[list[tuple[str, int]]]:
    pages = []
    cursor = None
    for _ in range(50):
        result = paginate(t, n, cursor, **kw)
        assert set(result) == {"page", "isDone", "continueCursor"}
        assert isinstance(result["continueCursor"], str)
        pages.append(keys(result["page"]))
        if result["isDone"]:
            return pages
        cursor = result["continueCursor"]
    raise AssertionError("pagination never finished")


def check_pages(pages: list[list], n: int, expected: list) -> None:
    assert [k for page in pages for k in page] == expected
    assert all(len(page) == n for page in pages[:-1])
    assert len(pages[-1]) <= n


def test_first_page(t: ConvexEmulator) -> None:
    result = paginate(t, 3, None)
    assert keys(result["page"]) == ALL[:3]
    assert result["isDone"] is False


def test_walk_all_pages_in_creation_order(t: ConvexEmulator) -> None:
    check_pages(walk(t, 3), 3, ALL)
    check_pages(walk(t, 1), 1, ALL)
    check_pages(walk(t, 7), 7, ALL)
    check_pages(walk(t, 100), 100, ALL)
    assert walk(t, 100) == [ALL]


def test_walk_pages_of_an_index_range_descending(t: ConvexEmulator) -> None:
    expected = [("b", 5), ("c", 4), ("a", 3), ("b", 2), ("a", 2), ("b", 1), ("a", 1)]
    check_pages(walk(t, 2, index="by_n", order="desc"), 2, expected)
    check_pages(walk(t, 2, index="by_cat_n", rng=lambda q: q.eq("cat", "b")), 2, [("b", 1), ("b", 2), ("b", 5)])


def test_pagination_on_an_empty_result(t: ConvexEmulator) -> None:
    result = paginate(t, 5, None, index="by_cat_n", rng=lambda q: q.eq("cat", "zzz"))
    assert result["page"] == [] and result["isDone"] is True


def test_pagination_survives_deleting_the_cursor_document(t: ConvexEmulator) -> None:
    first = paginate(t, 2, None, index="by_n")
    assert keys(first["page"]) == [("a", 1), ("b", 1)]
    last_id = first["page"][-1]["_id"]
    t.run(lambda ctx: ctx.db.delete(last_id))
    second = paginate(t, 2, first["continueCursor"], index="by_n")
    assert keys(second["page"]) == [("a", 2), ("b", 2)]
    rest = paginate(t, 10, second["continueCursor"], index="by_n")
    assert keys(rest["page"]) == [("a", 3), ("c", 4), ("b", 5)]
    assert rest["isDone"] is True


def test_pagination_survives_deleting_the_cursor_document_descending(t: ConvexEmulator) -> None:
    first = paginate(t, 3, None, index="by_n", order="desc")
    assert keys(first["page"]) == [("b", 5), ("c", 4), ("a", 3)]
    t.run(lambda ctx: ctx.db.delete(first["page"][-1]["_id"]))
    second = paginate(t, 3, first["continueCursor"], index="by_n", order="desc")
    assert keys(second["page"]) == [("b", 2), ("a", 2), ("b", 1)]


def test_pagination_survives_deleting_the_cursor_document_in_a_table_scan(t: ConvexEmulator) -> None:
    first = paginate(t, 3, None)
    t.run(lambda ctx: [ctx.db.delete(d["_id"]) for d in first["page"]])
    second = paginate(t, 3, first["continueCursor"])
    assert keys(second["page"]) == ALL[3:6]


def test_pagination_sees_documents_inserted_after_the_cursor(t: ConvexEmulator) -> None:
    first = paginate(t, 2, None, index="by_n")
    t.run(lambda ctx: ctx.db.insert("items", {"cat": "z", "n": 1, "price": 0.0}))  # after ("b", 1) in by_n
    t.run(lambda ctx: ctx.db.insert("items", {"cat": "z", "n": 0, "price": 0.0}))  # before the cursor
    second = paginate(t, 2, first["continueCursor"], index="by_n")
    assert keys(second["page"]) == [("z", 1), ("a", 2)]


def test_pagination_with_a_filter(t: ConvexEmulator) -> None:
    def go(cursor):
        return t.query(
            lambda ctx: ctx.db.query("items")
            .filter(lambda q: q.neq(q.field("cat"), "a"))
            .paginate({"numItems": 2, "cursor": cursor})
        )

    pages, cursor = [], None
    while True:
        result = go(cursor)
        pages.append(keys(result["page"]))
        if result["isDone"]:
            break
        cursor = result["continueCursor"]
    assert [k for p in pages for k in p] == [("b", 1), ("b", 2), ("b", 5), ("c", 4)]


@pytest.mark.parametrize("options", [{}, {"numItems": -1, "cursor": None}, {"numItems": "2", "cursor": None}, None])
def test_bad_pagination_options(t: ConvexEmulator, options) -> None:
    with pytest.raises(InvalidQueryError):
        t.query(lambda ctx: ctx.db.query("items").paginate(options))


def test_bad_cursor(t: ConvexEmulator) -> None:
    with pytest.raises(InvalidQueryError):
        paginate(t, 2, "not a cursor")


def test_cursor_from_another_index_is_refused(t: ConvexEmulator) -> None:
    cursor = paginate(t, 2, None, index="by_n")["continueCursor"]
    with pytest.raises(InvalidQueryError):
        paginate(t, 2, cursor, index="by_tag")
