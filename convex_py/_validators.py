"""Convex's argument and return validators: the `v` namespace.

    v.object({"items": v.array(v.string()), "note": v.optional(v.string())})

Each validator checks a value strictly, the way Convex does (no coercion except
`int` -> `float` for `v.number()`), returns the value to use (a fresh copy of
containers), and exports a JSON Schema (draft 2020-12).

Speed: `validate` sits on every function call. Validators precompute what they
can when built, the happy path checks `type(x) is ...` and allocates only the
returned copy, and paths are built only when a value fails: the failing
validator raises the internal `_Mismatch`, each container on the way up adds
its own path segment, and `validate` turns it into a `ValidationError`.

Error texts keep Convex's wording (users search for it):

    Value does not match validator.
    Path: .items[0]
    Value: 1
    Validator: v.string()

As in Convex, the second line is the path, or empty for the value itself.
"""

from __future__ import annotations

import functools
import json
import math
import reprlib
import sys
from typing import Any

from ._values import (
    COMMIT_TS,
    INT64_MAX,
    INT64_MIN,
    MAX_OBJECT_FIELDS,
    UNSET,
    Id,
    as_id,
    check_field_name,
    copy_value,
    format_value,
    id_table,
)
from .errors import InvalidValueError, ValidationError, ValidatorError

__all__ = [
    "Validator",
    "IdValidator",
    "NullValidator",
    "NumberValidator",
    "Int64Validator",
    "BooleanValidator",
    "StringValidator",
    "BytesValidator",
    "LiteralValidator",
    "ArrayValidator",
    "ObjectValidator",
    "RecordValidator",
    "UnionValidator",
    "OptionalValidator",
    "AnyValidator",
    "PydanticValidator",
    "to_validator",
    "v",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_NoneType = type(None)
_MISSING: Any = object()  # a field absent from a dict (distinct from UNSET and None)

# Kinds of _Mismatch.
_NO_MATCH = 0
_MISSING_FIELD = 1
_EXTRA_FIELD = 2
_LITERAL = 3
_ID_TABLE = 4
_REASON = 5  # a mismatch with an explanation (pydantic's message, copy_value's)


class _Mismatch(Exception):
    """Internal: a value failed. Containers append path segments on the way up (innermost first)."""

    __slots__ = ("kind", "value", "validator", "field", "segs", "detail")

    def __init__(self, kind: int, value: Any, validator: "Validator", field: Any = None, detail: Any = None) -> None:
        self.kind = kind
        self.value = value
        self.validator = validator
        self.field = field
        self.detail = detail
        self.segs: list[str] = []

    def to_error(self, prefix: str) -> ValidationError:
        path = prefix + "".join(reversed(self.segs))
        path_line = f"Path: {path}" if path else ""
        kind = self.kind
        expected = repr(self.validator)
        value = self.value
        if kind == _NO_MATCH:
            message = f"Value does not match validator.\n{path_line}\nValue: {_value_text(value)}\nValidator: {expected}"
        elif kind == _MISSING_FIELD or kind == _EXTRA_FIELD:
            field = self.field
            if kind == _MISSING_FIELD:
                first = (
                    f"Object is missing the required field `{field}`. Consider wrapping the field validator "
                    "in `v.optional(...)` if this is expected."
                )
            else:
                first = f"Object contains extra field `{field}` that is not in the validator."
            message = f"{first}\n{path_line}\nObject: {_value_text(value)}\nValidator: {expected}"
            path = f"{path}.{field}"  # the attribute names the field; the message, like Convex's, the object
        elif kind == _LITERAL:
            message = f"`{_value_text(value)}` does not match literal validator `{expected}`."
            if path:
                message += f"\n{path_line}"
        elif kind == _ID_TABLE:
            message = (
                f'Found ID "{value}" from table `{self.detail}`, which does not match the table name in '
                f"validator `{expected}`."
            )
            if path:
                message += f"\n{path_line}"
        else:  # _REASON: detail says why
            message = (
                f"Value does not match validator.\n{path_line}\nValue: {_value_text(value)}\n"
                f"Validator: {expected}\nReason: {self.detail}"
            )
        # For a missing or extra field, `value` and `expected` are the object and its validator,
        # as the message shows them, while `path` names the field.
        return ValidationError(message, path=path, value=value, expected=expected)


_repr = reprlib.Repr()
_repr.maxlevel = 4
_repr.maxdict = 12
_repr.maxlist = 12
_repr.maxtuple = 12
_repr.maxstring = 120
_repr.maxother = 120
_repr.maxlong = 60
_MAX_REPR = 200


def _short_repr(value: Any) -> str:
    """A repr for error messages, at most about 200 characters, whatever the value."""
    if value is _MISSING:
        return "<missing>"
    try:
        text = _repr.repr(value)
    except Exception:  # a broken __repr__ must not hide the validation error
        text = object.__repr__(value)
    if len(text) > _MAX_REPR:
        text = text[: _MAX_REPR - 3] + "..."
    return text


def _value_text(value: Any) -> str:
    """A value as Convex's validation errors print it (`{a: 1.0}`, `"x"`), at most about 200 characters."""
    if value is _MISSING:
        return "<missing>"
    return format_value(value, _MAX_REPR)


def _json_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


# --- The base class ----------------------------------------------------------


class Validator:
    """Base class of every validator.

    `validate(value, path="")` returns the value to use or raises `ValidationError`;
    `json_schema()` returns a JSON Schema (draft 2020-12) of the accepted values.
    """

    __slots__ = ("_repr",)

    is_optional: bool = False
    # When `type(x) is _fast`, x is valid and used as is: containers inline this test.
    _fast: Any = None

    def validate(self, value: Any, path: str = "") -> Any:
        try:
            return self._check(value)
        except _Mismatch as e:
            raise e.to_error(path) from None

    def _check(self, value: Any) -> Any:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema (draft 2020-12) document describing the values this validator accepts."""
        defs: dict[str, Any] = {}
        schema = self._schema(defs)
        out: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT}
        out.update(schema)
        if defs:
            merged = dict(out.get("$defs", {}))
            merged.update(defs)
            out["$defs"] = merged
        return out

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def __repr__(self) -> str:
        return self._repr


def _child(obj: Any, where: str) -> Validator:
    """A validator nested in another one: a Validator or a pydantic model, never `v.optional`."""
    validator = _convert(obj, where)
    if validator.is_optional:
        raise ValidatorError(
            f"{validator!r} is not allowed in {where}: `v.optional(...)` only marks a field of "
            "v.object({...}) (or of an args dict) as possibly absent."
        )
    return validator


# --- Leaves ------------------------------------------------------------------


class IdValidator(Validator):
    __slots__ = ("table",)

    def __init__(self, table: str) -> None:
        if type(table) is not str or not table:
            raise ValidatorError(f"v.id() takes a table name (a non-empty str), not {table!r}.")
        self.table = table
        self._repr = f"v.id({_json_str(table)})"

    def _check(self, value: Any) -> Any:
        if type(value) is Id and value.table == self.table:
            return value
        result = as_id(value, self.table)
        if result is None:
            other = id_table(value) if isinstance(value, str) else None
            if other is not None and other != self.table:
                raise _Mismatch(_ID_TABLE, value, self, detail=other)
            raise _Mismatch(_NO_MATCH, value, self)
        return result

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "string"}


class NullValidator(Validator):
    __slots__ = ()
    _fast = _NoneType

    def __init__(self) -> None:
        self._repr = "v.null()"

    def _check(self, value: Any) -> Any:
        if value is None:
            return None
        raise _Mismatch(_NO_MATCH, value, self)

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "null"}


class NumberValidator(Validator):
    """`v.number()` / `v.float64()`: a float; an int (not a bool) in the int64 range becomes a float."""

    __slots__ = ()
    _fast = float

    def __init__(self) -> None:
        self._repr = "v.float64()"  # Convex prints v.number() as v.float64()

    def _check(self, value: Any) -> Any:
        t = type(value)
        if t is float:
            return value
        if t is int:
            if INT64_MIN <= value <= INT64_MAX:
                return float(value)
        elif isinstance(value, float):
            return float(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            if INT64_MIN <= value <= INT64_MAX:
                return float(int(value))
        raise _Mismatch(_NO_MATCH, value, self)

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "number"}


class Int64Validator(Validator):
    __slots__ = ()

    def __init__(self) -> None:
        self._repr = "v.int64()"

    def _check(self, value: Any) -> Any:
        t = type(value)
        if t is int:
            if INT64_MIN <= value <= INT64_MAX:
                return value
        elif isinstance(value, int) and not isinstance(value, bool):  # IntEnum and other subclasses
            value = int(value)
            if INT64_MIN <= value <= INT64_MAX:
                return value
        raise _Mismatch(_NO_MATCH, value, self)

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "integer"}


class CommitTsValidator(Int64Validator):
    """`v.commit_ts()`: an int64 that `ctx.db.vars.commit_ts` fills in with the commit timestamp."""

    __slots__ = ()

    def __init__(self) -> None:
        self._repr = "v.commit_ts()"

    def _check(self, value: Any) -> Any:
        if value is COMMIT_TS:
            return value
        return Int64Validator._check(self, value)


class BooleanValidator(Validator):
    __slots__ = ()
    _fast = bool

    def __init__(self) -> None:
        self._repr = "v.boolean()"

    def _check(self, value: Any) -> Any:
        if type(value) is bool:
            return value
        raise _Mismatch(_NO_MATCH, value, self)

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "boolean"}


class StringValidator(Validator):
    __slots__ = ()
    _fast = str

    def __init__(self) -> None:
        self._repr = "v.string()"

    def _check(self, value: Any) -> Any:
        t = type(value)
        if t is str or t is Id:
            return value
        if isinstance(value, str):  # a str subclass (e.g. a StrEnum member): its plain string
            return str.__str__(value)
        raise _Mismatch(_NO_MATCH, value, self)

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "string"}


class BytesValidator(Validator):
    __slots__ = ()
    _fast = bytes

    def __init__(self) -> None:
        self._repr = "v.bytes()"

    def _check(self, value: Any) -> Any:
        if type(value) is bytes:
            return value
        if isinstance(value, bytes):
            return bytes(value)
        raise _Mismatch(_NO_MATCH, value, self)

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "string", "contentEncoding": "base64"}


class AnyValidator(Validator):
    """`v.any()`: any Convex value, returned as a private copy."""

    __slots__ = ()

    def __init__(self) -> None:
        self._repr = "v.any()"

    def _check(self, value: Any) -> Any:
        try:
            return copy_value(value)[0]
        except (InvalidValueError, RecursionError) as e:
            raise _Mismatch(_REASON, value, self, detail=str(e) or "not a Convex value") from None

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {}


def _literal_value(value: Any) -> Any:
    t = type(value)
    if t is str or t is bool or t is float:
        return value
    if t is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise ValidatorError(f"v.literal({value}) is outside the int64 range.")
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return _literal_value(int(value))
    if isinstance(value, float):
        return float(value)
    raise ValidatorError(
        f"v.literal() takes a str, int, float or bool, not {type(value).__name__} {_short_repr(value)}."
    )


class LiteralValidator(Validator):
    __slots__ = ("value", "_type", "_float")

    def __init__(self, value: Any) -> None:
        self.value = _literal_value(value)
        self._type = type(self.value)
        self._float = self._type is float
        if self._type is str:
            shown = _json_str(self.value)
        else:
            shown = repr(self.value)
        self._repr = f"v.literal({shown})"

    def _check(self, value: Any) -> Any:
        if type(value) is self._type:
            if not self._float:
                if value == self.value:
                    return value
            elif _same_float(value, self.value):
                return value
        raise _Mismatch(_LITERAL, value, self)

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        if self._float and not math.isfinite(self.value):
            return {"not": {}}  # JSON has no NaN or infinity: no JSON value matches
        return {"const": self.value}


def _same_float(a: float, b: float) -> bool:
    """Convex's float equality: 0.0 and -0.0 differ, NaN equals NaN."""
    if a == b:
        return a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b)
    return a != a and b != b


# --- Containers --------------------------------------------------------------


class ArrayValidator(Validator):
    __slots__ = ("item",)

    def __init__(self, item: Any) -> None:
        self.item = _child(item, "v.array(...)")
        self._repr = f"v.array({self.item!r})"

    def _check(self, value: Any) -> Any:
        if type(value) is not list:
            if not isinstance(value, list):  # tuples, sets, ... are not arrays
                raise _Mismatch(_NO_MATCH, value, self)
        item = self.item
        fast = item._fast
        try:
            if fast is None:
                check = item._check
                return [check(x) for x in value]
            check = item._check
            return [x if type(x) is fast else check(x) for x in value]
        except _Mismatch:
            pass
        # Error route: validate again, one element at a time, to find the index.
        for i, x in enumerate(value):
            try:
                item._check(x)
            except _Mismatch as e:
                e.segs.append(f"[{i}]")
                raise e from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"type": "array", "items": self.item._schema(defs)}


class ObjectValidator(Validator):
    """`v.object({...})`: exactly these fields; a field holding UNSET counts as absent."""

    __slots__ = ("fields", "_checks", "_names", "_check", "validate", "sized")

    def __init__(self, fields: Any) -> None:
        if type(fields) is not dict and not isinstance(fields, dict):
            raise ValidatorError(f"v.object() takes a dict of field validators, not {_short_repr(fields)}.")
        converted: dict[str, Validator] = {}
        for name, field in fields.items():
            if type(name) is not str:
                raise ValidatorError(f"v.object() field names must be strings, not {name!r}.")
            try:
                check_field_name(name, "", top_level=False)
            except InvalidValueError as e:
                raise ValidatorError(f"Invalid field name in v.object(): {e}") from None
            converted[name] = _convert(field, f"field `{name}` of v.object(...)")
        self.fields = converted
        # Convex checks and prints fields in name order (its objects are sorted maps).
        checks = []
        for name in sorted(converted):
            field = converted[name]
            inner = field.inner if field.is_optional else field
            checks.append((name, inner, inner._fast, field.is_optional))
        self._checks = tuple(checks)
        self._names = frozenset(converted)
        body = ", ".join(f"{name}: {field!r}" for name, field in sorted(converted.items()))
        self._repr = f"v.object({{{body}}})"
        self._check = _compile_object_check(self, for_validate=False)
        self.validate = _compile_object_check(self, for_validate=True)  # the same, with `path`
        # `sized(value)`: (checked copy, size as Convex counts it) in one pass for a flat value of
        # scalars, else None (the caller then checks and sizes it the long way, errors included).
        self.sized = _compile_object_sized(self)

    def _check_slow(self, value: Any) -> Any:
        """The reference check; also the error route of the compiled `_check`."""
        if type(value) is not dict:
            if not isinstance(value, dict):
                raise _Mismatch(_NO_MATCH, value, self)
        out = {}
        get = value.get
        for name, inner, fast, optional in self._checks:
            x = get(name, _MISSING)
            if type(x) is fast:
                out[name] = x
            elif x is _MISSING or x is UNSET:
                if not optional:
                    raise _Mismatch(_MISSING_FIELD, value, self, field=name)
            else:
                try:
                    out[name] = inner._check(x)
                except _Mismatch as e:
                    e.segs.append("." + name)
                    raise
        if len(out) != len(value):
            names = self._names
            for key, x in value.items():
                if key not in names and x is not UNSET:
                    raise _Mismatch(_EXTRA_FIELD, value, self, field=key)
        return out

    def __reduce__(self) -> tuple[Any, ...]:  # the compiled functions are rebuilt, not pickled
        return (ObjectValidator, (self.fields,))

    # Convex's VObject helpers: each returns a new validator, this one is unchanged.
    def pick(self, *names: str) -> "ObjectValidator":
        """Only these fields (Convex's `.pick(...)`)."""
        missing = [name for name in names if name not in self.fields]
        if missing:
            raise ValidatorError(
                f"{self!r}.pick(): no field {missing[0]!r} to pick (fields: {', '.join(sorted(self.fields))})."
            )
        return ObjectValidator({name: self.fields[name] for name in names})

    def omit(self, *names: str) -> "ObjectValidator":
        """Every field but these (Convex's `.omit(...)`; a name that is not a field is ignored)."""
        return ObjectValidator({k: f for k, f in self.fields.items() if k not in names})

    def partial(self) -> "ObjectValidator":
        """The same fields, each optional (Convex's `.partial()`)."""
        return ObjectValidator({k: f if f.is_optional else OptionalValidator(f) for k, f in self.fields.items()})

    def extend(self, fields: Any) -> "ObjectValidator":
        """These fields added, replacing any of the same name (Convex's `.extend({...})`)."""
        if isinstance(fields, ObjectValidator):
            fields = fields.fields
        if not isinstance(fields, dict):
            raise ValidatorError(f"{self!r}.extend() takes a dict of field validators, not {_short_repr(fields)}.")
        return ObjectValidator({**self.fields, **fields})

    def _validate_slow(self, value: Any, path: str = "") -> Any:
        try:
            return self._check_slow(value)
        except _Mismatch as e:
            raise e.to_error(path) from None

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        properties = {}
        required = []
        for name, field in self.fields.items():
            if field.is_optional:
                properties[name] = field.inner._schema(defs)
            else:
                properties[name] = field._schema(defs)
                required.append(name)
        return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _compile_object_check(validator: "ObjectValidator", for_validate: bool) -> Any:
    """A `_check` unrolled for this object's fields (the happy path only).

    It inlines each field's type test, keeps the field names as constants and the
    sub-validators in locals; anything unusual (a missing field, a field that
    fails, an extra or UNSET field, a dict subclass) hands the value to
    `_check_slow`, which gives the exact answer or error. With `for_validate`,
    the function is `validate(value, path="")` instead, falling back to
    `_validate_slow`, so the public call costs one Python call, not two.

    The generated code depends only on the layout (names, fast types, optional
    flags), so it is compiled once per layout and cached: building the same
    shape of validator again (say, per call) costs microseconds, not a compile.
    """
    checks = validator._checks
    layout = tuple(
        (name, fast, optional, type(inner) is NumberValidator) for name, inner, fast, optional in checks
    )
    factory = _object_check_factory(layout, for_validate)
    slow = validator._validate_slow if for_validate else validator._check_slow
    args: list[Any] = [slow]
    for _, inner, fast, _ in checks:
        args.append(inner._check)
        if fast is not None:
            args.append(fast)
    return factory(*args)


@functools.lru_cache(maxsize=1024)
def _object_check_factory(layout: tuple[tuple[str, Any, bool, bool], ...], for_validate: bool) -> Any:
    factory_params = ["_slow"]
    params = ["value", 'path=""'] if for_validate else ["value"]
    params += ["_slow=_slow", "_M=_M", "_UNSET=_UNSET", "_Mismatch=_Mismatch", "_dict=_dict", "_int=_int", "_float=_float"]
    fallback = "_slow(value, path)" if for_validate else "_slow(value)"
    lines = ["    if type(value) is not _dict:", f"        return {fallback}", "    get = value.get"]
    for i, (name, fast, optional, is_number) in enumerate(layout):
        factory_params.append(f"_C{i}")
        params.append(f"_C{i}=_C{i}")
        x = f"x{i}"
        lines.append(f"    {x} = get({name!r}, _M)")
        if fast is not None:
            factory_params.append(f"_F{i}")
            params.append(f"_F{i}=_F{i}")
            lines.append(f"    if type({x}) is not _F{i}:")
            indent = "        "
        else:
            indent = "    "
        if is_number:  # v.number() given an int: convert inline
            lines.append(f"{indent}if type({x}) is _int and {INT64_MIN} <= {x} <= {INT64_MAX}:")
            lines.append(f"{indent}    {x} = _float({x})")
            lines.append(f"{indent}else:")
            indent += "    "
        if optional:
            lines.append(f"{indent}if {x} is _UNSET:")
            lines.append(f"{indent}    return {fallback}")
            lines.append(f"{indent}if {x} is not _M:")
            lines.append(f"{indent}    try:")
            lines.append(f"{indent}        {x} = _C{i}({x})")
            lines.append(f"{indent}    except _Mismatch:")
            lines.append(f"{indent}        return {fallback}")
        else:
            lines.append(f"{indent}if {x} is _M or {x} is _UNSET:")
            lines.append(f"{indent}    return {fallback}")
            lines.append(f"{indent}try:")
            lines.append(f"{indent}    {x} = _C{i}({x})")
            lines.append(f"{indent}except _Mismatch:")
            lines.append(f"{indent}    return {fallback}")
    lines += _result_lines([(name, optional) for name, _, optional, _ in layout], fallback)
    lines.append("    return out")
    source = (
        f"def _factory({', '.join(factory_params)}):\n"
        f"  def {'validate' if for_validate else '_check'}({', '.join(params)}):\n"
        + "\n".join("  " + line for line in lines)
        + f"\n  return {'validate' if for_validate else '_check'}\n"
    )
    namespace: dict[str, Any] = {
        "_M": _MISSING,
        "_UNSET": UNSET,
        "_Mismatch": _Mismatch,
        "_dict": dict,
        "_int": int,
        "_float": float,
    }
    exec(compile(source, "<v.object check>", "exec"), namespace)
    return namespace["_factory"]


# What `_compile_object_sized` handles inline, by validator class: the size a value adds is
# fixed, or its length plus a constant (strings and ids: ASCII only, else the long way).
_SIZED_KINDS = {"StringValidator": "str", "NumberValidator": "number", "BooleanValidator": "bool",
                "NullValidator": "null", "IdValidator": "id"}


def _compile_object_sized(validator: "ObjectValidator") -> Any:
    """`validate` and Convex's size (`getConvexSize`) of a flat object in one pass, for the hot path
    (function arguments, documents, return values); None when a field is not a plain scalar."""
    layout = []
    if len(validator._checks) > MAX_OBJECT_FIELDS:
        return _never_sized
    for name, inner, _fast, optional in validator._checks:
        kind = _SIZED_KINDS.get(type(inner).__name__)
        if kind is None or name.startswith("_"):
            return _never_sized
        layout.append((name, kind, optional))
    factory = _object_sized_factory(tuple(layout))
    return factory(*[inner._check for name, inner, _f, _o in validator._checks])


def _never_sized(value: Any) -> None:
    return None


@functools.lru_cache(maxsize=1024)
def _object_sized_factory(layout: tuple[tuple[str, str, bool], ...]) -> Any:
    """The source of a `sized` function for one layout (compiled once per layout, as the checks are)."""
    params = ["value", "_M=_M", "_UNSET=_UNSET", "_Mismatch=_Mismatch", "_dict=_dict", "_int=_int",
              "_float=_float", "_str=_str", "_bool=_bool", "_Id=_Id", "_len=len"]
    factory_params = []
    # A field adds len(name) + 1, and its value: 9 for a number, 1 for a boolean or null, and
    # len + 2 for an ASCII string (see convex_py._values.flat_size).
    base = 2
    lines = ["    if type(value) is not _dict:", "        return None", "    get = value.get"]
    for i, (name, kind, optional) in enumerate(layout):
        factory_params.append(f"_C{i}")
        params.append(f"_C{i}=_C{i}")
        x = f"x{i}"
        fixed = len(name) + 1 + {"str": 2, "id": 2, "number": 9, "bool": 1, "null": 1}[kind]
        lines.append(f"    {x} = get({name!r}, _M)")
        indent = "    "
        if optional:
            lines.append(f"    if {x} is _UNSET:")
            lines.append("        return None")
            lines.append(f"    if {x} is not _M:")
            lines.append(f"        size += {fixed}")
            indent = "        "
        else:
            base += fixed
        if kind == "str":
            lines.append(f"{indent}if type({x}) is not _str or not {x}.isascii():")
            lines.append(f"{indent}    return None")
            lines.append(f"{indent}size += _len({x})")
        elif kind == "number":
            lines.append(f"{indent}if type({x}) is not _float:")
            lines.append(f"{indent}    if type({x}) is _int and {INT64_MIN} <= {x} <= {INT64_MAX}:")
            lines.append(f"{indent}        {x} = _float({x})")
            lines.append(f"{indent}    else:")
            lines.append(f"{indent}        return None")
        elif kind == "bool":
            lines.append(f"{indent}if type({x}) is not _bool:")
            lines.append(f"{indent}    return None")
        elif kind == "null":
            lines.append(f"{indent}if {x} is not None:")
            lines.append(f"{indent}    return None")
        else:  # id
            lines.append(f"{indent}if type({x}) is not _str and type({x}) is not _Id:")
            lines.append(f"{indent}    return None")
            lines.append(f"{indent}try:")
            lines.append(f"{indent}    {x} = _C{i}({x})")
            lines.append(f"{indent}except _Mismatch:")
            lines.append(f"{indent}    return None")
            lines.append(f"{indent}if not {x}.isascii():")
            lines.append(f"{indent}    return None")
            lines.append(f"{indent}size += _len({x})")
    lines.insert(3, f"    size = {base}")
    lines += _result_lines([(name, optional) for name, _, optional in layout], "None")
    lines.append("    return out, size")
    source = (
        f"def _factory({', '.join(factory_params)}):\n"
        f"  def sized({', '.join(params)}):\n"
        + "\n".join("  " + line for line in lines)
        + "\n  return sized\n"
    )
    namespace: dict[str, Any] = {"_M": _MISSING, "_UNSET": UNSET, "_Mismatch": _Mismatch, "_dict": dict,
                                 "_int": int, "_float": float, "_str": str, "_bool": bool, "_Id": Id}
    exec(compile(source, "<v.object sized>", "exec"), namespace)
    return namespace["_factory"]


def _result_lines(fields: list[tuple[str, bool]], fallback: str) -> list[str]:
    """The generated lines that build `out` from the checked `x0, x1, ...` in field order (a dict
    display for the leading required fields), and hand an object with extra fields to `fallback`."""
    first_optional = next((i for i, (_, optional) in enumerate(fields) if optional), len(fields))
    items = ", ".join(f"{fields[i][0]!r}: x{i}" for i in range(first_optional))
    lines = [f"    out = {{{items}}}"]
    for i in range(first_optional, len(fields)):
        name, optional = fields[i]
        if optional:
            lines.append(f"    if x{i} is not _M:")
            lines.append(f"        out[{name!r}] = x{i}")
        else:
            lines.append(f"    out[{name!r}] = x{i}")
    lines.append("    if len(out) != len(value):")
    lines.append(f"        return {fallback}")
    return lines


def _string_like(validator: Validator) -> bool:
    if isinstance(validator, (StringValidator, IdValidator)):
        return True
    if isinstance(validator, LiteralValidator):
        return validator._type is str
    if isinstance(validator, UnionValidator):
        return all(_string_like(m) for m in validator.members)
    return False


class RecordValidator(Validator):
    """`v.record(keys, values)`: an object whose every key and value match."""

    __slots__ = ("keys", "values")

    def __init__(self, keys: Any, values: Any) -> None:
        self.keys = _child(keys, "the keys of v.record(...)")
        if not _string_like(self.keys):
            raise ValidatorError(
                f"v.record() keys must be validated by v.string(), v.id(...), a string v.literal(...) or a "
                f"union of those, not {self.keys!r}: object keys are strings."
            )
        self.values = _child(values, "the values of v.record(...)")
        self._repr = f"v.record({self.keys!r}, {self.values!r})"

    def _check(self, value: Any) -> Any:
        if type(value) is not dict:
            if not isinstance(value, dict):
                raise _Mismatch(_NO_MATCH, value, self)
        key_check = self.keys._check
        key_fast = self.keys._fast
        val_check = self.values._check
        val_fast = self.values._fast
        out = {}
        for key, x in value.items():
            if x is UNSET:
                continue
            if type(key) is not key_fast:
                try:
                    key = key_check(key)
                except _Mismatch as e:
                    e.segs.append(".keys()")  # Convex's path for a record key
                    raise
            if type(x) is val_fast:
                out[key] = x
            else:
                try:
                    out[key] = val_check(x)
                except _Mismatch as e:
                    e.segs.append(f".{key}")
                    raise
        return out

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "propertyNames": self.keys._schema(defs),
            "additionalProperties": self.values._schema(defs),
        }


class UnionValidator(Validator):
    """`v.union(...)`: the first member that accepts the value decides (an int tries number last)."""

    __slots__ = ("members", "_fast_types", "_literals", "_int_order")

    def __init__(self, *members: Any) -> None:
        if not members:
            raise ValidatorError("v.union() needs at least one member validator.")
        self.members = tuple(_child(m, "v.union(...)") for m in members)
        self._fast_types = frozenset(m._fast for m in self.members if m._fast is not None)
        self._literals = frozenset(
            (m._type, m.value) for m in self.members if isinstance(m, LiteralValidator) and not m._float
        )
        # An int is first offered to the members that keep it an int (int64, literals), then to
        # v.number(), which would turn it into a float.
        self._int_order = tuple(m for m in self.members if not isinstance(m, NumberValidator)) + tuple(
            m for m in self.members if isinstance(m, NumberValidator)
        )
        self._repr = "v.union(" + ", ".join(repr(m) for m in self.members) + ")"

    def _check(self, value: Any) -> Any:
        t = type(value)
        if t in self._fast_types:
            return value
        members = self.members
        if len(members) == 1:
            return members[0]._check(value)  # Convex reports the member's own error
        if self._literals:
            try:
                if (t, value) in self._literals:
                    return value
            except TypeError:  # unhashable value: not a literal
                pass
        for member in self._int_order if t is int else members:
            try:
                return member._check(value)
            except _Mismatch:
                pass
        raise _Mismatch(_NO_MATCH, value, self)

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return {"anyOf": [m._schema(defs) for m in self.members]}


class OptionalValidator(Validator):
    """`v.optional(x)`: a field of an object that may be absent (or UNSET)."""

    __slots__ = ("inner",)
    is_optional = True

    def __init__(self, inner: Any) -> None:
        self.inner = _child(inner, "v.optional(...)")
        self._repr = f"v.optional({self.inner!r})"

    def _check(self, value: Any) -> Any:
        # Used alone (e.g. as a `returns` validator), absence is UNSET.
        if value is UNSET:
            return UNSET
        return self.inner._check(value)

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        return self.inner._schema(defs)


# --- Pydantic models ---------------------------------------------------------


def _is_pydantic_model(obj: Any) -> bool:
    pydantic = sys.modules.get("pydantic")  # not imported: obj cannot be one of its models
    if pydantic is None or not isinstance(obj, type):
        return False
    return issubclass(obj, pydantic.BaseModel)


def _format_loc(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{part}]" if type(part) is int else f".{part}" for part in loc)


class PydanticValidator(Validator):
    """A pydantic model used as a validator: strict validation, a plain dict out."""

    __slots__ = ("model", "_error_type")

    def __init__(self, model: Any) -> None:
        if not _is_pydantic_model(model):
            raise ValidatorError(f"PydanticValidator takes a pydantic BaseModel subclass, not {model!r}.")
        self.model = model
        self._error_type = sys.modules["pydantic"].ValidationError
        self._repr = model.__name__

    def __reduce__(self) -> tuple[Any, ...]:
        return (PydanticValidator, (self.model,))

    def _check(self, value: Any) -> Any:
        try:
            instance = self.model.model_validate(value, strict=True)
        except self._error_type as e:
            raise self._mismatch(value, e) from None
        return instance.model_dump()

    def _mismatch(self, value: Any, error: Any) -> _Mismatch:
        errors = error.errors(include_url=False)
        if not errors:  # pragma: no cover - pydantic always reports at least one
            return _Mismatch(_NO_MATCH, value, self)
        first = errors[0]
        loc = tuple(first.get("loc", ()))
        kind = first.get("type")
        if kind == "missing" and loc:
            parent, field = loc[:-1], loc[-1]
            mismatch = _Mismatch(_MISSING_FIELD, _value_at(value, parent), self, field=field)
            inner = _format_loc(parent)
        elif kind == "extra_forbidden" and loc:
            parent, field = loc[:-1], loc[-1]
            mismatch = _Mismatch(_EXTRA_FIELD, _value_at(value, parent), self, field=field)
            inner = _format_loc(parent)
        else:
            mismatch = _Mismatch(_REASON, first.get("input", value), self, detail=first.get("msg", str(error)))
            inner = _format_loc(loc)
        if inner:
            mismatch.segs.append(inner)
        return mismatch

    def _schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        schema = dict(self.model.model_json_schema())
        defs.update(schema.pop("$defs", {}))  # hoisted to the root, where "#/$defs/..." points
        return schema


def _value_at(value: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            value = value[part]
        except Exception:
            return value
    return value


# --- Building validators -----------------------------------------------------


def _convert(obj: Any, where: str) -> Validator:
    if isinstance(obj, Validator):
        return obj
    if _is_pydantic_model(obj):
        return PydanticValidator(obj)
    hint = ""
    if isinstance(obj, dict):
        hint = " Wrap a nested object in v.object({...})."
    elif getattr(obj, "__self__", None) is v:
        hint = f" Did you forget the parentheses: v.{obj.__name__}()?"
    elif any(obj is t for t in (str, int, float, bool, bytes, list, dict, type(None))):
        hint = " Use v.string(), v.int64(), v.number(), v.boolean(), v.bytes(), v.array(...), v.object({...}) or v.null()."
    raise ValidatorError(f"{_short_repr(obj)} given for {where} is not a validator.{hint}")


def concrete_validators(validator: Validator) -> list[Validator]:
    """The validators a value may have to match: `optional` and `union` taken apart, recursively."""
    out: list[Validator] = []
    todo = [validator]
    while todo:
        node = todo.pop()
        if isinstance(node, OptionalValidator):
            todo.append(node.inner)
        elif isinstance(node, UnionValidator):
            todo.extend(node.members)
        else:
            out.append(node)
    return out


def to_validator(obj: Any) -> Validator:
    """What `args=` / `returns=` accept, as a Validator.

    A Validator is returned as is; a dict of validators becomes `v.object(dict)`;
    a pydantic model class becomes a `PydanticValidator`. Anything else raises
    `ValidatorError`.
    """
    if isinstance(obj, Validator):
        return obj
    if type(obj) is dict or isinstance(obj, dict):
        return ObjectValidator(obj)
    if _is_pydantic_model(obj):
        return PydanticValidator(obj)
    return _convert(obj, "a validator (args= or returns=)")


class _V:
    """The `v` namespace, as in Convex: `v.string()`, `v.object({...})`, ..."""

    __slots__ = ()

    # Leaves have no state: one shared instance each.
    _null = NullValidator()
    _number = NumberValidator()
    _int64 = Int64Validator()
    _boolean = BooleanValidator()
    _string = StringValidator()
    _bytes = BytesValidator()
    _any = AnyValidator()

    def id(self, table: str) -> IdValidator:
        return IdValidator(table)

    def null(self) -> NullValidator:
        return self._null

    def number(self) -> NumberValidator:
        return self._number

    def float64(self) -> NumberValidator:
        return self._number

    def int64(self) -> Int64Validator:
        return self._int64

    def commit_ts(self) -> CommitTsValidator:
        """An int64 commit timestamp; write `ctx.db.vars.commit_ts` to fill it in at commit (Convex's `v.commitTs()`)."""
        return CommitTsValidator()

    commitTs = commit_ts

    def boolean(self) -> BooleanValidator:
        return self._boolean

    def string(self) -> StringValidator:
        return self._string

    def bytes(self) -> BytesValidator:
        return self._bytes

    def literal(self, value: Any) -> LiteralValidator:
        return LiteralValidator(value)

    def array(self, item: Any) -> ArrayValidator:
        return ArrayValidator(item)

    def object(self, fields: Any) -> ObjectValidator:
        return ObjectValidator(fields)

    def record(self, keys: Any, values: Any) -> RecordValidator:
        return RecordValidator(keys, values)

    def union(self, *members: Any) -> UnionValidator:
        return UnionValidator(*members)

    def optional(self, inner: Any) -> OptionalValidator:
        return OptionalValidator(inner)

    def nullable(self, inner: Any) -> UnionValidator:
        return UnionValidator(inner, self._null)

    def any(self) -> AnyValidator:
        return self._any

    def __repr__(self) -> str:
        return "v"


v = _V()
