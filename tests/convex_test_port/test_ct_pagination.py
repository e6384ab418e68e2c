"""Port of convex-test's convex/pagination.test.ts: pages, cursors, maximumRowsRead/maximumBytesRead,
endCursor, indexes on optional fields, deletes between pages, one paginate per execution."""

from __future__ import annotations

import pytest

from convex_py import api

from _ct import APP, match_object

pytestmark = pytest.mark.convex_app(str(APP))


def _insert(*docs):
    async def body(ctx):
        for doc in docs:
            await ctx.db.insert("messages", doc)

    return body


def _m(author, body, **extra):
    return {"author": author, "body": body, **extra}


SEVEN = [_m("sarah", "hello1"), _m("michal", "boo"), _m("sarah", "hello2"), _m("sarah", "hello3"),
         _m("sarah", "hello4"), _m("michal", "boing"), _m("sarah", "hello5")]


def _page(convex, ref, cursor, num_items, **options):
    return convex.query(ref, {**options.pop("args", {}),
                              "paginationOptions": {"cursor": cursor, "numItems": num_items, **options}})


# pagination.test.ts: test("paginate")
def test_paginate(convex):
    convex.run(_insert(*SEVEN))
    first = _page(convex, api.pagination.list, None, 2, args={"author": "sarah"})
    match_object(first["page"], [_m("sarah", "hello1"), _m("sarah", "hello2")])
    assert first["isDone"] is False
    second = _page(convex, api.pagination.list, first["continueCursor"], 4, args={"author": "sarah"})
    match_object(second["page"], [_m("sarah", "hello3"), _m("sarah", "hello4"), _m("sarah", "hello5")])
    assert second["isDone"] is True
    # Querying after done returns nothing.
    third = _page(convex, api.pagination.list, second["continueCursor"], 4, args={"author": "sarah"})
    assert third["page"] == []
    assert third["isDone"] is True


# pagination.test.ts: test("paginate with maximumRowsRead")
def test_paginate_with_maximum_rows_read(convex):
    convex.run(_insert(*(_m("sarah", f"msg{i}") for i in range(10))))
    result = _page(convex, api.pagination.listAll, None, 10, maximumRowsRead=3)
    assert len(result["page"]) <= 3
    assert result["pageStatus"] == "SplitRequired"
    assert result["splitCursor"]
    assert result["isDone"] is False
    result2 = _page(convex, api.pagination.listAll, result["continueCursor"], 10)
    assert len(result["page"]) + len(result2["page"]) == 10
    assert result2["isDone"] is True


# pagination.test.ts: test("paginate with maximumBytesRead")
def test_paginate_with_maximum_bytes_read(convex):
    convex.run(_insert(*(_m("sarah", "x" * 100) for _ in range(5))))
    result = _page(convex, api.pagination.listAll, None, 10, maximumBytesRead=1)
    assert len(result["page"]) <= 1
    assert result["pageStatus"] == "SplitRequired"
    assert result["isDone"] is False


# pagination.test.ts: test("paginate with filter and maximumRowsRead")
def test_paginate_with_filter_and_maximum_rows_read(convex):
    convex.run(_insert(*(_m("sarah" if i % 3 == 0 else "michal", f"msg{i}") for i in range(10))))
    result = _page(convex, api.pagination.list, None, 10, maximumRowsRead=5, args={"author": "sarah"})
    assert result["pageStatus"] == "SplitRequired"
    assert result["isDone"] is False


# pagination.test.ts: test("paginate with endCursor")
def test_paginate_with_end_cursor(convex):
    convex.run(_insert(*(_m("sarah", f"msg{i}") for i in range(5))))
    result1 = _page(convex, api.pagination.listAll, None, 2)
    assert len(result1["page"]) == 2
    assert result1["isDone"] is False
    result2 = _page(convex, api.pagination.listAll, result1["continueCursor"], 2)
    assert len(result2["page"]) == 2
    result3 = _page(convex, api.pagination.listAll, result1["continueCursor"], 100, endCursor=result2["continueCursor"])
    assert result3["page"] == result2["page"]


# pagination.test.ts: test("paginate with index on optional field with undefined values")
def test_paginate_with_index_on_optional_field_with_undefined_values(convex):
    convex.run(_insert(_m("sarah", "hello1", score=10), _m("sarah", "hello2"), _m("sarah", "hello3", score=5),
                       _m("sarah", "hello4")))
    first = _page(convex, api.pagination.listWithOptionalFieldIndex, None, 2, args={"author": "sarah"})
    match_object(first["page"], [_m("sarah", "hello2"), _m("sarah", "hello4")])  # missing scores sort first
    assert first["isDone"] is False
    second = _page(convex, api.pagination.listWithOptionalFieldIndex, first["continueCursor"], 4,
                   args={"author": "sarah"})
    match_object(second["page"], [_m("sarah", "hello3", score=5), _m("sarah", "hello1", score=10)])
    assert second["isDone"] is True


# pagination.test.ts: test("paginate with deletes")
def test_paginate_with_deletes(convex):
    convex.run(_insert(*SEVEN))
    first = _page(convex, api.pagination.list, None, 2, args={"author": "sarah"})
    match_object(first["page"], [_m("sarah", "hello1"), _m("sarah", "hello2")])
    assert first["isDone"] is False
    convex.run(lambda ctx: ctx.db.delete(first["page"][1]["_id"]))
    second = _page(convex, api.pagination.list, first["continueCursor"], 4, args={"author": "sarah"})
    match_object(second["page"], [_m("sarah", "hello3"), _m("sarah", "hello4"), _m("sarah", "hello5")])
    assert second["isDone"] is True


def _deletes_between_pages(convex, ref, docs):
    convex.run(_insert(*docs))
    first = _page(convex, ref, None, 1, args={"author": "jordan"})
    match_object(first["page"], [_m("jordan", "hello1")])
    assert first["isDone"] is False
    convex.run(lambda ctx: ctx.db.delete(first["page"][0]["_id"]))
    second = _page(convex, ref, first["continueCursor"], 2, args={"author": "jordan"})
    match_object(second["page"], [_m("jordan", "hello2"), _m("jordan", "hello3")])
    assert second["isDone"] is False
    convex.run(lambda ctx: ctx.db.delete(second["page"][1]["_id"]))
    third = _page(convex, ref, second["continueCursor"], 1, args={"author": "jordan"})
    match_object(third["page"], [_m("jordan", "hello4")])
    assert third["isDone"] is True


# pagination.test.ts: test("paginate with deletes and indexes")
def test_paginate_with_deletes_and_indexes(convex):
    _deletes_between_pages(convex, api.pagination.listWithIndex, [
        _m("sarah", "hello1"), _m("jordan", "hello1"), _m("jordan", "hello2"), _m("jordan", "hello3"),
        _m("jordan", "hello4"),
    ])


# pagination.test.ts: test("paginate with deletes and composite index")
def test_paginate_with_deletes_and_composite_index(convex):
    _deletes_between_pages(convex, api.pagination.listWithCompositeIndex, [
        _m("sarah", "hello1"), _m("jordan", "hello2"), _m("jordan", "hello4"), _m("jordan", "hello3"),
        _m("jordan", "hello1"),
    ])


async def _paginate_once(ctx):
    return await ctx.db.query("messages").paginate({"cursor": None, "numItems": 10})


# pagination.test.ts: test("multiple paginate calls in one function execution throw")
def test_multiple_paginate_calls_in_one_function_execution_throw(convex):
    convex.run(_insert(_m("sarah", "hello")))

    async def twice(ctx):
        await _paginate_once(ctx)
        await _paginate_once(ctx)

    with pytest.raises(Exception, match="single paginated query"):
        convex.query(twice)


# pagination.test.ts: test("a single paginate call is allowed")
def test_a_single_paginate_call_is_allowed(convex):
    convex.run(_insert(_m("sarah", "hello")))
    match_object(convex.query(_paginate_once)["page"], [_m("sarah", "hello")])


# pagination.test.ts: test("paginate in separate function executions does not throw")
def test_paginate_in_separate_function_executions_does_not_throw(convex):
    convex.run(_insert(_m("sarah", "hello")))
    assert len(convex.query(_paginate_once)["page"]) == 1
    assert len(convex.query(_paginate_once)["page"]) == 1


# pagination.test.ts: test("paginate once per nested function via runQuery does not throw")
def test_paginate_once_per_nested_function_via_run_query(convex):
    convex.run(_insert(_m("sarah", "hello")))

    async def body(ctx):
        options = {"paginationOptions": {"cursor": None, "numItems": 10}}
        first = await ctx.run_query(api.pagination.listAll, options)
        second = await ctx.run_query(api.pagination.listAll, options)
        return {"first": first, "second": second}

    result = convex.action(body)
    assert len(result["first"]["page"]) == 1
    assert len(result["second"]["page"]) == 1
