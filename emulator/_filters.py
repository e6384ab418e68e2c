"""A query's `.filter(...)` predicates, applied to a document: shared by reads and pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def passes(filters: list[Callable[[dict[str, Any]], Any]], doc: dict[str, Any]) -> bool:
    """Whether `doc` passes every filter (a filter passes with exactly True, as in Convex)."""
    for f in filters:
        if f(doc) is not True:
            return False
    return True
