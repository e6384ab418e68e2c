"""Convex's JSON encoding of values, as its HTTP API and clients speak it.

A plain JSON number is a float64; an int64 is `{"$integer": base64 of 8
little-endian bytes}`; bytes are `{"$bytes": base64}`; floats JSON cannot carry
(NaN, infinities, -0.0) are `{"$float": base64 of the 8-byte double}`.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

from convex_py.errors import InvalidValueError

_SPECIAL_KEYS = ("$integer", "$float", "$bytes")


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


def decode(value: Any) -> Any:
    """Convex-encoded JSON as Python values (every plain number becomes a float)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (key, payload), = value.items()
            if key in _SPECIAL_KEYS:
                try:
                    raw = base64.b64decode(payload, validate=True)
                    if key == "$integer":
                        return struct.unpack("<q", raw)[0]
                    if key == "$float":
                        return struct.unpack("<d", raw)[0]
                    return raw
                except (ValueError, TypeError, struct.error):
                    raise InvalidValueError(f"Malformed {key} value: {payload!r}") from None
        return {k: decode(v) for k, v in value.items()}
    raise InvalidValueError(f"{value!r} is not Convex-encoded JSON")
