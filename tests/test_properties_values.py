"""Property tests: Convex's order across types, in indexes and filters, against Convex's sort-key bytes.

Each example stores one field value per document and compares what the emulator
returns (index order, index ranges, filter comparisons, values read back) with the
plain model of tests/_property_model.py.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convex_py import UNSET, define_schema, define_table, v
from emulator import ConvexEmulator

from _property_model import COMPARISONS, Cmp, Field, FilterModel, Lit, build, encode, scalars, values

T0 = 1893456000000.0
SCHEMA = define_schema({"docs": define_table(v.any()).index("by_a", ["a"])})
FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

mixed = st.one_of(scalars, scalars, values)


def stored(items: list[Any]) -> tuple[ConvexEmulator, list[dict[str, Any]]]:
    """An emulator whose `docs` and `loose` tables hold {"a": item} for each item (UNSET: no field)."""
    t = ConvexEmulator(modules={}, schema=SCHEMA, start_time=T0)
    bodies = [{} if item is UNSET else {"a": item} for item in items]
    t.run(lambda ctx: [ctx.db.insert(table, body) for body in bodies for table in ("docs", "loose")])
    docs = t.query(lambda ctx: ctx.db.query("docs").collect())
    return t, docs


def keys(docs: list[dict[str, Any]]) -> list[bytes]:
    return [encode(doc) for doc in docs]


def by_key(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(docs, key=lambda d: encode(d.get("a", UNSET)) + encode(d["_creationTime"]))


@FAST
@given(st.lists(st.one_of(mixed, st.just(UNSET)), max_size=12))
def test_values_read_back_exactly_and_index_in_convex_order(items: list[Any]) -> None:
    t, docs = stored(items)
    assert [encode(doc.get("a", UNSET)) for doc in docs] == [encode(item) for item in items]
    asc, desc = t.query(lambda ctx: [ctx.db.query("docs").with_index("by_a").order(o).collect() for o in ("asc", "desc")])
    assert keys(asc) == keys(by_key(docs))
    assert keys(desc) == keys(by_key(docs)[::-1])


@FAST
@given(st.lists(mixed, max_size=10), st.one_of(mixed, st.just(UNSET)), st.data())
def test_index_ranges_select_by_convex_order(items: list[Any], probe: Any, data: Any) -> None:
    t, docs = stored(items)
    probe = data.draw(st.sampled_from(items)) if items and data.draw(st.booleans()) else probe
    target = encode(probe)
    checks = {
        "eq": lambda k: k == target, "gt": lambda k: k > target, "gte": lambda k: k >= target,
        "lt": lambda k: k < target, "lte": lambda k: k <= target,
    }
    got = t.query(lambda ctx: {
        op: ctx.db.query("docs").with_index("by_a", lambda q: getattr(q, op)("a", probe)).collect() for op in checks
    })
    for op, test in checks.items():
        expected = [d for d in by_key(docs) if test(encode(d.get("a", UNSET)))]
        assert keys(got[op]) == keys(expected), op


@FAST
@given(st.lists(st.one_of(mixed, st.just(UNSET)), max_size=10), mixed, st.data())
def test_filter_comparisons_follow_convex_order_and_the_int_literal_rule(items: list[Any], probe: Any,
                                                                        data: Any) -> None:
    t, _ = stored(items)
    probe = data.draw(st.sampled_from([i for i in items if i is not UNSET] or [probe])) \
        if data.draw(st.booleans()) else probe
    if data.draw(st.booleans()) and type(probe) in (int, float) and probe == probe and abs(probe) < 2**53:
        probe = float(probe) if type(probe) is int else int(probe) if probe == int(probe) else probe
    exprs = [Cmp(op, Field("a"), Lit(probe)) for op in COMPARISONS] + [Cmp(op, Lit(probe), Field("a")) for op in COMPARISONS]
    for table in ("docs", "loose"):
        model = FilterModel(typed=table == "docs")
        rows = t.query(lambda ctx: ctx.db.query(table).collect())
        got = t.query(lambda ctx: [ctx.db.query(table).filter(lambda q: build(e, q)).collect() for e in exprs])
        for expr, result in zip(exprs, got):
            expected = [d for d in rows if model.value(expr, d) is True]
            assert keys(result) == keys(expected), (table, expr)


@FAST
@given(st.lists(st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "\udfff", "\x00"])),
                        max_size=4), min_size=1, max_size=6))
def test_any_text_is_stored_exactly_in_utf8_order_or_refused_whole(texts: list[str]) -> None:
    """Strings order by their UTF-8 bytes (Convex's sort keys); one with a lone surrogate is not a Convex
    string: the write fails with InvalidValueError and the mutation leaves nothing."""
    from convex_py.errors import InvalidValueError, SchemaValidationError

    t = ConvexEmulator(modules={}, schema=SCHEMA, start_time=T0)
    valid = all(not any("\ud800" <= ch <= "\udfff" for ch in text) for text in texts)
    for table in ("loose", "docs"):  # without a schema, and with one (its v.any() validator says why)
        try:
            t.run(lambda ctx: [ctx.db.insert(table, {"a": text, "list": [text], "obj": {"x": text}}) for text in texts])
        except (InvalidValueError, SchemaValidationError) as exc:
            assert not valid and "lone surrogate" in str(exc)
            assert t.query(lambda ctx: ctx.db.query(table).collect()) == []
            continue
        assert valid
        docs = t.query(lambda ctx: ctx.db.query(table).collect())
        assert [d["a"] for d in docs] == texts
        assert all(d["list"] == [d["a"]] and d["obj"] == {"x": d["a"]} for d in docs)
    if valid:
        docs = t.query(lambda ctx: ctx.db.query("docs").with_index("by_a").collect())
        assert [d["a"] for d in docs] == sorted(texts, key=lambda text: text.encode())
