"""Which intervals of a sorted key space contain a key: a stabbing index over half-open ranges.

Most live queries read "every key that starts with this prefix" (equalities on an index,
or a whole table): those sit in a dict per prefix length, found by hashing the key's
prefix, O(1). Other ranges cut the key line at their ends; each piece holds the set of
ranges covering it, found by one bisection, O(log n). Adding or removing a range touches
only the pieces it covers, so unrelated subscriptions never see each other.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sortedcontainers import SortedList

from ..store import MAX

__all__ = ["IntervalIndex"]


def _prefix_of(low: tuple[Any, ...], high: tuple[Any, ...]) -> bool:
    """True if `[low, high)` is exactly the keys that start with `low` (high = low + (MAX, MAX))."""
    n = len(low)
    return len(high) == n + 2 and high[n] is MAX and high[n + 1] is MAX and high[:n] == low


class IntervalIndex:
    """Intervals `[low, high)` of keys, each tagged with an owner; `collect(key, into)` finds them."""

    __slots__ = ("_prefixes", "_cuts", "_cover", "_ends", "_size")

    def __init__(self) -> None:
        self._prefixes: dict[int, dict[tuple[Any, ...], set[Hashable]]] = {}  # length -> prefix -> owners
        self._cuts: SortedList = SortedList()  # every other interval's ends, once
        self._cover: dict[Any, set[Hashable]] = {}  # cut -> owners of the piece [cut, next cut)
        self._ends: dict[Any, int] = {}  # cut -> how many interval ends sit there
        self._size = 0

    def __len__(self) -> int:
        """How many intervals it holds."""
        return self._size

    def add(self, low: tuple[Any, ...], high: tuple[Any, ...], owner: Hashable) -> None:
        self._size += 1
        if _prefix_of(low, high):
            by_prefix = self._prefixes.setdefault(len(low), {})
            owners = by_prefix.get(low)
            if owners is None:
                by_prefix[low] = {owner}
            else:
                owners.add(owner)
            return
        self._cut(low)
        self._cut(high)
        cover = self._cover
        for cut in self._cuts.irange(low, high, (True, False)):
            cover[cut].add(owner)

    def remove(self, low: tuple[Any, ...], high: tuple[Any, ...], owner: Hashable) -> None:
        self._size -= 1
        if _prefix_of(low, high):
            by_prefix = self._prefixes[len(low)]
            owners = by_prefix[low]
            owners.discard(owner)
            if not owners:
                del by_prefix[low]
                if not by_prefix:
                    del self._prefixes[len(low)]
            return
        cover = self._cover
        for cut in self._cuts.irange(low, high, (True, False)):
            cover[cut].discard(owner)
        self._uncut(low)
        self._uncut(high)

    def collect(self, key: tuple[Any, ...], into: set[Hashable]) -> None:
        """Add the owners of every interval containing `key` to `into`."""
        for length, by_prefix in self._prefixes.items():
            owners = by_prefix.get(key[:length])
            if owners:
                into |= owners
        cuts = self._cuts
        if cuts:
            position = cuts.bisect_right(key)
            if position:
                owners = self._cover[cuts[position - 1]]
                if owners:
                    into |= owners

    def owners(self) -> set[Hashable]:
        """Every owner of every interval."""
        out: set[Hashable] = set()
        for by_prefix in self._prefixes.values():
            for owners in by_prefix.values():
                out |= owners
        for owners in self._cover.values():
            out |= owners
        return out

    def _cut(self, key: Any) -> None:
        ends = self._ends
        if key in ends:
            ends[key] += 1
            return
        cuts = self._cuts
        position = cuts.bisect_left(key)
        # A new cut splits the piece it falls in: both halves start with that piece's owners.
        self._cover[key] = set(self._cover[cuts[position - 1]]) if position else set()
        cuts.add(key)
        ends[key] = 1

    def _uncut(self, key: Any) -> None:
        ends = self._ends
        ends[key] -= 1
        if ends[key] == 0:
            # No interval starts or ends here any more: the piece is the same as the one before.
            del ends[key]
            del self._cover[key]
            self._cuts.remove(key)
