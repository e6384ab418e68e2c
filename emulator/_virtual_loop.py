"""An asyncio event loop on the virtual clock, for scheduled and cron actions.

Actions are not transactions: they take time. A scheduled action that awaits
`asyncio.sleep(90)` should still be `inProgress` 60 virtual seconds later, and
a cron whose action outlasts its interval should skip its next run, exactly as
on Convex. So async actions started by the scheduler run as tasks of this
loop, whose `time()` is the emulator's clock: their timers join the due work
that `advance` walks through, and the loop never waits for real time.

It peeks at two attributes of CPython's event loop (`_ready`, `_scheduled`),
stable since Python 3.4, to know whether anything is runnable right now.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock is the emulator's virtual clock."""

    def __init__(self, clock: Any) -> None:
        super().__init__()
        self._virtual_clock = clock

    def time(self) -> float:
        return max(self._virtual_clock.now / 1000, self._floor)

    _floor = 0.0

    def next_timer_ms(self) -> float:
        """The virtual time (ms, to the microsecond) of the earliest live timer; inf if none."""
        scheduled: list[Any] = self._scheduled  # type: ignore[attr-defined]
        if scheduled and not scheduled[0].cancelled():
            when = scheduled[0].when()
        else:
            live = [handle.when() for handle in scheduled if not handle.cancelled()]
            if not live:
                return math.inf
            when = min(live)
        return round(when * 1000, 3)

    def _runnable_now(self) -> bool:
        if self._ready:  # type: ignore[attr-defined]
            return True
        return self.next_timer_ms() <= self._virtual_clock.now

    def _lift_floor(self) -> None:
        """Make timers due at the current virtual ms due in asyncio's own float terms too.

        asyncio runs a timer once `when < time() + resolution`; at epoch magnitudes
        float rounding can leave an exactly-due timer a hair in the future.
        """
        now = self._virtual_clock.now
        for handle in self._scheduled:  # type: ignore[attr-defined]
            when = handle.when()
            if round(when * 1000, 3) <= now and when >= self._floor:
                self._floor = math.nextafter(when, math.inf)

    def run_ready(self) -> None:
        """Run every callback runnable at the current virtual time; never block."""
        while True:
            self._lift_floor()
            self.call_soon(self.stop)
            self.run_forever()
            if not self._runnable_now():
                return

    def call_at(self, when: float, callback: Any, *args: Any, context: Any = None) -> asyncio.TimerHandle:
        # Timers live on the virtual clock's microsecond grid, so the float nudge of
        # _lift_floor never accumulates into a drift of later timers.
        handle = super().call_at(round(when * 1000, 3) / 1000, callback, *args, context=context)
        self._note_progress()
        return handle

    _progress: "asyncio.Future[None] | None" = None

    def _note_progress(self, *_: Any) -> None:
        waiter = self._progress
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def wait_for_io(self, tasks: list["asyncio.Task[Any]"]) -> None:
        """With no timer left, block in real time until I/O lets a task progress.

        Returns once a task finishes or sets a new timer (which `advance` then reaches).
        """
        self._progress = waiter = self.create_future()
        for task in tasks:
            task.add_done_callback(self._note_progress)
        try:
            self.run_until_complete(waiter)
        finally:
            self._progress = None
            for task in tasks:
                task.remove_done_callback(self._note_progress)
        self.run_ready()
