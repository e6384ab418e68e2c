"""Components in the `--db` file: each installed component's tables, jobs and crons beside the app's.

A component's documents are rows of `documents` whose table is `"<component path>:<table>"`
(`:` is in no table or component name), written in the same SQLite transaction as the app's.
A job that runs in another component than the one holding its row (the app scheduling
`components.x...`, a function handle) has its runner in `job_homes`. The next time of each
component's `crons.py` jobs is in `meta` under `component_crons`. On start, rows of a component
no longer installed stay in the file untouched.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..components import JobHome
from ..runtime_crons import TABLE as CRONS_TABLE
from ..runtime_crons import _Job
from ..scheduler import JOBS
from . import convex_json

if TYPE_CHECKING:
    from .._emulator import ConvexEmulator
    from ..components import ComponentNode
    from ..store import Store

SCHEMA = "CREATE TABLE IF NOT EXISTS job_homes (id TEXT PRIMARY KEY, runs_in TEXT NOT NULL);"
CRONS_KEY = "component_crons"


class ComponentsState:
    """The components of one emulator, as the --db file keeps them."""

    def __init__(self, emulator: "ConvexEmulator", commit_hook: Callable[[], None]) -> None:
        self.emulator = emulator
        tree = emulator._components
        self.nodes: list[ComponentNode] = [] if tree is None else [n for p, n in tree.registry.items() if p]
        self.by_path = {node.path: node for node in self.nodes}
        self._taken: list[tuple[Store, list[tuple[str, str]]]] = []
        self._saved_crons: dict[str, dict[str, float]] | None = None
        self._pending_crons: dict[str, dict[str, float]] | None = None
        for node in self.nodes:
            store = node.store
            store.dirty = set()
            for table in store.tables.values():
                table.dirty = store.dirty
            node.runtime.commit_hook = commit_hook  # its own mutations (scheduled, crons) save first too

    def __bool__(self) -> bool:
        return bool(self.nodes)

    # --- saving ------------------------------------------------------------------------------

    def cron_state(self) -> dict[str, dict[str, float]]:
        """Each component's crons.py jobs' next scheduled times, by component path."""
        return {node.path: {name: job.next_time for name, job in node.crons.jobs.items()} for node in self.nodes}

    def pending(self) -> bool:
        return any(node.store.dirty for node in self.nodes) or self.cron_state() != self._saved_crons

    def write(self, db: sqlite3.Connection, app_changed: list[tuple[str, str]],
              put: Callable[[str, Any], None]) -> None:
        """Write what changed in each component (inside the caller's transaction), and where jobs
        run that another component holds; `restore()` puts it back as pending if the save fails."""
        homes = self.emulator._scheduler.homes
        self._taken = []
        for table_name, doc_id in app_changed:  # the app's jobs into components
            if table_name == JOBS:
                self._write_home(db, homes, "", self.emulator.store, doc_id)
        for node in self.nodes:
            store = node.store
            changed = list(store.dirty)
            store.dirty.clear()
            self._taken.append((store, changed))
            tables = store.tables
            prefix = node.path + ":"
            for table_name, doc_id in changed:
                doc = tables[table_name].docs.get(doc_id)
                if doc is None:
                    db.execute("DELETE FROM documents WHERE tbl = ? AND id = ?", (prefix + table_name, doc_id))
                else:
                    body = json.dumps(convex_json.encode(doc))
                    db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", (prefix + table_name, doc_id, body))
                if table_name == JOBS:
                    self._write_home(db, homes, node.path, store, doc_id)
        crons = self.cron_state()
        if crons != self._saved_crons:
            put(CRONS_KEY, crons)
            self._pending_crons = crons

    @staticmethod
    def _write_home(db: sqlite3.Connection, homes: dict[Any, Any], path: str, store: "Store", job_id: str) -> None:
        home = homes.get(job_id)
        if store.tables[JOBS].docs.get(job_id) is None:
            db.execute("DELETE FROM job_homes WHERE id = ?", (job_id,))
        elif home is not None and home.runtime.component_path != path:
            db.execute("INSERT OR REPLACE INTO job_homes VALUES (?, ?)", (job_id, home.runtime.component_path))

    def saved(self) -> None:
        """The save committed."""
        self._taken = []
        crons = self._pending_crons
        if crons is not None:
            self._saved_crons = crons
            self._pending_crons = None

    def restore(self) -> None:
        """The save failed: what it took is pending again."""
        for store, changed in self._taken:
            store.dirty.update(changed)
        self._taken = []
        self._pending_crons = None

    def detach(self) -> None:
        """The file is closing: components' mutations no longer save to it."""
        for node in self.nodes:
            node.runtime.commit_hook = None

    # --- loading -----------------------------------------------------------------------------

    def locate(self, table_key: str) -> tuple["Store | None", str]:
        """(store, table name) of a saved row: the app's for a plain name, else its component's
        (None when that component is not installed: the row stays in the file)."""
        path, colon, table_name = table_key.rpartition(":")
        if not colon:
            return self.emulator.store, table_key
        node = self.by_path.get(path)
        return (None if node is None else node.store), table_name

    def restore_homes(self, db: sqlite3.Connection) -> None:
        """Where each job runs: a component's jobs in it, unless `job_homes` names another."""
        homes = self.emulator._scheduler.homes
        registry = self.emulator._components.registry if self.emulator._components is not None else {"": None}
        runs_in = dict(db.execute("SELECT id, runs_in FROM job_homes").fetchall())
        if not runs_in and not self.nodes:
            return
        for job in self.emulator.store.tables[JOBS].docs.values():
            target = registry.get(runs_in.get(job["_id"], ""))
            if target is not None and target.path:
                homes[job["_id"]] = JobHome(self.emulator.store, target.runtime)
        for node in self.nodes:
            for job_id in node.store.tables[JOBS].docs:
                target = registry.get(runs_in.get(job_id, node.path)) or node
                homes[job_id] = JobHome(node.store, target.runtime)

    def jobs(self) -> Iterator[dict[str, Any]]:
        """Every component's job rows."""
        for node in self.nodes:
            yield from node.store.tables[JOBS].in_creation_order()

    def restore_runtime_crons(self, now: float) -> None:
        for node in self.nodes:
            runner = node.runtime.runtime_crons
            for row in node.store.tables[CRONS_TABLE].in_creation_order():
                job = runner.jobs[row["_id"]] = _Job(runner, row["_id"])
                if not row["paused"]:
                    job.start(now, row["schedule"])

    def restore_crons(self, saved: dict[str, dict[str, float]], now: float, log: Callable[[str], Any]) -> None:
        """Each component's overdue crons.py job runs once now; its other missed times are skipped."""
        for node in self.nodes:
            times = saved.get(node.path, {})
            for name in node.crons.jobs:
                next_time = times.get(name)
                if next_time is None or next_time >= now:
                    continue
                skipped = node.crons.catch_up(name, next_time, now)
                if skipped:
                    log(f"Skipping {skipped} run(s) of job {name} of component {node.path} because multiple "
                        "scheduled runs are in the past")


__all__ = ["ComponentsState", "SCHEMA"]
