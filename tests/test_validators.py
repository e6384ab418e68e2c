"""Tests of the validators `v` (convex_py/_validators.py): values, conversions, errors, repr, JSON Schema."""

from __future__ import annotations

import base64
import enum
import math
import pickle
from typing import Any, Optional

import jsonschema
import pydantic
import pytest

from convex_py._validators import (
    ArrayValidator,
    ObjectValidator,
    PydanticValidator,
    UnionValidator,
    Validator,
    to_validator,
    v,
)
from convex_py._values import INT64_MAX, INT64_MIN, UNSET, Id, make_id
from convex_py.errors import ValidationError, ValidatorError

ORDER_ID = make_id("orders", 1)
ORDER_ID_STR = str(ORDER_ID)
USER_ID = make_id("users", 7)
# An id with one character changed in the middle: its checksum no longer matches.
BAD_CHECKSUM_ID = ORDER_ID_STR[:5] + ("b" if ORDER_ID_STR[5] != "b" else "c") + ORDER_ID_STR[6:]
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def ok(validator: Validator, value: Any) -> Any:
    return validator.validate(value)


def fail(validator: Validator, value: Any, path: str = "") -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validator.validate(value, path)
    return info.value


# --- Accepting and rejecting: the cases, shared with the JSON Schema tests ------------------------
#
# Each case: (validator, accepted values, rejected values, values the validator rejects but that
# JSON Schema cannot tell apart from accepted ones, so the schema test skips them).


class Color(str, enum.Enum):
    RED = "red"


CASES: list[tuple[Validator, list[Any], list[Any], list[Any]]] = [
    # bytes are base64 strings in JSON, so only the validator tells them from a str.
    (v.string(), ["", "abc", "é", ORDER_ID], [None, 1, 1.5, True, ["a"], {"a": "b"}], [b"abc"]),
    (
        v.number(),
        [0.0, 1.5, -2.0, 3, -4, INT64_MAX, INT64_MIN, math.inf],
        [None, True, False, "1", b"1", [1.0], {"n": 1}],
        # ints outside int64 are not Convex values; JSON Schema has no int64 bound for "number".
        [INT64_MAX + 1, INT64_MIN - 1],
    ),
    (
        v.float64(),
        [0.5, 2],
        [None, True, "x"],
        [],
    ),
    (
        v.int64(),
        [0, 1, -1, INT64_MAX, INT64_MIN],
        [None, True, False, 1.5, "1", [1]],
        # JSON Schema's "integer" accepts 1.0 (int vs float is not expressible), and the schema
        # is {"type": "integer"} without int64 bounds.
        [1.0, 0.0, INT64_MAX + 1, INT64_MIN - 1],
    ),
    (v.boolean(), [True, False], [None, 0, 1, 1.0, "true", [True]], []),
    (v.null(), [None], [0, False, "", [], {}, UNSET], []),
    (
        v.bytes(),
        [b"", b"\x00\xff", b"abc"],
        [None, 1, [1, 2], {"b": 1}],
        # JSON carries bytes as base64 strings, so a str is a string to the schema
        # (contentEncoding is an annotation, not an assertion).
        ["abc", bytearray(b"abc")],
    ),
    (
        v.id("orders"),
        [ORDER_ID, ORDER_ID_STR],
        [None, 1, [ORDER_ID_STR]],
        # JSON Schema sees an id as a string: it cannot check its table or its format.
        [USER_ID, str(USER_ID), "not-an-id", "", BAD_CHECKSUM_ID, b"x"],
    ),
    (v.literal("a"), ["a"], ["b", "", None, ["a"], 1], []),
    (
        v.literal(1),
        [1],
        [2, True, "1", None],
        [1.0],  # JSON Schema's const treats 1 and 1.0 as equal
    ),
    (v.literal(1.5), [1.5], [1, 2.5, "1.5", True], []),
    (v.literal(True), [True], [False, 1, "true", None], []),
    (v.literal(False), [False], [True, 0, None], []),
    (
        v.array(v.string()),
        [[], ["a"], ["a", "b", "c"]],
        [None, "abc", [1], ["a", None], [["a"]], {"0": "a"}, ("a",)],
        [],
    ),
    (
        v.array(v.array(v.int64())),
        [[], [[]], [[1, 2], [3]]],
        [[1], [[1.5]], [[True]], [[None]]],
        [],
    ),
    (
        v.object({"name": v.string(), "age": v.optional(v.int64()), "tags": v.array(v.string())}),
        [
            {"name": "ada", "tags": []},
            {"name": "ada", "age": 36, "tags": ["x"]},
        ],
        [
            None,
            [],
            {},
            {"tags": []},
            {"name": "ada"},
            {"name": 1, "tags": []},
            {"name": "ada", "tags": [], "extra": 1},
            {"name": "ada", "age": None, "tags": []},
            {"name": "ada", "age": True, "tags": []},
            {"name": "ada", "tags": [1]},
        ],
        [],
    ),
    (v.object({}), [{}], [{"a": 1}, None, []], []),
    (
        v.object({"inner": v.object({"x": v.number()})}),
        [{"inner": {"x": 1.0}}, {"inner": {"x": 2}}],
        [{"inner": {}}, {"inner": {"x": "1"}}, {"inner": {"x": 1, "y": 2}}, {"inner": None}],
        [],
    ),
    (
        v.record(v.string(), v.number()),
        [{}, {"a": 1.0, "b": 2}],
        [None, [], {"a": "x"}, {"a": None}, {"a": True}],
        [],
    ),
    (
        v.record(v.union(v.literal("x"), v.literal("y")), v.boolean()),
        [{}, {"x": True}, {"x": False, "y": True}],
        [{"z": True}, {"x": 1}],
        [],
    ),
    (
        v.record(v.id("orders"), v.string()),
        [{ORDER_ID_STR: "a"}],
        [{ORDER_ID_STR: 1}],
        [{"nope": "a"}],  # a non-id key: JSON Schema sees just a string key
    ),
    (
        v.union(v.string(), v.int64()),
        ["a", 1],
        [None, True, [], {}],
        [1.0],  # int vs float again
    ),
    (
        v.union(
            v.object({"kind": v.literal("circle"), "r": v.number()}),
            v.object({"kind": v.literal("square"), "side": v.number()}),
        ),
        [{"kind": "circle", "r": 1.0}, {"kind": "square", "side": 2}],
        [{"kind": "circle", "side": 1.0}, {"kind": "triangle"}, {}, None],
        [],
    ),
    (v.nullable(v.string()), [None, "a"], [1, False, [], UNSET], []),
    (
        v.any(),
        [None, 1, 1.5, True, "s", b"b", [1, "a"], {"a": {"b": [None]}}],
        [],
        # Not Convex values at all, so there is no JSON form to give the schema.
        [object(), {1: "a"}, {"$a": 1}, 2**64, {1.5}],
    ),
]


def case_id(case: tuple[Validator, Any, Any, Any]) -> str:
    return repr(case[0])


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_accepts(case: tuple[Validator, list[Any], list[Any], list[Any]]) -> None:
    validator, good, _, _ = case
    for value in good:
        validator.validate(value)  # does not raise


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rejects(case: tuple[Validator, list[Any], list[Any], list[Any]]) -> None:
    validator, _, bad, bad_python_only = case
    for value in bad + bad_python_only:
        with pytest.raises(ValidationError):
            validator.validate(value)


# --- JSON Schema ----------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """The JSON form of a Convex value: bytes as base64, ids as plain strings, UNSET fields dropped."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return {to_json(k): to_json(x) for k, x in value.items() if x is not UNSET}
    if isinstance(value, list):
        return [to_json(x) for x in value]
    return value  # a tuple stays a tuple: jsonschema does not take it for an array, like us


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_json_schema_matches_validator(case: tuple[Validator, list[Any], list[Any], list[Any]]) -> None:
    validator, good, bad, _ = case
    schema = validator.json_schema()
    assert schema["$schema"] == DIALECT
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator(schema)
    for value in good:
        assert checker.is_valid(to_json(value)), value
    for value in bad:
        if value is UNSET:
            continue  # no JSON form
        assert not checker.is_valid(to_json(value)), value


def test_json_schema_shapes() -> None:
    def inner(validator: Validator) -> dict[str, Any]:
        schema = validator.json_schema()
        assert schema.pop("$schema") == DIALECT
        return schema

    assert inner(v.id("orders")) == {"type": "string"}
    assert inner(v.string()) == {"type": "string"}
    assert inner(v.number()) == {"type": "number"}
    assert inner(v.int64()) == {"type": "integer"}
    assert inner(v.boolean()) == {"type": "boolean"}
    assert inner(v.null()) == {"type": "null"}
    assert inner(v.bytes()) == {"type": "string", "contentEncoding": "base64"}
    assert inner(v.literal("a")) == {"const": "a"}
    assert inner(v.any()) == {}
    assert inner(v.array(v.string())) == {"type": "array", "items": {"type": "string"}}
    assert inner(v.object({"a": v.string(), "b": v.optional(v.number())})) == {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "number"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    assert inner(v.record(v.string(), v.int64())) == {
        "type": "object",
        "propertyNames": {"type": "string"},
        "additionalProperties": {"type": "integer"},
    }
    assert inner(v.union(v.string(), v.null())) == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert inner(v.nullable(v.int64())) == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def test_json_schema_dialect_only_at_top_level() -> None:
    schema = v.object({"a": v.array(v.object({"b": v.string()}))}).json_schema()
    assert schema["$schema"] == DIALECT
    assert "$schema" not in str(schema["properties"])


def test_json_schema_is_a_fresh_dict() -> None:
    validator = v.object({"a": v.string()})
    first = validator.json_schema()
    first["properties"]["a"]["type"] = "changed"
    assert validator.json_schema()["properties"]["a"] == {"type": "string"}


def test_json_schema_of_non_finite_literal_matches_nothing() -> None:
    schema = v.literal(math.inf).json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator(schema)
    assert not any(checker.is_valid(x) for x in (1, 1.5, "inf", None))


# --- Exact values and conversions -----------------------------------------------------------------


def test_number_turns_int_into_float() -> None:
    result = ok(v.number(), 3)
    assert result == 3.0 and type(result) is float
    assert type(ok(v.number(), 2.5)) is float
    out = ok(v.object({"n": v.number(), "m": v.optional(v.number())}), {"n": 1, "m": -2})
    assert out == {"m": -2.0, "n": 1.0}
    assert all(type(x) is float for x in out.values())
    assert all(type(x) is float for x in ok(v.array(v.number()), [1, 2.5, 3]))
    assert ok(v.record(v.string(), v.number()), {"a": 1}) == {"a": 1.0}
    assert type(ok(v.record(v.string(), v.number()), {"a": 1})["a"]) is float


def test_bool_is_not_a_number() -> None:
    for validator in (v.number(), v.int64(), v.literal(1), v.literal(0), v.union(v.int64(), v.number())):
        fail(validator, True)
        fail(validator, False)
    fail(v.object({"n": v.number()}), {"n": True})
    fail(v.array(v.int64()), [True])


def test_int64_range_and_floats() -> None:
    assert ok(v.int64(), INT64_MAX) == INT64_MAX
    assert ok(v.int64(), INT64_MIN) == INT64_MIN
    fail(v.int64(), INT64_MAX + 1)
    fail(v.int64(), INT64_MIN - 1)
    fail(v.int64(), 1.0)
    fail(v.int64(), math.nan)
    fail(v.number(), 2**64)  # not a Convex value


def test_number_accepts_nan_and_infinities() -> None:
    assert math.isnan(ok(v.number(), math.nan))
    assert ok(v.number(), -math.inf) == -math.inf


def test_id_conversion() -> None:
    result = ok(v.id("orders"), ORDER_ID_STR)
    assert type(result) is Id and result.table == "orders" and result == ORDER_ID_STR
    assert ok(v.id("orders"), ORDER_ID) is ORDER_ID
    out = ok(v.object({"orderId": v.id("orders")}), {"orderId": ORDER_ID_STR})
    assert type(out["orderId"]) is Id


def test_id_of_another_table_is_rejected() -> None:
    for value in (USER_ID, str(USER_ID)):
        error = fail(v.id("orders"), value)
        assert str(error) == (
            f'Found ID "{USER_ID}" from table `users`, which does not match the table name in '
            'validator `v.id("orders")`.'
        )
        assert error.expected == 'v.id("orders")'
    error = fail(v.object({"orderId": v.id("orders")}), {"orderId": USER_ID})
    assert str(error).endswith("\nPath: .orderId")
    assert error.path == ".orderId"


def test_malformed_id_is_a_plain_mismatch() -> None:
    error = fail(v.id("orders"), "nope")
    assert str(error) == "Value does not match validator.\n\nValue: \"nope\"\nValidator: v.id(\"orders\")"


def test_string_accepts_ids_and_str_subclasses() -> None:
    assert ok(v.string(), ORDER_ID) is ORDER_ID
    result = ok(v.string(), Color.RED)
    assert result == "red" and type(result) is str


def test_bytes() -> None:
    assert ok(v.bytes(), b"\x00\x01") == b"\x00\x01"
    fail(v.bytes(), "AAE=")
    fail(v.bytes(), bytearray(b"x"))
    fail(v.bytes(), [0, 1])


def test_literals_compare_type_and_value() -> None:
    assert ok(v.literal("a"), "a") == "a"
    fail(v.literal("a"), "A")
    assert ok(v.literal(1), 1) == 1
    fail(v.literal(1), 1.0)
    fail(v.literal(1.0), 1)
    fail(v.literal(True), 1)
    fail(v.literal(0.0), -0.0)  # Convex's float equality tells the zeros apart
    assert math.isnan(ok(v.literal(math.nan), math.nan))
    assert ok(v.literal(Color.RED), "red") == "red"  # an enum member stands for its value
    assert v.literal(Color.RED).value == "red" and type(v.literal(Color.RED).value) is str


def test_returned_containers_are_fresh() -> None:
    value = {"items": [{"name": "a"}], "meta": {"k": "v"}}
    validator = v.object(
        {"items": v.array(v.object({"name": v.string()})), "meta": v.record(v.string(), v.string())}
    )
    out = validator.validate(value)
    assert out == value
    assert out is not value and out["items"] is not value["items"]
    assert out["items"][0] is not value["items"][0] and out["meta"] is not value["meta"]
    out["items"][0]["name"] = "changed"
    assert value["items"][0]["name"] == "a"
    array = [1, 2]
    assert ok(v.array(v.int64()), array) is not array
    anything = {"a": [1]}
    copied = ok(v.any(), anything)
    assert copied == anything and copied is not anything and copied["a"] is not anything["a"]


def test_object_fields_in_name_order() -> None:
    out = ok(v.object({"b": v.string(), "a": v.optional(v.string()), "c": v.string()}), {"c": "3", "b": "2", "a": "1"})
    assert list(out) == ["a", "b", "c"]


def test_unset_counts_as_missing() -> None:
    validator = v.object({"a": v.string(), "b": v.optional(v.string())})
    assert ok(validator, {"a": "x", "b": UNSET}) == {"a": "x"}
    error = fail(validator, {"a": UNSET})
    assert str(error).startswith("Object is missing the required field `a`.")
    # An UNSET value for a field the validator does not know is absent too, not extra.
    assert ok(validator, {"a": "x", "zzz": UNSET}) == {"a": "x"}
    assert ok(v.record(v.string(), v.string()), {"a": "x", "b": UNSET}) == {"a": "x"}
    fail(v.any(), UNSET)
    fail(v.array(v.any()), [UNSET])


def test_optional_is_not_nullable() -> None:
    fail(v.object({"a": v.optional(v.string())}), {"a": None})
    assert ok(v.object({"a": v.optional(v.nullable(v.string()))}), {"a": None}) == {"a": None}
    assert ok(v.object({"a": v.optional(v.nullable(v.string()))}), {}) == {}


def test_optional_alone() -> None:
    assert ok(v.optional(v.string()), UNSET) is UNSET
    assert ok(v.optional(v.string()), "x") == "x"
    fail(v.optional(v.string()), None)


def test_tuples_sets_and_other_types_are_not_values() -> None:
    fail(v.array(v.int64()), (1, 2))
    fail(v.array(v.int64()), {1, 2})
    fail(v.object({}), [("a", 1)])
    fail(v.string(), object())
    fail(v.any(), object())
    fail(v.any(), {"a": {1, 2}})


def test_any_accepts_any_convex_value() -> None:
    value = {"a": [1, 2.5, None, True, "s", b"b", {"nested": []}]}
    assert ok(v.any(), value) == value
    error = fail(v.object({"x": v.any()}), {"x": {"a": object()}})
    assert error.path == ".x"
    assert "Validator: v.any()" in str(error)
    assert "is not a supported Convex type" in str(error)


def test_union_takes_first_match_but_keeps_ints_ints() -> None:
    result = ok(v.union(v.number(), v.int64()), 3)
    assert result == 3 and type(result) is int
    assert type(ok(v.union(v.number(), v.literal(3)), 3)) is int
    assert type(ok(v.union(v.number(), v.string()), 3)) is float
    assert type(ok(v.nullable(v.number()), 3)) is float
    assert ok(v.nullable(v.number()), None) is None
    assert ok(v.union(v.literal("a"), v.literal("b")), "b") == "b"
    fail(v.union(v.literal("a"), v.literal("b")), "c")
    fail(v.union(v.literal("a"), v.literal(1)), [1])  # unhashable: not a literal
    fail(v.union(v.literal(1), v.literal("a")), True)


def test_union_converts_through_its_member() -> None:
    out = ok(v.union(v.object({"id": v.id("orders")}), v.null()), {"id": ORDER_ID_STR})
    assert type(out["id"]) is Id


def test_record_checks_every_key_and_value() -> None:
    validator = v.record(v.id("orders"), v.number())
    out = ok(validator, {ORDER_ID_STR: 1})
    (key,) = out
    assert type(key) is Id and out[key] == 1.0
    error = fail(validator, {ORDER_ID_STR: 1.0, "bad": 2.0})
    assert error.path == ".keys()"
    assert error.value == "bad"
    error = fail(v.object({"scores": v.record(v.string(), v.number())}), {"scores": {"ada": 1, "bob": "x"}})
    assert error.path == ".scores.bob"
    assert str(error) == "Value does not match validator.\nPath: .scores.bob\nValue: \"x\"\nValidator: v.float64()"
    fail(v.record(v.string(), v.string()), {1: "a"})


# --- Error messages -------------------------------------------------------------------------------


def test_mismatch_message_top_level() -> None:
    error = fail(v.string(), 1)
    # As in Convex, the second line holds the path and is empty for the value itself.
    assert str(error) == "Value does not match validator.\n\nValue: 1\nValidator: v.string()"
    assert error.path == "" and error.value == 1 and error.expected == "v.string()"


def test_mismatch_message_nested() -> None:
    validator = v.object({"items": v.array(v.object({"name": v.string(), "qty": v.int64()}))})
    error = fail(validator, {"items": [{"name": "a", "qty": 1}, {"name": "b", "qty": 1.5}]})
    assert str(error) == "Value does not match validator.\nPath: .items[1].qty\nValue: 1.5\nValidator: v.int64()"
    assert error.path == ".items[1].qty" and error.value == 1.5 and error.expected == "v.int64()"
    error = fail(validator, {"items": [{"name": "a", "qty": 1}, "oops"]})
    assert error.path == ".items[1]"
    assert error.expected == "v.object({name: v.string(), qty: v.int64()})"


def test_mismatch_path_prefix() -> None:
    error = fail(v.object({"a": v.string()}), {"a": 1}, path=".args")
    assert error.path == ".args.a"
    assert "\nPath: .args.a\n" in str(error)


def test_missing_field_message() -> None:
    validator = v.object({"items": v.array(v.string()), "note": v.optional(v.string())})
    error = fail(validator, {"note": "x"})
    assert str(error) == (
        "Object is missing the required field `items`. Consider wrapping the field validator in "
        "`v.optional(...)` if this is expected.\n\n"
        'Object: {note: "x"}\n'
        "Validator: v.object({items: v.array(v.string()), note: v.optional(v.string())})"
    )
    assert error.path == ".items"
    assert error.value == {"note": "x"}
    assert error.expected == "v.object({items: v.array(v.string()), note: v.optional(v.string())})"


def test_missing_field_message_nested() -> None:
    validator = v.object({"order": v.object({"items": v.array(v.string())})})
    error = fail(validator, {"order": {}})
    assert str(error) == (
        "Object is missing the required field `items`. Consider wrapping the field validator in "
        "`v.optional(...)` if this is expected.\n"
        "Path: .order\n"
        "Object: {}\n"
        "Validator: v.object({items: v.array(v.string())})"
    )
    assert error.path == ".order.items"


def test_extra_field_message() -> None:
    validator = v.object({"a": v.string()})
    error = fail(validator, {"a": "x", "b": 1})
    assert str(error) == (
        "Object contains extra field `b` that is not in the validator.\n\n"
        'Object: {a: "x", b: 1}\n'
        "Validator: v.object({a: v.string()})"
    )
    assert error.path == ".b"
    error = fail(v.array(validator), [{"a": "x"}, {"a": "y", "c": None}])
    assert str(error) == (
        "Object contains extra field `c` that is not in the validator.\n"
        "Path: [1]\n"
        'Object: {a: "y", c: null}\n'
        "Validator: v.object({a: v.string()})"
    )
    assert error.path == "[1].c"


def test_missing_reported_before_extra() -> None:
    error = fail(v.object({"a": v.string()}), {"b": "x"})
    assert str(error).startswith("Object is missing the required field `a`.")


def test_first_failing_field_in_name_order() -> None:
    error = fail(v.object({"b": v.string(), "a": v.string()}), {"a": 1, "b": 2})
    assert error.path == ".a"


def test_literal_message() -> None:
    error = fail(v.literal("a"), "b")
    assert str(error) == '`"b"` does not match literal validator `v.literal("a")`.'
    error = fail(v.object({"kind": v.literal("a")}), {"kind": "b"})
    assert str(error) == '`"b"` does not match literal validator `v.literal("a")`.\nPath: .kind'
    assert error.path == ".kind" and error.expected == 'v.literal("a")'


def test_union_message() -> None:
    validator = v.object({"x": v.union(v.string(), v.null())})
    error = fail(validator, {"x": 1})
    assert str(error) == "Value does not match validator.\nPath: .x\nValue: 1\nValidator: v.union(v.string(), v.null())"
    # A union of one reports its member's own error, as Convex does.
    error = fail(v.union(v.object({"a": v.string()})), {})
    assert str(error).startswith("Object is missing the required field `a`.")


def test_long_values_are_truncated_in_messages() -> None:
    error = fail(v.string(), list(range(10_000)))
    value_line = str(error).split("\n")[2]
    assert value_line.startswith("Value: [0, 1, 2")
    assert len(value_line) <= len("Value: ") + 200
    error = fail(v.object({}), {"x" * 1000: 1})
    assert len(str(error)) < 2000


def test_broken_repr_does_not_hide_the_error() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("boom")

    error = fail(v.string(), Broken())
    assert "Value: <" in str(error)


def test_compiled_object_check_agrees_with_reference() -> None:
    validator = v.object(
        {
            "s": v.string(),
            "n": v.number(),
            "o": v.optional(v.number()),
            "i": v.int64(),
            "id": v.optional(v.id("orders")),
            "nested": v.optional(v.object({"x": v.boolean()})),
        }
    )
    base = {"s": "a", "n": 1.0, "i": 2}
    values = [
        base,
        {**base, "n": 1},
        {**base, "n": True},
        {**base, "n": 2**64},
        {**base, "o": 3},
        {**base, "o": UNSET},
        {**base, "o": None},
        {**base, "id": ORDER_ID_STR},
        {**base, "id": USER_ID},
        {**base, "nested": {"x": True}},
        {**base, "nested": {"x": 1}},
        {**base, "extra": 1},
        {**base, "extra": UNSET},
        {"s": "a"},
        {"s": UNSET, "n": 1.0, "i": 2},
        {**base, "i": 1.0},
        None,
        [],
    ]

    class Sub(dict):
        pass

    values.append(Sub(base))
    for value in values:
        outcomes = []
        for run in (validator.validate, validator._validate_slow):
            try:
                outcomes.append(("ok", run(value)))
            except ValidationError as e:
                outcomes.append(("error", str(e), e.path))
        assert outcomes[0] == outcomes[1], value
        if outcomes[0][0] == "ok":
            assert [type(x) for x in outcomes[0][1].values()] == [type(x) for x in outcomes[1][1].values()]


def test_validators_pickle() -> None:
    validator = v.object({"a": v.array(v.union(v.literal("x"), v.id("orders"))), "b": v.optional(v.number())})
    copy = pickle.loads(pickle.dumps(validator))
    assert repr(copy) == repr(validator)
    assert copy.validate({"a": ["x"], "b": 1}) == {"a": ["x"], "b": 1.0}


# --- repr and structure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "validator, text",
    [
        (v.string(), "v.string()"),
        (v.number(), "v.float64()"),  # Convex prints v.number() as v.float64()
        (v.float64(), "v.float64()"),
        (v.int64(), "v.int64()"),
        (v.boolean(), "v.boolean()"),
        (v.null(), "v.null()"),
        (v.bytes(), "v.bytes()"),
        (v.any(), "v.any()"),
        (v.id("orders"), 'v.id("orders")'),
        (v.literal("a"), 'v.literal("a")'),
        (v.literal(3), "v.literal(3)"),
        (v.literal(1.5), "v.literal(1.5)"),
        (v.literal(True), "v.literal(True)"),
        (v.array(v.string()), "v.array(v.string())"),
        (
            v.object({"note": v.optional(v.string()), "items": v.array(v.string())}),
            "v.object({items: v.array(v.string()), note: v.optional(v.string())})",
        ),
        (v.object({}), "v.object({})"),
        (v.record(v.string(), v.number()), "v.record(v.string(), v.float64())"),
        (v.union(v.string(), v.null()), "v.union(v.string(), v.null())"),
        (v.nullable(v.int64()), "v.union(v.int64(), v.null())"),
        (v.optional(v.string()), "v.optional(v.string())"),
    ],
)
def test_repr(validator: Validator, text: str) -> None:
    assert repr(validator) == text


def test_structure_attributes() -> None:
    s = v.string()
    obj = v.object({"a": s, "b": v.optional(s)})
    assert obj.fields["a"] is s and obj.fields["b"].inner is s
    assert list(obj.fields) == ["a", "b"]
    assert v.array(s).item is s
    union = v.union(s, v.null())
    assert union.members == (s, v.null())
    record = v.record(s, v.number())
    assert record.keys is s and record.values is v.number()
    assert v.id("orders").table == "orders"
    assert v.literal("a").value == "a"
    assert v.optional(s).is_optional is True
    for validator in (s, obj, union, record, v.any(), v.nullable(s), v.array(s)):
        assert validator.is_optional is False
    assert isinstance(v.nullable(s), UnionValidator)


# --- Build-time errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: v.array("string"),
        lambda: v.array(None),
        lambda: v.array(str),
        lambda: v.array(v.string),
        lambda: v.array({"a": v.string()}),
        lambda: v.array(v.optional(v.string())),
        lambda: v.literal(object()),
        lambda: v.literal(None),
        lambda: v.literal([1]),
        lambda: v.literal(b"x"),
        lambda: v.literal(2**63),
        lambda: v.optional(v.optional(v.string())),
        lambda: v.optional("x"),
        lambda: v.union(),
        lambda: v.union(v.string(), v.optional(v.string())),
        lambda: v.nullable(v.optional(v.string())),
        lambda: v.union(v.string(), 3),
        lambda: v.record(v.number(), v.string()),
        lambda: v.record(v.any(), v.string()),
        lambda: v.record(v.int64(), v.string()),
        lambda: v.record(v.literal(1), v.string()),
        lambda: v.record(v.union(v.string(), v.int64()), v.string()),
        lambda: v.record(v.string(), v.optional(v.string())),
        lambda: v.record(v.string(), "x"),
        lambda: v.object("x"),
        lambda: v.object([("a", v.string())]),
        lambda: v.object({1: v.string()}),
        lambda: v.object({"$a": v.string()}),
        lambda: v.object({"a": {"b": v.string()}}),
        lambda: v.object({"a": v.string}),
        lambda: v.id(""),
        lambda: v.id(3),
        lambda: to_validator(str),
        lambda: to_validator(42),
        lambda: to_validator(None),
        lambda: to_validator([v.string()]),
        lambda: to_validator({"a": "b"}),
        lambda: PydanticValidator(dict),
    ],
)
def test_build_errors(build: Any) -> None:
    with pytest.raises(ValidatorError):
        build()


def test_build_error_messages_help() -> None:
    with pytest.raises(ValidatorError, match=r"forget the parentheses: v\.string\(\)"):
        v.array(v.string)
    with pytest.raises(ValidatorError, match=r"v\.object"):
        v.object({"a": {"b": v.string()}})
    with pytest.raises(ValidatorError, match=r"v\.optional"):
        v.array(v.optional(v.string()))
    with pytest.raises(ValidatorError, match="str, int, float or bool"):
        v.literal(object())
    with pytest.raises(ValidatorError, match="keys"):
        v.record(v.number(), v.string())


def test_record_key_validators_that_are_string_like() -> None:
    v.record(v.string(), v.any())
    v.record(v.id("orders"), v.any())
    v.record(v.literal("a"), v.any())
    v.record(v.union(v.literal("a"), v.id("orders"), v.string()), v.any())


def test_to_validator() -> None:
    s = v.string()
    assert to_validator(s) is s
    obj = to_validator({"a": s, "b": v.optional(v.number())})
    assert isinstance(obj, ObjectValidator) and obj.fields["a"] is s
    assert obj.validate({"a": "x"}) == {"a": "x"}
    assert isinstance(to_validator({}), ObjectValidator)
    assert isinstance(v.array(v.string()), ArrayValidator)


# --- Pydantic models ------------------------------------------------------------------------------


class Item(pydantic.BaseModel):
    name: str
    qty: int


class Order(pydantic.BaseModel):
    items: list[Item]
    note: Optional[str] = None


class Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    a: int


def test_pydantic_model_is_a_validator() -> None:
    validator = to_validator(Order)
    assert isinstance(validator, PydanticValidator) and validator.model is Order
    assert repr(validator) == "Order"
    out = validator.validate({"items": [{"name": "book", "qty": 2}]})
    assert out == {"items": [{"name": "book", "qty": 2}], "note": None}
    assert type(out) is dict and type(out["items"][0]) is dict
    # A model instance is accepted too (a handler may return one).
    assert validator.validate(Order(items=[Item(name="a", qty=1)], note="n")) == {
        "items": [{"name": "a", "qty": 1}],
        "note": "n",
    }


def test_pydantic_errors() -> None:
    validator = to_validator(Order)
    error = fail(validator, {"items": [{"name": "a", "qty": 1}, {"name": "b", "qty": "2"}]})  # strict: no "2" -> 2
    assert error.path == ".items[1].qty"
    assert error.value == "2" and error.expected == "Order"
    assert str(error).startswith("Value does not match validator.\nPath: .items[1].qty\nValue: \"2\"\nValidator: Order\n")
    assert "Reason: Input should be a valid integer" in str(error)
    error = fail(validator, {"items": [{"name": "a"}]})
    assert str(error) == (
        "Object is missing the required field `qty`. Consider wrapping the field validator in "
        "`v.optional(...)` if this is expected.\n"
        "Path: .items[0]\n"
        'Object: {name: "a"}\n'
        "Validator: Order"
    )
    assert error.path == ".items[0].qty"
    error = fail(to_validator(Strict), {"a": 1, "b": 2})
    assert str(error).startswith("Object contains extra field `b` that is not in the validator.\n\n")
    assert error.path == ".b"
    error = fail(validator, "not a dict")
    assert error.path == ""
    assert str(error).startswith("Value does not match validator.\n\nValue: \"not a dict\"\nValidator: Order\nReason: ")


def test_pydantic_model_nested_in_validators() -> None:
    validator = v.object({"order": Order, "count": v.int64()})
    assert repr(validator) == "v.object({count: v.int64(), order: Order})"
    out = validator.validate({"order": {"items": []}, "count": 1})
    assert out == {"order": {"items": [], "note": None}, "count": 1}
    error = fail(validator, {"order": {"items": [{"name": 1, "qty": 1}]}, "count": 1})
    assert error.path == ".order.items[0].name"
    error = fail(v.array(Item), [{"name": "a", "qty": 1}, {"name": "b"}])
    assert error.path == "[1].qty"


def test_pydantic_json_schema() -> None:
    schema = to_validator(Item).json_schema()
    assert schema == {"$schema": DIALECT, **Item.model_json_schema()}
    # Nested: the model's $defs move to the root, where its "#/$defs/..." references point.
    schema = v.object({"order": Order, "extra": v.optional(v.array(Item))}).json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "Item" in schema["$defs"]
    assert "$defs" not in schema["properties"]["order"]
    checker = jsonschema.Draft202012Validator(schema)
    assert checker.is_valid({"order": {"items": [{"name": "a", "qty": 1}]}})
    assert checker.is_valid({"order": {"items": []}, "extra": [{"name": "b", "qty": 2}]})
    assert not checker.is_valid({"order": {"items": [{"name": "a"}]}})
    assert not checker.is_valid({"order": {"items": []}, "extra": [{"qty": 2}]})
    assert not checker.is_valid({})


# Values in validation messages print as Convex prints them: the Display impl of ConvexValue
# (convex-backend crates/value/src/lib.rs): int64 `{n}`, float64 and string Rust's `{:?}`,
# bytes b"<base64>" (crates/value/src/bytes.rs), arrays and objects via display_sequence /
# display_map (crates/value/src/utils.rs), object keys unquoted in key order (object.rs).


def _value_line(value: object) -> str:
    return str(fail(v.boolean(), value)).split("\n")[2]


def test_message_prints_null_as_convex_does() -> None:
    assert str(fail(v.string(), None)) == "Value does not match validator.\n\nValue: null\nValidator: v.string()"


def test_message_prints_booleans_as_convex_does() -> None:
    assert _value_line([True, False]) == "Value: [true, false]"


def test_message_prints_int64_as_plain_digits() -> None:
    assert _value_line(1) == "Value: 1"
    assert _value_line(-(2**63)) == "Value: -9223372036854775808"


def test_message_prints_float64_as_rust_debug() -> None:
    assert _value_line(1.0) == "Value: 1.0"
    assert _value_line(-0.0) == "Value: -0.0"
    assert _value_line(0.1) == "Value: 0.1"
    assert _value_line(1234567890123456.0) == "Value: 1234567890123456.0"
    assert _value_line(1e16) == "Value: 1e16"
    assert _value_line(1.5e-5) == "Value: 1.5e-5"
    assert _value_line(0.0001) == "Value: 0.0001"
    assert _value_line(float("nan")) == "Value: NaN"
    assert _value_line(float("inf")) == "Value: inf"
    assert _value_line(float("-inf")) == "Value: -inf"


def test_message_prints_strings_as_rust_debug() -> None:
    assert _value_line("x") == 'Value: "x"'
    assert _value_line("it's") == 'Value: "it\'s"'
    assert _value_line('say "hi"\\') == 'Value: "say \\"hi\\"\\\\"'
    assert _value_line("a\nb\tc\r\0") == 'Value: "a\\nb\\tc\\r\\0"'
    assert _value_line("\x07\x7f\u00a0") == 'Value: "\\u{7}\\u{7f}\\u{a0}"'
    assert _value_line("héllo ☃") == 'Value: "héllo ☃"'
    assert _value_line("e\u0301") == 'Value: "e\\u{301}"'


def test_message_prints_ids_as_strings() -> None:
    error = fail(v.id("orders"), {"a": 1})
    assert str(error) == 'Value does not match validator.\n\nValue: {a: 1}\nValidator: v.id("orders")'
    assert _value_line(make_id("orders", 1)) == f'Value: "{make_id("orders", 1)}"'


def test_message_prints_bytes_as_base64() -> None:
    assert _value_line(b"\x01\x02\x03") == 'Value: b"AQID"'
    assert _value_line(b"ab") == 'Value: b"YWI="'
    assert _value_line(b"") == 'Value: b""'


def test_message_prints_arrays_and_objects_as_convex_does() -> None:
    assert _value_line([1.0, 2.0]) == "Value: [1.0, 2.0]"
    assert _value_line([]) == "Value: []"
    assert _value_line({}) == "Value: {}"
    assert _value_line({"b": [1, "x"], "a": {"c": None}}) == 'Value: {a: {c: null}, b: [1, "x"]}'
    error = fail(v.object({"a": v.float64(), "b": v.float64()}), {"a": 1.0})
    assert str(error) == (
        "Object is missing the required field `b`. Consider wrapping the field validator in "
        "`v.optional(...)` if this is expected.\n\nObject: {a: 1.0}\n"
        "Validator: v.object({a: v.float64(), b: v.float64()})"
    )
    error = fail(v.literal(1.0), 2.5)
    assert str(error) == "`2.5` does not match literal validator `v.literal(1.0)`."
