"""The virtual clock: the only time the emulator reads. It moves only when told to."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from convex_py.errors import ConvexPyError


class ClockError(ConvexPyError, ValueError):
    """A time that cannot be used (naive datetime, unparseable string, moving backwards)."""


def to_ms(value: Any, *, what: str = "time") -> float:
    """Milliseconds since the epoch from ms, an aware datetime or an ISO-8601 string."""
    if isinstance(value, bool):
        raise ClockError(f"{what}: expected ms since the epoch, an aware datetime or an ISO string, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ClockError(f"{what}: {value!r} is not an ISO-8601 time (e.g. 2030-01-01T00:00:00Z)") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp() * 1000
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ClockError(f"{what}: {value!r} is a naive datetime; give it a timezone (e.g. tzinfo=timezone.utc)")
        return value.timestamp() * 1000
    raise ClockError(f"{what}: expected ms since the epoch, an aware datetime or an ISO string, got {value!r}")


class Clock:
    """Virtual time in milliseconds since the epoch."""

    __slots__ = ("now", "_listeners")

    def __init__(self, start: Any = None) -> None:
        self.now: float = float(int(time.time() * 1000)) if start is None else to_ms(start, what="start_time")
        self._listeners: list[Any] = []

    def set(self, ms: float) -> None:
        """Move to `ms` (never backwards), telling listeners (e.g. the held wall clock) about it."""
        if ms < self.now:
            raise ClockError(f"Time only moves forward: cannot go from {self.now} back to {ms}")
        self.now = ms
        for listener in self._listeners:
            listener(ms)

    def subscribe(self, listener: Any) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Any) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def as_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now / 1000, tz=timezone.utc)
