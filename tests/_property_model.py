"""A plain model of Convex's data rules for the property tests, and the Hypothesis strategies that feed them.

The model orders values by Convex's own sort-key bytes (the backend's `values_to_bytes`:
a type tag, then an order-preserving encoding; floats by IEEE-754 total order, so
-0.0 < 0.0), written here from that description and independent of the emulator's
`sort_key`. Filters follow what the emulator decided for Python's `int` literals
(SEMANTICS, porting habits): beside a float an int literal is that number.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from convex_py import UNSET

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_MASK64 = (1 << 64) - 1


# --- Convex's sort keys, as bytes ------------------------------------------------------------


def _escaped(raw: bytes) -> bytes:
    return raw.replace(b"\x00", b"\x00\xff") + b"\x00"


def encode(value: Any) -> bytes:
    """The bytes Convex sorts `value` by (UNSET, a missing field, sorts first)."""
    if value is UNSET:
        return b"\x01"
    if value is None:
        return b"\x03"
    if isinstance(value, bool):
        return b"\x0f" if value else b"\x0e"
    if isinstance(value, int):
        if value == 0:
            return b"\x08"
        for steps, size in ((1, 1), (2, 2), (3, 4), (4, 8)):
            if -(1 << (8 * size - 1)) <= value < 1 << (8 * size - 1):
                break
        tag = 8 - steps if value < 0 else 8 + steps
        return bytes([tag]) + value.to_bytes(8, "big", signed=True)[8 - size:]
    if isinstance(value, float):
        bits = int.from_bytes(struct.pack(">d", value), "big")
        bits = bits ^ _MASK64 if bits >> 63 else bits | (1 << 63)
        return b"\x0d" + bits.to_bytes(8, "big")
    if isinstance(value, str):
        return b"\x10" + _escaped(value.encode())
    if isinstance(value, bytes):
        return b"\x11" + _escaped(value)
    if isinstance(value, list):
        return b"\x12" + b"".join(encode(item) for item in value) + b"\x00"
    if isinstance(value, dict):
        return b"\x15" + b"".join(_escaped(k.encode()) + encode(value[k]) for k in sorted(value)) + b"\x00"
    raise TypeError(f"not a Convex value: {value!r}")


def same(a: Any, b: Any) -> bool:
    """Convex equality: the same type and the same value (1 != 1.0, -0.0 != 0.0, NaN == NaN)."""
    return encode(a) == encode(b)


def field_value(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return UNSET
        value = value[part]
    return value


def index_key(doc: dict[str, Any], fields: tuple[str, ...]) -> bytes:
    """A document's key in an index over `fields`: the fields, then `_creationTime`."""
    return b"".join(encode(field_value(doc, f)) for f in fields) + encode(doc["_creationTime"])


# --- Values ------------------------------------------------------------------------------------------

SPECIAL_INTS = [0, 1, -1, 2, 127, 128, -128, -129, 32767, 32768, -32769, 2**31, -(2**31) - 1, INT64_MIN, INT64_MAX]
SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1.5, math.inf, -math.inf, math.nan, 1e300, -5e-324]

# Values that collide often, so equalities, ranges and ties between types get exercised.
COMMON = [None, False, True, 0, 1, -1, 0.0, -0.0, 1.0, -1.0, math.nan, math.inf, -math.inf,
          "", "a", "a\x00", "b", b"", b"\x00", b"a", [], {}]

scalars = st.one_of(
    st.sampled_from(COMMON),
    st.sampled_from(COMMON),
    st.sampled_from(COMMON),
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(SPECIAL_INTS),
    st.sampled_from(SPECIAL_FLOATS),
    st.floats(-4, 4).map(lambda x: math.copysign(round(x * 2) / 2, x)),
    st.text(alphabet="ab\x00\u00e9", max_size=3),
    st.binary(max_size=3),
)

values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["x", "y", "_z"]), inner, max_size=2),
    ),
    max_leaves=4,
)

TOP_FIELDS = ("a", "b", "c", "n")


@st.composite
def bodies(draw: Any) -> dict[str, Any]:
    """A document body: some of the fields a, b, c, n (n often an object with x)."""
    body = {}
    for name in TOP_FIELDS:
        if draw(st.booleans()):
            if name == "n" and draw(st.booleans()):
                body[name] = {"x": draw(values)} if draw(st.booleans()) else {}
            else:
                body[name] = draw(values)
    return body


@st.composite
def patches(draw: Any) -> dict[str, Any]:
    """Fields for `patch`: new values, None (null) and UNSET (removal)."""
    fields = {}
    for name in TOP_FIELDS:
        choice = draw(st.integers(0, 3))
        if choice == 1:
            fields[name] = draw(values)
        elif choice == 2:
            fields[name] = UNSET
        elif choice == 3 and draw(st.booleans()):
            fields[name] = None
    return fields


# --- Filters ------------------------------------------------------------------------------------------


class ModelError(Exception):
    """The filter fails on this document (the emulator must raise too)."""


class Overflow(Exception):
    """int64 arithmetic left the int64 range: Convex's outcome is not modelled."""


@dataclass(frozen=True)
class Field:
    path: str


@dataclass(frozen=True)
class Lit:
    value: Any


@dataclass(frozen=True)
class Cmp:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Arith:
    op: str
    left: Any
    right: Any = None  # None for neg


@dataclass(frozen=True)
class Logic:
    op: str  # and_, or_, not_
    parts: tuple[Any, ...] = field(default=())


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda x, y: x == y,
    "neq": lambda x, y: x != y,
    "lt": lambda x, y: x < y,
    "lte": lambda x, y: x <= y,
    "gt": lambda x, y: x > y,
    "gte": lambda x, y: x >= y,
}


def build(expr: Any, q: Any) -> Any:
    """The emulator's filter expression for `expr`, built with the filter builder `q`."""
    if isinstance(expr, Field):
        return q.field(expr.path)
    if isinstance(expr, Lit):
        return expr.value
    if isinstance(expr, Cmp):
        return getattr(q, expr.op)(build(expr.left, q), build(expr.right, q))
    if isinstance(expr, Arith):
        if expr.op == "neg":
            return q.neg(build(expr.left, q))
        return getattr(q, expr.op)(build(expr.left, q), build(expr.right, q))
    if expr.op == "not_":
        return q.not_(build(expr.parts[0], q))
    return getattr(q, expr.op)(*(build(part, q) for part in expr.parts))


def _number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _arith(op: str, x: Any, y: Any) -> Any:
    if op == "neg":
        if not _number(x):
            raise ModelError("neg of a non-number")
        result = -x
    else:
        if not (_number(x) and _number(y)):
            raise ModelError(f"{op} of a non-number")
        if type(x) is not type(y):
            x, y = float(x), float(y)  # an int beside a float: both JavaScript numbers
        result = x + y if op == "add" else x - y if op == "sub" else x * y
    if type(result) is int and not INT64_MIN <= result <= INT64_MAX:
        raise Overflow()
    return result


class FilterModel:
    """Evaluates a filter AST on one document, as Convex does with the porting rule for int literals.

    `typed` says the table has a schema (its fields keep int64 and float64 apart in comparisons).
    """

    def __init__(self, typed: bool) -> None:
        self.typed = typed

    def value(self, expr: Any, doc: dict[str, Any]) -> Any:
        if isinstance(expr, Field):
            return field_value(doc, expr.path)
        if isinstance(expr, Lit):
            return expr.value
        if isinstance(expr, Cmp):
            return self.compare(expr, doc)
        if isinstance(expr, Arith):
            right = None if expr.right is None else self.value(expr.right, doc)
            left = self.value(expr.left, doc)
            return _arith(expr.op, left, right)
        if expr.op == "not_":
            return self.value(expr.parts[0], doc) is not True
        if expr.op == "and_":
            return all(self.value(part, doc) is True for part in expr.parts)
        return any(self.value(part, doc) is True for part in expr.parts)

    def _field_is_typed(self, expr: Any) -> bool:
        return isinstance(expr, Field) and (self.typed or expr.path == "_creationTime")

    def compare(self, expr: Cmp, doc: dict[str, Any]) -> bool:
        left, right = expr.left, expr.right
        test = _COMPARE[expr.op]
        # `_creationTime` is a float64: an int literal beside it is that float.
        if isinstance(left, Field) and left.path == "_creationTime" and isinstance(right, Lit) and type(right.value) is int:
            right = Lit(float(right.value))
        if isinstance(right, Field) and right.path == "_creationTime" and isinstance(left, Lit) and type(left.value) is int:
            left = Lit(float(left.value))
        x, y = self.value(left, doc), self.value(right, doc)
        if not isinstance(left, Lit) and isinstance(right, Lit) and not self._field_is_typed(left) and _number(y):
            return self._with_literal(test, x, y, literal_on_right=True)
        if not isinstance(right, Lit) and isinstance(left, Lit) and not self._field_is_typed(right) and _number(x):
            return self._with_literal(test, y, x, literal_on_right=False)
        return test(encode(x), encode(y))

    @staticmethod
    def _with_literal(test: Callable[[Any, Any], bool], other: Any, literal: Any, literal_on_right: bool) -> bool:
        """An untyped value against a number literal written in Python: numbers compare as numbers."""
        if type(other) is float and type(literal) is int:
            a, b = encode(other), encode(float(literal))
        elif type(other) is int and type(literal) is float:
            a, b = other, literal  # both numbers: compared by value (NaN compares false)
        else:
            a, b = encode(other), encode(literal)
        return test(a, b) if literal_on_right else test(b, a)


@dataclass(frozen=True)
class Pick:
    """A literal to take from the values stored at the time (`index` modulo their count)."""

    index: int
    shape: str = "same"  # for a _creationTime: "same", "int" (truncated) or "between" (+0.0005)


def resolve(item: Any, pool: list[Any]) -> Any:
    """`item` (a value, or a filter AST) with each Pick replaced by a stored value (or 0 if there is none)."""
    if isinstance(item, Pick):
        if not pool:
            return 0
        value = pool[item.index % len(pool)]
        if item.shape != "same" and type(value) is float and abs(value) < 2.0**62:
            return int(value) if item.shape == "int" else value + 0.0005
        return value
    if isinstance(item, Lit):
        return Lit(resolve(item.value, pool))
    if isinstance(item, (Cmp, Arith)):
        return type(item)(item.op, resolve(item.left, pool), resolve(item.right, pool))
    if isinstance(item, Logic):
        return Logic(item.op, tuple(resolve(part, pool) for part in item.parts))
    return item


picks = st.builds(Pick, st.integers(0, 10**6), st.sampled_from(["same", "same", "int", "between"]))


FIELD_PATHS = ("a", "b", "c", "n", "n.x", "_creationTime")
COMPARISONS = ("eq", "neq", "lt", "lte", "gt", "gte")


def filters(literals: st.SearchStrategy[Any], arithmetic: bool = True) -> st.SearchStrategy[Any]:
    """Filter ASTs over the document fields, comparing with values drawn from `literals`."""
    fields = st.sampled_from(FIELD_PATHS).map(Field)
    lits = literals.map(Lit)
    operands = st.one_of(fields, lits)
    if arithmetic:
        numbers = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -1.5, 2.0, -0.0])).map(Lit)
        arith = st.one_of(
            st.builds(Arith, st.sampled_from(["add", "sub", "mul"]), fields, numbers),
            st.builds(Arith, st.sampled_from(["add", "sub", "mul"]), numbers, fields),
            st.builds(Arith, st.just("neg"), fields),
        )
        operands = st.one_of(fields, lits, lits, arith)
    comparisons = st.builds(Cmp, st.sampled_from(COMPARISONS), operands, operands)
    leaves = st.one_of(comparisons, comparisons, st.booleans().map(Lit))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(Logic, st.sampled_from(["and_", "or_"]), st.lists(inner, min_size=1, max_size=3).map(tuple)),
            st.builds(Logic, st.just("not_"), st.tuples(inner)),
        ),
        max_leaves=4,
    )
