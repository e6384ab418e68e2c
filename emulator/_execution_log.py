"""The logs behind `timeline()` and `cron_runs()`, trimmed with the 7-day retention of finished jobs.

What each keeps: every execution that ended in the last 7 days of virtual time
(as `_scheduled_functions` keeps a finished job's row for 7 days), and beyond
that the newest `keep` (10,000) entries, so a test's history is complete
however far it moves the clock unless it runs more than that. The oldest
entries go as new ones arrive, so a dev server running for weeks holds about
7 days of log. A tool that wants every execution (the CLI's `simulate`) sets
`archive` to a list: it receives every entry and is never trimmed. A long-running
server, which shows no timeline, sets `cap`: then only the newest `cap` entries stay.
"""

from __future__ import annotations

from collections import deque
from typing import Any

RETENTION_MS = 7 * 24 * 3600 * 1000


class ExecutionLog(deque):  # type: ignore[type-arg]
    """Entries (dicts with a `completedTime`) in the order they ended; old ones go as new ones come."""

    keep = 10_000

    def __init__(self) -> None:
        super().__init__()
        self.archive: list[dict[str, Any]] | None = None
        self.cap: int | None = None  # at most this many entries, whatever their age (the dev server)

    def append(self, entry: dict[str, Any]) -> None:
        deque.append(self, entry)
        if self.archive is not None:
            self.archive.append(entry)
        if self.cap is not None and len(self) > self.cap:
            self.popleft()
        elif len(self) > self.keep:
            cutoff = entry["completedTime"] - RETENTION_MS
            while len(self) > self.keep and self[0]["completedTime"] < cutoff:
                self.popleft()
