"""Opt-in persistence for the dev server: documents, scheduled jobs and cron state in SQLite.

Every table (system tables included, so `_scheduled_functions` and `_crons`)
is saved row by row: what changed since the last save is written in one SQLite
transaction after each request and each clock tick. On start, the documents
come back, pending jobs go back on the heap (overdue ones run at once), an
action found `inProgress` is failed as after a crash, and each cron job runs an
overdue time once, skipping the other missed times with a log line.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convex_py._values import copy_value

from . import convex_json
from .scheduler import CLEANUP, JOBS, RETENTION_MS, TRANSIENT_ACTION_ERROR

if TYPE_CHECKING:
    from ._emulator import ConvexEmulator

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (tbl TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tbl, id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Persistence:
    """One SQLite file holding an emulator's state."""

    def __init__(self, path: str | Path, emulator: "ConvexEmulator", log: Any = print) -> None:
        self.path = Path(path)
        self.emulator = emulator
        self.log = log
        self.lock = threading.Lock()
        self.db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self.db.executescript(_SCHEMA)
        store = emulator.store
        store.dirty = set()
        for table in store.tables.values():
            table.dirty = store.dirty

    # --- saving ----------------------------------------------------------------------

    def save(self) -> int:
        """Write what changed since the last save; return how many rows."""
        store = self.emulator.store
        dirty = store.dirty
        if not dirty and not self._cron_state_changed():
            return 0
        changed = list(dirty)
        dirty.clear()
        with self.lock:
            self.db.execute("BEGIN")
            try:
                for table_name, doc_id in changed:
                    doc = store.tables[table_name].docs.get(doc_id)
                    if doc is None:
                        self.db.execute("DELETE FROM documents WHERE tbl = ? AND id = ?", (table_name, doc_id))
                    else:
                        body = json.dumps(convex_json.encode(doc))
                        self.db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", (table_name, doc_id, body))
                self._put("sequence", store._sequence)
                self._put("last_creation_time", store._last_creation_time)
                self._put("crons", self._cron_state())
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                dirty.update(changed)
                raise
        return len(changed)

    def _put(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def _cron_state(self) -> dict[str, float]:
        """Each cron.py job's next scheduled time."""
        return {name: job.next_time for name, job in self.emulator._crons.jobs.items()}

    _saved_crons: dict[str, float] | None = None

    def _cron_state_changed(self) -> bool:
        state = self._cron_state()
        if state != self._saved_crons:
            self._saved_crons = state
            return True
        return False

    # --- loading -----------------------------------------------------------------------

    def load(self) -> int:
        """Bring back a saved state into a freshly built emulator; return how many documents."""
        emulator = self.emulator
        store = emulator.store
        meta = {key: json.loads(value) for key, value in self.db.execute("SELECT key, value FROM meta")}
        rows = self.db.execute("SELECT tbl, id, body FROM documents").fetchall()
        if not rows and not meta:
            return 0
        for table_name, doc_id, body in rows:
            doc = convex_json.decode(json.loads(body))
            doc["_id"] = doc_id  # a plain str, as the store keeps it
            table = store.tables.get(table_name) or store._create_table(table_name, {}, None)
            table.dirty = store.dirty
            _copy, size = copy_value({k: v for k, v in doc.items() if not k.startswith("_")})
            table.add(doc, size + 40)
        store.dirty.clear()
        store._sequence = max(store._sequence, int(meta.get("sequence", 0)))
        store._last_creation_time = max(store._last_creation_time, float(meta.get("last_creation_time", 0.0)))
        self._restore_jobs()
        self._restore_crons(meta.get("crons", {}))
        self.save()
        return len(rows)

    def _restore_jobs(self) -> None:
        scheduler = self.emulator._scheduler
        now = self.emulator.now
        # In creation order: jobs due at the same time run in the order they were scheduled.
        for job in self.emulator.store.tables[JOBS].in_creation_order():
            job_id = job["_id"]
            kind = job["state"]["kind"]
            if kind == "pending":
                scheduler.jobs_committed([(job["scheduledTime"], job_id)])
            elif kind == "inProgress":
                scheduler._finish(job_id, {"kind": "failed", "error": TRANSIENT_ACTION_ERROR})
            else:
                scheduler._push(job.get("completedTime", now) + RETENTION_MS, CLEANUP, job_id)
        runtime_crons = self.emulator._runtime.runtime_crons
        from .runtime_crons import TABLE, _Job

        for row in self.emulator.store.tables[TABLE].in_creation_order():
            job_id = row["_id"]
            job = runtime_crons.jobs[job_id] = _Job(runtime_crons, job_id)
            if not row["paused"]:
                job.start(now, row["schedule"])

    def _restore_crons(self, saved: dict[str, float]) -> None:
        now = self.emulator.now
        for name in self.emulator._crons.jobs:
            next_time = saved.get(name)
            if next_time is None or next_time >= now:
                continue
            skipped = self.emulator._crons.catch_up(name, next_time, now)
            if skipped:
                self.log(f"Skipping {skipped} run(s) of job {name} because multiple scheduled runs are in the past")

    def close(self) -> None:
        with self.lock:
            self.db.close()
