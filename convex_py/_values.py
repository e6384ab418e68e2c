"""Convex values in Python: the `Id` type, the `UNSET` sentinel, value checks and ordering.

Everything here is pure: it knows Convex's value model and limits, nothing about
how functions run. The store and the validators both build on it.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

from .errors import InvalidValueError

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

MAX_DOCUMENT_SIZE = 1 << 20  # 1 MiB
MAX_NESTING = 16  # a document's levels of objects and arrays
MAX_VALUE_NESTING = 64  # any other value's: arguments, return values, scheduled arguments
MAX_ARRAY_LENGTH = 8192
MAX_OBJECT_FIELDS = 1024
MAX_FIELD_NAME_LENGTH = 1024


class _Unset:
    """The `UNSET` sentinel: Python's stand-in for JavaScript's `undefined`."""

    _instance: "_Unset | None" = None

    def __new__(cls) -> "_Unset":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Removes a field in `ctx.db.patch`, and stands for a missing field in queries."""


COMMIT_TS_UNRESOLVED = (
    "This commit timestamp is unresolved: its value is assigned when the mutation commits. "
    "Read the document after the mutation completes to get its value."
)


class CommitTsPlaceholder:
    """`ctx.db.vars.commit_ts`: the writing mutation's commit timestamp, an int64 known only at commit.

    Written into a document it becomes that int when the mutation commits; read back
    within the mutation it is still the placeholder, which cannot be used as a number.
    """

    _instance: "CommitTsPlaceholder | None" = None

    def __new__(cls) -> "CommitTsPlaceholder":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "[unresolved commit timestamp]"

    def _unresolved(self, *args: Any) -> Any:
        from .errors import UnresolvedCommitTsError

        raise UnresolvedCommitTsError(COMMIT_TS_UNRESOLVED)

    __int__ = __float__ = __index__ = _unresolved
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __floordiv__ = _unresolved
    __lt__ = __le__ = __gt__ = __ge__ = _unresolved

    def __reduce__(self) -> str:
        return "COMMIT_TS"


COMMIT_TS: Any = CommitTsPlaceholder()


# --- Ids -------------------------------------------------------------------

_table_names_by_number: dict[int, str] = {}


def table_number(table: str) -> int:
    """A stable 32-bit number for a table name, so any Id says which table it belongs to."""
    number = zlib.crc32(table.encode())
    _table_names_by_number.setdefault(number, table)
    return number


class Id(str):
    """A document id: a `str` that knows its table (`Id.table`).

    No per-instance dict: the table is read from the number the id encodes, through
    the names `table_number` has seen (an id costs what its string costs, plus a header).
    """

    __slots__ = ()

    def __new__(cls, value: str, table: str | None = None) -> "Id":
        self = str.__new__(cls, value)
        if table is not None and _encoded_table(self) != table:
            _other_tables[str.__str__(self)] = table  # not an id of ours, or two names with one number
        return self

    @property
    def table(self) -> str:
        """The name of the table this id belongs to."""
        if _other_tables:
            other = _other_tables.get(self)
            if other is not None:
                return other
        return _encoded_table(self)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"Id({str.__repr__(self)}, table={self.table!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Id, (str.__str__(self), self.table))


_other_tables: dict[str, str] = {}
"""Ids whose table is not the one their number names (made with `Id(value, table)` by hand)."""


def _encoded_table(value: str) -> str | None:
    try:
        return _table_names_by_number.get(int(value[:8], 16))
    except ValueError:
        return None


_SCRAMBLE = 0x9E3779B97F4A7C15  # odd, so multiplication mod 2**64 is a bijection
_UNSCRAMBLE = pow(_SCRAMBLE, -1, 1 << 64)
_MASK64 = (1 << 64) - 1
_MASK32 = (1 << 32) - 1


def _check_word(number: int, scrambled: int) -> int:
    """The id's last 32 bits: a checksum, so a random 32-hex string is not taken for an id."""
    return ((scrambled ^ (scrambled >> 32) ^ number) * 0x9E3779B1) & _MASK32


def make_id(table: str, sequence: int, number: int | None = None) -> Id:
    """The Id of the `sequence`-th document created in a deployment, in `table`.

    32 hex characters: the table's number, the scrambled sequence (so ids do not
    look sequential, as Convex's do not) and a check word.
    """
    return str.__new__(Id, id_text(table, sequence, number))


def id_text(table: str, sequence: int, number: int | None = None) -> str:
    """`make_id`'s id as a plain `str` (what the store keeps)."""
    if number is None:
        number = table_number(table)
    # _SCRAMBLE, _MASK64, _check_word and _MASK32 written out (constants fold): this runs at every insert.
    scrambled = (sequence * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    text = ((number << 96) | (scrambled << 32) | (((scrambled ^ (scrambled >> 32) ^ number) * 0x9E3779B1) & 0xFFFFFFFF)
            ).to_bytes(16, "big").hex()
    if _table_names_by_number.get(number) != table:
        _other_tables[text] = table  # the number names another table: remember this id's own
    return text


def decode_id(value: str) -> tuple[int, int] | None:
    """(table number, sequence) of an id string, or None if it is not an id at all."""
    if len(value) != 32:
        return None
    try:
        whole = int(value, 16)
    except (ValueError, TypeError):
        return None
    number, scrambled, check = whole >> 96, (whole >> 32) & _MASK64, whole & _MASK32
    if check != _check_word(number, scrambled) and check != zlib.crc32((whole >> 32).to_bytes(12, "big")):
        return None  # earlier versions made a crc32 check word: their ids (say, in a --db file) stay valid
    if "%032x" % whole != value:
        return None
    return number, (scrambled * _UNSCRAMBLE) & _MASK64


def id_table(value: str) -> str | None:
    """The table an id string belongs to, when that table's name is known."""
    if isinstance(value, Id):
        return value.table
    decoded = decode_id(value)
    if decoded is None:
        return None
    return _table_names_by_number.get(decoded[0])


def as_id(value: Any, table: str) -> Id | None:
    """`value` as an Id of `table`, or None if it is not one."""
    if type(value) is Id:
        return value if value.table == table else None
    if not isinstance(value, str):
        return None
    decoded = decode_id(value)
    if decoded is None or decoded[0] != table_number(table):
        return None
    return Id(value, table)


# --- Checking and copying values -------------------------------------------


def _describe_path(path: str) -> str:
    return f" at path {path}" if path else ""


def check_field_name(name: Any, path: str, *, top_level: bool, allow_system: bool = False) -> None:
    """Raise if `name` is not a valid Convex field name."""
    if type(name) is not str:
        raise InvalidValueError(f"Field name {name!r}{_describe_path(path)} is not a string.")
    if len(name) > MAX_FIELD_NAME_LENGTH:
        raise InvalidValueError(
            f"Field name {name[:40]!r}...{_describe_path(path)} is too long "
            f"(limit: {MAX_FIELD_NAME_LENGTH} characters)."
        )
    if name.startswith("$"):
        raise InvalidValueError(f"Field name {name!r}{_describe_path(path)} starts with a '$', which is reserved.")
    if not (name.isascii() and name.isprintable()):
        raise InvalidValueError(f"Field name {name!r}{_describe_path(path)} must only contain printable ASCII characters.")
    if top_level and name.startswith("_") and not allow_system:
        raise InvalidValueError(f"Field name {name!r} starts with '_', which is reserved for system fields.")


_field_costs: dict[str, int] = {}
"""Field names already found valid (none starts with '_'), each with its size in a value: len + 1."""

_nested_field_costs: dict[str, int] = {}
"""The same for names below the top level of a document, where `_id` and `_creationTime` (a
returned document's) and other names starting with '_' are valid too."""


def _check_key(k: Any, path: str, top_level: bool) -> int:
    """Check a field name not in the cache; return its size in a value (and cache it if it can be)."""
    check_field_name(k, path, top_level=top_level)
    if len(_nested_field_costs) < 100_000:
        _nested_field_costs[k] = len(k) + 1
        if not k.startswith("_"):
            _field_costs[k] = len(k) + 1
    return len(k) + 1


def _nesting(value: Any) -> int:
    """Levels of objects and arrays in a value (a scalar has none); no recursion, any depth."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        t = type(item)
        if t is dict:
            children: Any = item.values()
        elif t is list or t is tuple:
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _too_nested(value: Any, path: str, depth: int, limit: int) -> InvalidValueError:
    what = "Document" if limit == MAX_NESTING else "Value"
    return InvalidValueError(
        f"{what} is too nested (nested {depth + _nesting(value)} levels deep > maximum nesting {limit})"
        f"{_describe_path(path)}."
    )


def _utf8_size(text: str, path: str) -> int:
    """The UTF-8 size of a string value; a lone surrogate (no Unicode character) is not a Convex string."""
    try:
        return len(text.encode())
    except UnicodeEncodeError as exc:
        raise InvalidValueError(
            f"String {text[:40]!r}{_describe_path(path)} is not valid Unicode: it holds a lone surrogate "
            f"({text[exc.start]!r}); Convex strings are Unicode text."
        ) from None


def copy_value(value: Any, path: str = "", depth: int = 0, top_level: bool = False,
               limit: int = MAX_VALUE_NESTING) -> tuple[Any, int]:
    """Check that `value` is a Convex value; return a private deep copy and its size in bytes.

    One pass does all three jobs because this sits on every write, argument and return value.
    `limit` is the nesting allowed: `MAX_NESTING` for a document, `MAX_VALUE_NESTING` otherwise.
    """
    t = type(value)
    if t is str or t is Id:
        return value, len(value) + 2 if value.isascii() else _utf8_size(value, path) + 2
    if t is float:
        return value, 9
    if t is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value, 9
        raise InvalidValueError(f"Integer {value}{_describe_path(path)} is outside the int64 range.")
    if t is bool or value is None:
        return value, 1
    if depth >= limit:
        raise _too_nested(value, path, depth, limit)
    if t is dict:
        if len(value) > MAX_OBJECT_FIELDS:
            raise InvalidValueError(
                f"Object has too many fields (limit: {MAX_OBJECT_FIELDS}, got {len(value)}){_describe_path(path)}."
            )
        out = {}
        size = 2
        costs = _field_costs if top_level else _nested_field_costs
        for k, item in value.items():
            if item is UNSET:
                continue
            cost = costs.get(k) if type(k) is str else None
            if cost is None:
                cost = _check_key(k, path, top_level)
            t2 = type(item)
            if t2 is str or t2 is Id:
                out[k] = item
                size += cost + 2 + (len(item) if item.isascii() else _utf8_size(item, f"{path}.{k}"))
            elif t2 is float:
                out[k] = item
                size += cost + 9
            elif t2 is bool or item is None:
                out[k] = item
                size += cost + 1
            else:
                out[k], s = copy_value(item, f"{path}.{k}", depth + 1, False, limit)
                size += cost + s
        return out, size
    if t is list or t is tuple:
        if len(value) > MAX_ARRAY_LENGTH:
            raise InvalidValueError(
                f"Array length is too long ({len(value)} > maximum length {MAX_ARRAY_LENGTH}){_describe_path(path)}."
            )
        out_list = []
        size = 2
        for i, item in enumerate(value):
            t2 = type(item)
            if t2 is str or t2 is Id:
                out_list.append(item)
                size += 2 + (len(item) if item.isascii() else _utf8_size(item, f"{path}[{i}]"))
            elif t2 is float:
                out_list.append(item)
                size += 9
            elif t2 is bool or item is None:
                out_list.append(item)
                size += 1
            else:
                c, s = copy_value(item, f"{path}[{i}]", depth + 1, False, limit)
                out_list.append(c)
                size += s
        return out_list, size
    if t is bytes or t is bytearray or t is memoryview:
        b = bytes(value)
        return b, len(b) + 2
    if value is COMMIT_TS:  # resolved to an int64 when the writing mutation commits
        return value, 9
    if isinstance(value, (str, int, float, dict, list, bytes)) and not isinstance(value, bool):
        # Subclasses (enums, OrderedDict, a Blob, ...) become their plain base value.
        for base in (str, int, float, dict, list, bytes):
            if isinstance(value, base):
                return copy_value(base(value), path, depth, top_level, limit)
    raise InvalidValueError(
        f"{type(value).__name__} {value!r}{_describe_path(path)} is not a supported Convex type "
        "(None, int, float, bool, str, bytes, list, dict)."
    )


def flat_size(value: dict[str, Any]) -> int:
    """`copy_value(value)[1]` for a flat dict (known field names, scalar values), else -1.

    The common argument, return value and document is such a dict: its copy is a shallow
    `dict(value)`, so callers that already hold a fresh dict skip copying altogether.
    """
    if len(value) > MAX_OBJECT_FIELDS:
        return -1
    size = 2
    costs = _field_costs
    for k, item in value.items():
        if type(k) is not str:
            return -1
        cost = costs.get(k)
        if cost is None:
            return -1
        t = type(item)
        if t is str or t is Id:
            if item.isascii():
                size += cost + 2 + len(item)
            else:
                try:
                    size += cost + 2 + len(item.encode())
                except UnicodeEncodeError:  # a lone surrogate: the full check says where
                    return -1
        elif t is float or (t is int and INT64_MIN <= item <= INT64_MAX):
            size += cost + 9
        elif t is bool or item is None:
            size += cost + 1
        else:
            return -1
    return size


SYSTEM_FIELD_ID_SIZE = 38  # `_id` with a 32-character id: 3 + 1 + 2 + 32, as Convex estimates it
SYSTEM_FIELD_CREATION_TIME_SIZE = 23  # `_creationTime` and its float64: 13 + 1 + 9


def get_convex_size(value: Any) -> int:
    """The size in bytes Convex counts for a value (`getConvexSize` of `convex/values`); `UNSET` is 0."""
    if value is UNSET:
        return 0
    return copy_value(value)[1]


def get_document_size(document: dict[str, Any]) -> int:
    """The size Convex counts for a document (`getDocumentSize`): with its `_id` and `_creationTime`,
    estimated when they are not there yet. This is what `get_transaction_metrics` adds up."""
    size = get_convex_size(document)
    if document.get("_id", UNSET) is UNSET:
        size += SYSTEM_FIELD_ID_SIZE
    if document.get("_creationTime", UNSET) is UNSET:
        size += SYSTEM_FIELD_CREATION_TIME_SIZE
    return size


def clone(value: Any) -> Any:
    """A deep copy of a stored value, so callers never alias the store."""
    t = type(value)
    if t is dict:
        return {k: (clone(v) if type(v) in _CONTAINERS else v) for k, v in value.items()}
    if t is list:
        return [clone(v) if type(v) in _CONTAINERS else v for v in value]
    return value


_CONTAINERS = (dict, list)


def clone_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document as a caller gets it: a deep copy whose `_id` is an `Id`.

    The store keeps `_id` as a plain `str`, so a document of plain values is not
    tracked by the garbage collector: full collections do not grow with the store.
    """
    out = {k: (clone(v) if type(v) in _CONTAINERS else v) for k, v in doc.items()}
    out["_id"] = str.__new__(Id, out["_id"])
    return out


# --- Ordering across types ---------------------------------------------------
# Convex orders: undefined < null < int64 < float64 < boolean < string < bytes < array < object;
# objects compare field by field in sorted field-name order; floats by IEEE-754 total order, so
# -0.0 and 0.0 are distinct values (-0.0 first) and NaN equals NaN.

_MISSING_KEY = (0,)
_NULL_KEY = (1,)


def sort_key(value: Any) -> tuple[Any, ...]:
    """A tuple that orders Convex values the way Convex does, across types."""
    t = type(value)
    if t is str or t is Id:
        return (5, value)
    if t is float:
        # IEEE-754 total order, as Convex's sort keys: -NaN < -inf < ... < -0.0 < 0.0 < ... < inf < NaN.
        if value != value:
            return (3, math.inf, 1) if math.copysign(1.0, value) > 0 else (3, -math.inf, -1)
        if value == 0.0:
            return (3, 0.0, -1) if math.copysign(1.0, value) < 0 else (3, 0.0, 0)
        return (3, value, 0)
    if t is int:
        return (2, value)
    if value is None:
        return _NULL_KEY
    if t is bool:
        return (4, value)
    if value is UNSET:
        return _MISSING_KEY
    if t is bytes:
        return (6, value)
    if t is list or t is tuple:
        return (7, tuple(sort_key(v) for v in value))
    if t is dict:
        return (8, tuple((k, sort_key(value[k])) for k in sorted(value)))
    if value is COMMIT_TS:  # sorts as the largest int64 until it is resolved, as in Convex
        return (2, INT64_MAX)
    raise InvalidValueError(f"{type(value).__name__} {value!r} is not a supported Convex type.")


def values_equal(a: Any, b: Any) -> bool:
    """Convex equality: same type and same value (so 1 != 1.0 and None != UNSET)."""
    return sort_key(a) == sort_key(b)


def compare_values(a: Any, b: Any) -> int:
    """-1, 0 or 1, by Convex's order across types."""
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


# --- Values as Convex prints them in error messages ---------------------------
# Convex's validation errors print values with the Display impl of ConvexValue
# (convex-backend crates/value/src/lib.rs): null, an int64 as plain decimal, a float64
# and a string as Rust's `{:?}`, bytes as b"<base64>", arrays [a, b] and objects
# {key: value} with unquoted keys in key order (crates/value/src/utils.rs).

_STR_ESCAPES = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"'}
# Grapheme_Extend beyond categories Mn/Me that are printable (Rust escapes these too).
_EXTEND_EXTRA = frozenset("\u200c\uff9e\uff9f")


class _TooLong(Exception):
    pass


def _rust_float(x: float) -> str:
    """Rust's `{:?}` of an f64: 1.0, -0.0, 1e16, 1.5e-5, NaN, inf."""
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = repr(x)  # same shortest digits, same switch to exponent form (< 1e-4 or >= 1e16)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text


def _rust_str(s: str) -> str:
    """Rust's `{:?}` of a str: double quotes, \\n \\t \\r \\0 \\\\ \\", \\u{..} for the unprintable."""
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    import unicodedata

    out = ['"']
    for ch in s:
        esc = _STR_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch.isprintable() and (
            ch.isascii() or (unicodedata.category(ch) not in ("Mn", "Me") and ch not in _EXTEND_EXTRA)
        ):
            out.append(ch)
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    out.append('"')
    return "".join(out)


def _emit(value: Any, out: list[str], budget: list[int]) -> None:
    t = type(value)
    if value is None:
        text = "null"
    elif t is bool:
        text = "true" if value else "false"
    elif t is int:
        text = str(value)
    elif t is float:
        text = _rust_float(value)
    elif t is str or t is Id:
        text = _rust_str(value)
    elif t is bytes or t is bytearray or t is memoryview:
        import base64

        text = 'b"' + base64.b64encode(bytes(value)).decode("ascii") + '"'
    elif t is dict:
        out.append("{")
        budget[0] -= 1
        first = True
        for key in sorted(k for k, item in value.items() if item is not UNSET and type(k) is str):
            if not first:
                out.append(", ")
                budget[0] -= 2
            first = False
            out.append(f"{key}: ")
            budget[0] -= len(key) + 2
            if budget[0] < 0:
                raise _TooLong
            _emit(value[key], out, budget)
        text = "}"
    elif t is list or t is tuple:
        out.append("[")
        budget[0] -= 1
        for i, item in enumerate(value):
            if i:
                out.append(", ")
                budget[0] -= 2
            if budget[0] < 0:
                raise _TooLong
            _emit(item, out, budget)
        text = "]"
    elif isinstance(value, (str, int, float, dict, list, tuple, bytes)) and not isinstance(value, bool):
        # Subclasses (an enum, an OrderedDict) are sent as their plain base value.
        for base in (bool, str, int, float, dict, list, tuple, bytes):
            if isinstance(value, base):
                _emit(base(value), out, budget)
                return
        return
    else:  # not a Convex value at all (a set, an object): Python's view of it
        try:
            text = repr(value)
        except Exception:  # a broken __repr__ must not hide the validation error
            text = object.__repr__(value)
    out.append(text)
    budget[0] -= len(text)
    if budget[0] < 0:
        raise _TooLong


def format_value(value: Any, limit: int = 200) -> str:
    """`value` as Convex prints it in error messages (`{a: 1.0, b: "x"}`), at most `limit` characters."""
    out: list[str] = []
    try:
        _emit(value, out, [limit])
    except _TooLong:
        return "".join(out)[: limit - 3] + "..."
    except RecursionError:
        return object.__repr__(value)
    return "".join(out)
