"""The live queries of one deployment: each runs recording its reads; a commit re-runs those it concerns.

`LiveQueries.watch` registers a query; the store hands every commit's writes to
`LiveQueries.committed` (only while something is watched, so mutations pay nothing
otherwise), which asks the invalidation index whom they concern and tells those watches.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from convex_py._functions import ConvexFunction

from ._invalidation import Invalidator
from ._read_set import FrozenReads, ReadSet

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = ["LiveQueries", "Watch"]

_NO_READS: FrozenReads = (frozenset(), ())


class Watch:
    """One live query: a function and its arguments as one caller, and what its last run read.

    `on_invalidated(watch)` is called (holding the runtime's lock, in the committing
    thread) when a commit writes into what it read; the owner decides when to `run()` again.
    """

    __slots__ = ("hub", "path", "fn", "args", "identity", "on_invalidated", "reads", "order", "closed", "runs")

    def __init__(self, hub: "LiveQueries", path: str, fn: ConvexFunction, args: Any, identity: Any,
                 on_invalidated: Callable[["Watch"], None]) -> None:
        self.hub = hub
        self.path = path
        self.fn = fn
        self.args = args
        self.identity = identity
        self.on_invalidated = on_invalidated
        self.reads = _NO_READS
        self.order = next(hub.counter)
        self.closed = False
        self.runs = 0  # executions so far

    def __hash__(self) -> int:
        return self.order

    def run(self) -> Any:
        """Run the query now (at the current snapshot) and keep what it read; raise what it raises.

        Even a failed run keeps its reads: a later write into them may make it succeed.
        """
        hub = self.hub
        runtime = hub.runtime
        reads = ReadSet()
        with runtime.lock:
            self.runs += 1
            hub.runs += 1
            try:
                return runtime.run_query(self.path, self.fn, self.args, self.identity, reads=reads)
            finally:
                if not self.closed:
                    hub._reindex(self, reads.freeze())

    def close(self) -> None:
        """Stop watching (idempotent)."""
        hub = self.hub
        with hub.runtime.lock:
            if self.closed:
                return
            self.closed = True
            hub._reindex(self, _NO_READS)
            hub.watches -= 1
            if hub.watches == 0:
                hub.runtime.store.write_observer = None


class LiveQueries:
    """Watches over one runtime's queries, and the commit timestamp clients see."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.index = Invalidator()
        self.counter = itertools.count()
        self.watches = 0
        self.runs = 0  # executions of watched queries, first runs included
        # The timestamp of the last commit seen (the store's commit timestamps, ns on the clock:
        # real time in the dev server, so a restarted server continues past what clients saw).
        self.ts = runtime.store.snapshot_ts()

    @classmethod
    def of(cls, runtime: "Runtime") -> "LiveQueries":
        """The runtime's live queries, made on first use."""
        hub = runtime.live
        if hub is None:
            hub = runtime.live = cls(runtime)
        return hub

    def watch(self, path: str, fn: ConvexFunction, args: Any, identity: Any,
              on_invalidated: Callable[[Watch], None]) -> Watch:
        """A new watch (not run yet: call its `run()`)."""
        with self.runtime.lock:
            watch = Watch(self, path, fn, args, identity, on_invalidated)
            self.watches += 1
            self.runtime.store.write_observer = self.committed
            return watch

    def next_ts(self) -> int:
        self.ts = ts = max(self.ts + 1, self.runtime.store.next_commit_ts())
        return ts

    def _reindex(self, watch: Watch, reads: FrozenReads) -> None:
        old = watch.reads
        if reads == old:
            return
        index = self.index
        index.remove(old, watch)
        index.add(reads, watch)
        watch.reads = reads

    def committed(self, writes: list[tuple[Any, Any, Any]]) -> None:
        """The store's write observer: tell every watch that these writes concern, oldest first."""
        self.next_ts()
        concerned = self.index.concerned(writes)
        if not concerned:
            return
        for watch in sorted(concerned, key=_order) if len(concerned) > 1 else concerned:
            if not watch.closed:
                watch.on_invalidated(watch)


def _order(watch: Watch) -> int:
    return watch.order
