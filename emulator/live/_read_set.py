"""What one query execution read, recorded as it runs: documents by id and index ranges walked.

The store and the query builder fill it in (`Budget.reads`); `intervals()` turns it into the
half-open key intervals that the invalidation index looks writes up in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..store import MAX

__all__ = ["ReadSet", "Walk", "FrozenReads"]

# (ids read by get, ((table, index, low, high), ...)): a read set after its query ended.
FrozenReads = tuple[frozenset[str], tuple[tuple[str, str, tuple[Any, ...], tuple[Any, ...]], ...]]


class Walk:
    """One index range a query walked: its bounds, and how far it got."""

    __slots__ = ("table", "index", "minimum", "maximum", "inclusive", "reverse", "last", "done")

    def __init__(self, table: str, index: str, minimum: tuple[Any, ...], maximum: tuple[Any, ...],
                 inclusive: tuple[bool, bool], reverse: bool) -> None:
        self.table = table
        self.index = index
        self.minimum = minimum
        self.maximum = maximum
        self.inclusive = inclusive
        self.reverse = reverse
        self.last: tuple[Any, ...] | None = None  # the last key reached (set by the walk)
        self.done = False  # the walk reached the end of its range

    def interval(self) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
        """The keys this walk depended on, as [low, high) over the index's keys; None if none.

        A walk stopped early (take, first, a page) read only up to its last key: a write
        past it cannot change the result. `k + (MAX,)` sorts just after the key `k` and
        before every longer-lived key, because all keys of an index have one length.
        """
        low = self.minimum if self.inclusive[0] else self.minimum + (MAX,)
        high = self.maximum + (MAX,) if self.inclusive[1] else self.maximum
        if not self.done:
            last = self.last
            if last is None:
                return None
            if self.reverse:
                low = last
            else:
                high = last + (MAX,)
        return (low, high) if low < high else None


class ReadSet:
    """The reads of one execution of a live query.

    Tables are named by their `Table.live_key` (the name, qualified by the component's path in
    a component). Hook for other kinds of reads: `add_table(key)` makes any write to the table concern
    the query (a search reads this way); `add_range(table, index, low, high)` a finer range
    of one of the table's indexes (keys as `Index.key_of` makes them, `[low, high)`).
    """

    __slots__ = ("ids", "walks", "ranges")

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.walks: list[Walk] = []
        self.ranges: list[tuple[str, str, tuple[Any, ...], tuple[Any, ...]]] = []

    def get(self, table: str, doc_id: str) -> None:
        """A read of one document by id (present or not)."""
        self.ids.add(str(doc_id))

    def walk(self, table: str, index: str, minimum: tuple[Any, ...], maximum: tuple[Any, ...],
             inclusive: tuple[bool, bool], reverse: bool) -> Walk:
        """Start recording a walk of an index range; the walk updates what it returns."""
        walk = Walk(table, index, minimum, maximum, inclusive, reverse)
        self.walks.append(walk)
        return walk

    def recorded(self, table: str, index: str, minimum: tuple[Any, ...], maximum: tuple[Any, ...],
                 inclusive: tuple[bool, bool], reverse: bool,
                 items: Iterator[tuple[tuple[Any, ...], Any]]) -> Iterator[tuple[tuple[Any, ...], Any]]:
        """`items` (a walk of (key, document) over that range), recording how far it is read."""
        walk = self.walk(table, index, minimum, maximum, inclusive, reverse)
        for item in items:
            walk.last = item[0]
            yield item
        walk.done = True

    def add_range(self, table: str, index: str, low: tuple[Any, ...], high: tuple[Any, ...]) -> None:
        self.ranges.append((table, index, low, high))

    def add_table(self, table: str) -> None:
        self.ranges.append((table, "by_creation_time", (), (MAX,)))

    def freeze(self) -> FrozenReads:
        """The read set as the invalidation index keeps it (comparable, so unchanged sets are kept)."""
        ranges = list(self.ranges)
        for walk in self.walks:
            interval = walk.interval()
            if interval is not None:
                ranges.append((walk.table, walk.index, interval[0], interval[1]))
        return frozenset(self.ids), tuple(ranges)
