"""`Ready`: an awaitable that already holds its value.

ctx methods of an `async def` handler return one, so `await ctx.db.get(id)` works
exactly like Convex's JavaScript without an event loop round trip.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any


class Ready:
    """An already-finished awaitable."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.value
        yield  # pragma: no cover - makes this a generator

    def __repr__(self) -> str:
        return f"Ready({self.value!r})"
