"""From a commit's writes to the subscriptions they concern, without looking at the others.

Read sets are indexed by what they read: ids in a dict, index ranges in one `IntervalIndex`
per (table, index), a table known by its `Table.live_key` (its name, qualified by its
component's path in a component, so same-named tables of the app and a component stay apart). A written document is looked up by its id and by its old and new key in
each index that some subscription reads, so the cost of a commit follows what it wrote and
whom it concerns, not how many subscriptions exist.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ._intervals import IntervalIndex
from ._read_set import FrozenReads

__all__ = ["Invalidator"]


class Invalidator:
    """Subscriptions indexed by their read sets."""

    __slots__ = ("_by_id", "_by_table")

    def __init__(self) -> None:
        self._by_id: dict[str, set[Hashable]] = {}
        self._by_table: dict[str, dict[str, IntervalIndex]] = {}

    def add(self, reads: FrozenReads, owner: Hashable) -> None:
        ids, ranges = reads
        by_id = self._by_id
        for doc_id in ids:
            owners = by_id.get(doc_id)
            if owners is None:
                by_id[doc_id] = {owner}
            else:
                owners.add(owner)
        for table, index, low, high in ranges:
            indexes = self._by_table.get(table)
            if indexes is None:
                indexes = self._by_table[table] = {}
            intervals = indexes.get(index)
            if intervals is None:
                intervals = indexes[index] = IntervalIndex()
            intervals.add(low, high, owner)

    def remove(self, reads: FrozenReads, owner: Hashable) -> None:
        ids, ranges = reads
        by_id = self._by_id
        for doc_id in ids:
            owners = by_id[doc_id]
            owners.discard(owner)
            if not owners:
                del by_id[doc_id]
        for table, index, low, high in ranges:
            indexes = self._by_table[table]
            intervals = indexes[index]
            intervals.remove(low, high, owner)
            if not len(intervals):
                del indexes[index]
                if not indexes:
                    del self._by_table[table]

    def concerned(self, writes: list[tuple[Any, Any, Any]]) -> set[Hashable]:
        """The owners whose read sets a commit's writes `(table, before, after)` touch."""
        hit: set[Hashable] = set()
        by_id = self._by_id
        by_table = self._by_table
        for table, before, after in writes:
            doc = after if after is not None else before
            owners = by_id.get(doc["_id"])
            if owners:
                hit |= owners
            indexes = by_table.get(table.live_key)
            if not indexes:
                continue
            for index_name, intervals in indexes.items():
                index = table.indexes.get(index_name)
                if index is None:  # a range of an index the store does not sort (add_range): all of it
                    hit |= intervals.owners()
                    continue
                key_of = index.key_of
                if before is not None:
                    intervals.collect(key_of(before), hit)
                if after is not None:
                    intervals.collect(key_of(after), hit)
        return hit
