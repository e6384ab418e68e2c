"""Holding the wall clock at an emulator's virtual time, with freezegun.

While it holds, `time.time()` and `datetime.now()` (in the caller and inside
functions) agree with `emulator.now` and move when it moves. Starting freezegun
is slow, moving it is cheap: start once, then follow the clock.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from ._emulator import ConvexEmulator


@contextmanager
def wall_clock_follows(emulator: "ConvexEmulator") -> Iterator[None]:
    """Freeze the wall clock at the emulator's virtual time until the block ends."""
    from freezegun import freeze_time

    # pytest's own timing (durations, junit times) keeps the real clock.
    freezer = freeze_time(emulator.clock.as_datetime(), real_asyncio=True, ignore=["_pytest.timing"])
    frozen = freezer.start()

    def follow(ms: float) -> None:
        frozen.move_to(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))

    emulator.clock.subscribe(follow)
    try:
        yield
    finally:
        emulator.clock.unsubscribe(follow)
        freezer.stop()
