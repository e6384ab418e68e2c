"""Holding the wall clock (`time.time()`, `datetime.now()`) at an emulator's virtual time.

Two backends: time-machine (the default: it patches the C functions, starts in
microseconds and leaves `time.monotonic`/`perf_counter` real) and freezegun
(selectable, for suites that rely on it). While a hold is on, every move of the
virtual clock moves the wall clock by the same amount, at each job's own time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from convex_py.errors import WallClockError

if TYPE_CHECKING:
    from .clock import Clock

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "WallClock", "WallClockError", "backend_name", "wall_clock_follows"]

DEFAULT_BACKEND = "time-machine"
BACKENDS = ("time-machine", "freezegun")
_ALIASES = {"time-machine": "time-machine", "time_machine": "time-machine", "freezegun": "freezegun"}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def backend_name(value: Any, *, source: str = "wall clock") -> str:
    """The canonical backend name for `value` ("time-machine" or "freezegun")."""
    name = _ALIASES.get(str(value).strip().lower()) if isinstance(value, str) else None
    if name is None:
        raise WallClockError(f"{source}: unknown wall clock {value!r}; expected one of: {', '.join(BACKENDS)}")
    return name


def _follower(held: int, move: Callable[[timedelta], Any]) -> Callable[[float], None]:
    """Moves a held wall clock to each new virtual time (ms) by `move(delta)`, from `held` µs."""
    state = [held]

    def follow(ms: float) -> None:
        us = round(ms * 1000)
        delta = us - state[0]
        if delta:
            state[0] = us
            move(timedelta(microseconds=delta))

    return follow


def _micros(ms: float) -> int:
    return round(ms * 1000)


class WallClock:
    """Holds the wall clock at a `Clock`'s time while started; re-entrant (nested starts share one hold)."""

    __slots__ = ("clock", "backend", "depth", "_stop", "_follow")

    def __init__(self, clock: "Clock", backend: str = DEFAULT_BACKEND) -> None:
        self.clock = clock
        self.backend = backend_name(backend)
        self.depth = 0
        self._stop: Callable[[], None] | None = None
        self._follow: Callable[[float], None] | None = None

    def start(self) -> None:
        """Hold the wall clock at the virtual time (or join the hold already on)."""
        self.depth += 1
        if self.depth > 1:
            return
        try:
            if self.backend == "time-machine":
                self._start_time_machine()
            else:
                self._start_freezegun()
        except BaseException:
            self.depth = 0
            raise
        self.clock.subscribe(self._follow)

    def stop(self) -> None:
        """End this hold; the wall clock is real again once the outermost hold ends."""
        if self.depth == 0:
            return
        self.depth -= 1
        if self.depth:
            return
        self.clock.unsubscribe(self._follow)
        stop, self._stop, self._follow = self._stop, None, None
        if stop is not None:
            stop()

    @property
    def active(self) -> bool:
        return self.depth > 0

    def _start_time_machine(self) -> None:
        import time_machine

        if "freezegun" in sys.modules and datetime.__name__ == "FakeDatetime":
            raise WallClockError(
                "The wall clock is already frozen by freezegun (freeze_time), so time-machine cannot hold it "
                "at the virtual time: stop freeze_time first, or choose freezegun "
                "(`convex_wall_clock = freezegun` in the pytest ini, or @pytest.mark.convex_wall_clock('freezegun'))."
            )
        held = _micros(self.clock.now)
        # A UTC destination also holds the local time zone at UTC (Convex's functions run in UTC),
        # so naive `datetime.now()` reads the same with either backend.
        traveller = time_machine.travel(_EPOCH + timedelta(microseconds=held), tick=False)
        # shift() is time-machine's cheapest move (no tz reset, no re-parse of a destination).
        self._follow = _follower(held, traveller.start().shift)
        self._stop = traveller.stop

    def _start_freezegun(self) -> None:
        from freezegun import freeze_time

        held = _micros(self.clock.now)
        # pytest's own timing (durations, junit times) keeps the real clock.
        freezer = freeze_time(
            _EPOCH + timedelta(microseconds=held), real_asyncio=True, ignore=["_pytest.timing"]
        )
        self._follow = _follower(held, freezer.start().tick)  # a timedelta tick is one addition
        self._stop = freezer.stop


@contextmanager
def wall_clock_follows(emulator: Any, backend: str = DEFAULT_BACKEND) -> Iterator[None]:
    """Hold the wall clock at a `ConvexEmulator`'s virtual time until the block ends (the emulator is not
    imported here: it imports this module)."""
    hold = emulator._hold_wall_clock(backend)
    try:
        yield
    finally:
        hold.stop()
