"""Running an `async def` query or mutation to its end at once, with no real time passing.

Every ctx method of such a handler returns an awaitable that is already done, so
the coroutine usually finishes at its first step. `asyncio.gather` over ctx
calls (JavaScript's `Promise.all` habit) needs an event loop: the handler runs
with a private loop as the running loop, and when it waits on a future of that
loop, the loop runs what is ready (the gathered calls, in the order given) until
the future is done. Anything that would need time to pass (a sleep, a timer, a
network call) is refused: queries and mutations are deterministic.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from convex_py.errors import UnsupportedInFunctionError

_get_running_loop = asyncio._get_running_loop
_set_running_loop = asyncio._set_running_loop

_local = threading.local()


class _DriveLoop(asyncio.SelectorEventLoop):
    """The private loop of one thread's handlers: closed quietly when its thread lets go of it."""

    def __del__(self) -> None:
        try:
            if not self.is_closed() and not self.is_running():
                self.close()
        except Exception:  # interpreter shutdown
            pass


def new_quiet_loop() -> asyncio.AbstractEventLoop:
    """A loop that closes itself when its thread lets go of it (no ResourceWarning, no leaked fds)."""
    return _DriveLoop()


def drive(coro: Coroutine[Any, Any, Any], what: str) -> Any:
    """Run a query's or mutation's coroutine to completion; `what` names it in errors."""
    loop = getattr(_local, "loop", None)
    temporary = False
    if loop is None or loop._thread_id is not None or loop._closed:  # type: ignore[attr-defined]
        # (No loop yet, or it is running, or closed: `is_running()`/`is_closed()`, read directly.)
        if loop is None or loop.is_closed():
            loop = _local.loop = new_quiet_loop()
        else:  # a handler run by a task of the loop (a nested call inside asyncio.gather)
            loop = new_quiet_loop()
            temporary = True
    outer = _get_running_loop()
    _set_running_loop(loop)
    try:
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            return stop.value
        return _drive_waiting(coro, yielded, loop, what)
    finally:
        _set_running_loop(outer)
        if loop._ready or loop._scheduled:  # type: ignore[attr-defined]
            _discard_tasks(loop)  # tasks the handler started and never awaited
        if temporary:
            loop.close()


def _drive_waiting(coro: Coroutine[Any, Any, Any], yielded: Any, loop: asyncio.AbstractEventLoop, what: str) -> Any:
    """The rest of a coroutine that waits: run the loop's ready work each time it does."""
    while True:
        if asyncio.isfuture(yielded) and yielded.get_loop() is loop:
            yielded._asyncio_future_blocking = False  # type: ignore[union-attr]
            _run_ready(loop, yielded)
            if not yielded.done():
                yielded.cancel()
                coro.close()
                _discard_tasks(loop)
                if yielded.done() and not yielded.cancelled():
                    yielded.exception()  # retrieved: asyncio would log it otherwise
                raise _not_convex(what)
        else:  # a bare yield (asyncio.sleep(0)) or another loop's future: time would pass
            coro.close()
            raise _not_convex(what)
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            return stop.value


def _run_ready(loop: asyncio.AbstractEventLoop, future: Any) -> None:
    """Run the loop's ready callbacks (and those they make ready) until `future` is done."""
    _set_running_loop(None)
    try:
        while loop._ready and (future is None or not future.done()):  # type: ignore[attr-defined]
            loop.call_soon(loop.stop)
            loop.run_forever()
    finally:
        _set_running_loop(loop)


def _discard_tasks(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()
    for handle in list(loop._scheduled):  # type: ignore[attr-defined]
        handle.cancel()
    _run_ready(loop, None)
    loop._scheduled.clear()  # type: ignore[attr-defined]


def _not_convex(what: str) -> UnsupportedInFunctionError:
    return UnsupportedInFunctionError(
        f"{what} awaited something that is not a Convex operation (a sleep, a timer, a network call). "
        "Queries and mutations must be deterministic: only ctx methods can be awaited; "
        "do outside work in an action."
    )


__all__ = ["drive"]
