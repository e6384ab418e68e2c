"""Live queries: read sets, invalidation by index range, and subscriptions that re-run on change.

Lower layers only record (`Budget.reads`, `Store.write_observer`); this package decides
which queries a commit concerns. The dev server's sync protocol and `t.subscribe` share it.
"""

from __future__ import annotations

from ._hub import LiveQueries, Watch
from ._intervals import IntervalIndex
from ._invalidation import Invalidator
from ._read_set import ReadSet
from ._subscription import Subscription

__all__ = ["IntervalIndex", "Invalidator", "LiveQueries", "ReadSet", "Subscription", "Watch"]
