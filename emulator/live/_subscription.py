"""`t.subscribe(ref, args)`: a query followed as the virtual clock moves, one history entry per change."""

from __future__ import annotations

import weakref
from typing import Any

from convex_py._values import values_equal

from ._hub import LiveQueries, Watch

__all__ = ["Subscription"]


class Subscription:
    """A live query in a test: `value`, `history` [(virtual time, result), ...], `close()`.

    It re-runs right after each commit that writes into what it read (the commit of a
    test's mutation, or of a scheduled function or cron as time moves), at that commit's
    virtual time, and records a new entry only when the result changed. A run that raises
    records the exception as its result; `value` then raises it.
    """

    __slots__ = ("_watch", "_clock", "history", "__weakref__")

    def __init__(self, hub: LiveQueries, path: str, fn: Any, args: Any, identity: Any, clock: Any) -> None:
        self._clock = clock
        self.history: list[tuple[float, Any]] = []
        me = weakref.ref(self)  # the hub does not keep a subscription alive: dropping it closes it

        def invalidated(watch: Watch) -> None:
            subscription = me()
            if subscription is None:
                watch.close()
            else:
                subscription._invalidated(watch)

        self._watch = watch = hub.watch(path, fn, args, identity, invalidated)
        weakref.finalize(self, watch.close)
        try:
            result = watch.run()
        except BaseException:
            watch.close()
            raise
        self.history.append((clock.now, result))

    def _invalidated(self, watch: Watch) -> None:
        try:
            result: Any = watch.run()
        except Exception as exc:  # recorded, not raised into the commit that caused it
            result = exc
        last = self.history[-1][1]
        if _same(last, result):
            return
        self.history.append((self._clock.now, result))

    @property
    def value(self) -> Any:
        """The query's current result (raises the error of its last run, if it failed)."""
        result = self.history[-1][1]
        if isinstance(result, BaseException):
            raise result
        return result

    @property
    def runs(self) -> int:
        """How many times the query ran (a write outside what it read runs it no more)."""
        return self._watch.runs

    @property
    def closed(self) -> bool:
        return self._watch.closed

    def close(self) -> None:
        """Stop following the query; `value` and `history` stay as they were."""
        self._watch.close()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._watch.closed else "live"
        return f"<Subscription {self._watch.path} ({state}, {len(self.history)} values)>"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, BaseException) or isinstance(b, BaseException):
        return type(a) is type(b) and str(a) == str(b)
    return values_equal(a, b)
