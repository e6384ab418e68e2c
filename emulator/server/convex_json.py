"""Convex's JSON encoding of values, as its HTTP API and clients speak it.

A plain JSON number is a float64; an int64 is `{"$integer": base64 of 8
little-endian bytes}`; bytes are `{"$bytes": base64}`; floats JSON cannot carry
(NaN, infinities, -0.0) are `{"$float": base64 of the 8-byte double}`.
`decode` refuses what Convex refuses (too deep, out of range, lone surrogates)
with an `InvalidValueError`, so a client's bad input is a 400, never a crash.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

from convex_py.errors import InvalidValueError

_SPECIAL_KEYS = ("$integer", "$float", "$bytes")
MAX_DEPTH = 64  # Convex's nesting limit for arguments (SEMANTICS: "Arguments may nest 64 levels")


def encode(value: Any) -> Any:
    """A Convex value (Python) as Convex-encoded JSON."""
    t = type(value)
    if t is bool or value is None:
        return value
    if isinstance(value, int) and t is not bool:
        return {"$integer": base64.b64encode(struct.pack("<q", value)).decode()}
    if t is float:
        if math.isfinite(value) and not (value == 0 and math.copysign(1, value) < 0):
            return value
        return {"$float": base64.b64encode(struct.pack("<d", value)).decode()}
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    raise InvalidValueError(f"{type(value).__name__} {value!r} is not a Convex value")


def decode(value: Any, check_text: bool = True) -> Any:
    """Convex-encoded JSON as Python values (every plain number becomes a float).

    `check_text=False` skips the search for lone surrogates when the caller knows
    the JSON text had none (no `\\ud800`-`\\udfff` escape in it).
    """
    return _decode(value, 0, check_text, "")


def _where(path: str) -> str:
    return f" at {path}" if path else ""


def _text(text: str, path: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValueError(f"Invalid string{_where(path)}: it contains a lone surrogate (not valid Unicode)") from None
    return text


def _decode(value: Any, depth: int, check_text: bool, path: str) -> Any:
    t = type(value)
    if t is str:
        return _text(value, path) if check_text else value
    if t is bool or value is None:
        return value
    if t is float:
        if not math.isfinite(value):
            raise InvalidValueError(f"Number out of range{_where(path)}: it does not fit in a float64")
        return value
    if t is int:
        try:
            return float(value)
        except OverflowError:
            raise InvalidValueError(f"Number out of range{_where(path)}: it does not fit in a float64") from None
    if depth >= MAX_DEPTH:
        raise InvalidValueError(f"Value is too nested{_where(path)} (limit: {MAX_DEPTH} levels)")
    if t is list:
        return [_decode(v, depth + 1, check_text, f"{path}[{i}]") for i, v in enumerate(value)]
    if t is dict:
        if len(value) == 1:
            (key, payload), = value.items()
            if key in _SPECIAL_KEYS:
                return _special(key, payload, path)
        out = {}
        for k, v in value.items():
            if check_text:
                _text(k, path)
            out[k] = _decode(v, depth + 1, check_text, f"{path}.{k}" if path else k)
        return out
    raise InvalidValueError(f"{value!r} is not Convex-encoded JSON")


def _special(key: str, payload: Any, path: str) -> Any:
    try:
        if type(payload) is not str:
            raise TypeError
        raw = base64.b64decode(payload, validate=True)
        if key == "$integer":
            return struct.unpack("<q", raw)[0]
        if key == "$float":
            return struct.unpack("<d", raw)[0]
        return raw
    except (ValueError, TypeError, struct.error):
        shown = payload if type(payload) is str and len(payload) <= 40 else type(payload).__name__
        raise InvalidValueError(f"Malformed {key} value{_where(path)}: {shown!r}") from None


__all__ = ["MAX_DEPTH", "decode", "encode"]
