"""`ObjectValidator.sized`: the one-pass check, copy and size of the hot path agrees with the long way.

Arguments, documents and return values go through `sized` first; whenever it answers, its
copy must equal `validate`'s (same values, same types, same field order) and its size must be
what `copy_value` counts (Convex's `getConvexSize`). When it cannot answer (None), the
caller takes the long way, which gives the exact error.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convex_py import define_schema, define_table, mutation, v
from convex_py._validators import ObjectValidator
from convex_py._values import copy_value, make_id
from convex_py.errors import ArgumentValidationError, SchemaValidationError, ValidationError
from emulator import ConvexEmulator

FIELDS = {
    "a": v.string(),
    "b": v.number(),
    "c": v.optional(v.boolean()),
    "d": v.null(),
    "e": v.id("t"),
    "f": v.optional(v.string()),
}
VALIDATOR = ObjectValidator(FIELDS)

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=6), st.sampled_from(["h\u00e9", "\ud800", "", "abc"]), st.binary(max_size=3),
    st.sampled_from([make_id("t", 3), str(make_id("t", 4)), make_id("u", 5), "zz" * 16]),
    st.lists(st.integers(), max_size=2),
)


def _long_way(value: dict) -> tuple[dict, int] | None:
    try:
        out = VALIDATOR.validate(value)
    except ValidationError:
        return None
    return out, copy_value(out)[1]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefg"), SCALARS, max_size=7))
def test_sized_agrees_with_validate_and_copy_value(value: dict) -> None:
    fast = VALIDATOR.sized(value)
    if fast is None:
        return  # the caller takes the long way
    expected = _long_way(value)
    assert expected is not None, f"sized accepted {value!r}, validate rejects it"
    out, size = fast
    assert out == expected[0]
    assert list(out) == list(expected[0])
    assert [type(x) for x in out.values()] == [type(x) for x in expected[0].values()]
    assert size == expected[1]


def test_sized_answers_the_common_flat_value() -> None:
    value = {"a": "abc", "b": 2, "d": None, "e": make_id("t", 9), "f": "xy"}
    out, size = VALIDATOR.sized(value)
    assert out == {"a": "abc", "b": 2.0, "d": None, "e": make_id("t", 9), "f": "xy"}
    assert type(out["b"]) is float
    assert out is not value
    # 2 + a: 2+2+3, b: 2+9, d: 2+1, e: 2+2+32, f: 2+2+2
    assert size == 2 + 7 + 11 + 3 + 36 + 6 == copy_value(out)[1]


@pytest.mark.parametrize("value", [
    {"a": "h\u00e9", "b": 1.0, "d": None, "e": make_id("t", 1)},  # not ASCII: sized by the long way
    {"a": "x", "b": 1.0, "d": None, "e": make_id("u", 1)},  # an id of another table
    {"a": "x", "b": 1.0, "d": None, "e": make_id("t", 1), "z": 1},  # an extra field
    {"a": "x", "b": True, "d": None, "e": make_id("t", 1)},  # a bool is not a number
])
def test_sized_leaves_the_unusual_to_the_long_way(value: dict) -> None:
    assert VALIDATOR.sized(value) is None


def test_a_mismatch_still_gets_the_full_error_text() -> None:
    schema = define_schema({"t": define_table({"a": v.string(), "n": v.number()})})

    @mutation(args={"a": v.string(), "n": v.number()})
    def add(ctx, args):
        return ctx.db.insert("t", {"a": args["a"], "n": args["n"]})

    @mutation(args={})
    def bad_doc(ctx, args):
        return ctx.db.insert("t", {"a": 1, "n": 2})

    t = ConvexEmulator(modules={"m": {"add": add, "bad_doc": bad_doc}}, schema=schema)
    assert t.query(lambda ctx: ctx.db.get(t.mutation("m:add", {"a": "x", "n": 3})))["n"] == 3.0
    with pytest.raises(ArgumentValidationError) as raised:
        t.mutation("m:add", {"a": "x", "n": "3"})
    assert "Path: .n" in str(raised.value) and 'Value: "3"' in str(raised.value)
    with pytest.raises(SchemaValidationError) as raised:
        t.mutation("m:bad_doc", {})
    assert "Path: .a" in str(raised.value)
    assert t.query(lambda ctx: len(ctx.db.query("t").collect())) == 1
