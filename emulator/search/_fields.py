"""Reading a search index's fields from a document: dotted paths, and filter values as keys that
compare as Convex compares them (a missing field is not null, 1 is not 1.0)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convex_py._values import UNSET, sort_key


def getter(path: str) -> Callable[[dict[str, Any]], Any]:
    """A function reading the value at a dotted field path of a document (UNSET when absent)."""
    if "." not in path:
        return lambda doc: doc.get(path, UNSET)
    parts = path.split(".")

    def get(doc: dict[str, Any]) -> Any:
        value: Any = doc
        for part in parts:
            if type(value) is not dict:
                return UNSET
            value = value.get(part, UNSET)
        return value

    return get


def filter_key(value: Any) -> Any:
    """The hashable key under which a filter field's value is indexed and looked up."""
    return sort_key(value)
