"""The dev server's `--db`: documents, scheduled jobs and cron state in one SQLite file (WAL mode).

Each mutation's writes, the jobs it scheduled and the cron state are written in
one SQLite transaction before the mutation commits in memory (the runtime's
commit hook): if SQLite refuses, the mutation rolls back and nothing is applied.
A syncer thread then fsyncs the WAL for every commit written so far at once
(group commit) and checkpoints it, outside the lock queries and mutations
need; a mutation's answer waits for the fsync covering its commit. The server
holds an exclusive lock (flock) on the file for its lifetime, so a second
server on it stops at start.

On start, the documents come back, pending jobs go back on the heap (overdue
ones run at once), an action found `inProgress` is failed as after a crash, and
each cron job runs an overdue time once, skipping the other missed times. The
app's components are kept the same way, beside it (see `components_db`).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convex_py._values import copy_value
from convex_py.errors import PersistenceError

from ..scheduler import CLEANUP, JOBS, RETENTION_MS, TRANSIENT_ACTION_ERROR
from ..store import SYSTEM_FIELDS_SIZE
from . import components_db, convex_json, files_db

if TYPE_CHECKING:
    from .._emulator import ConvexEmulator

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (tbl TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tbl, id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_OUR_TABLES = {"documents", "meta"}


def _holder_of(path: Path) -> str:
    """Who holds the lock on `path`: 'process 1234 (convex-py dev ...)', from /proc/locks on Linux."""
    try:
        inode = os.stat(path).st_ino
        with open("/proc/locks") as locks:
            for line in locks:
                parts = line.split()
                # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5].rsplit(":", 1)[-1] == str(inode):
                    pid = parts[4]
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as cmd:
                            command = cmd.read().replace(b"\0", b" ").decode(errors="replace").strip()
                    except OSError:
                        command = ""
                    return f"process {pid}" + (f" ({command[:120]})" if command else "")
    except OSError:
        pass
    return "another process"


def lock_file(path: Path) -> int:
    """An open descriptor of `path` holding an exclusive lock on it, or a PersistenceError naming the holder.

    flock, not fcntl: SQLite's own POSIX locks on the file are a separate kind,
    so neither disturbs the other.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise PersistenceError(f"--db {path}: cannot open the file: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise PersistenceError(f"--db {path} is in use by {_holder_of(path)}; "
                               "two servers cannot share a database file") from None
    return fd


class Persistence:
    """One SQLite file holding an emulator's state, locked for this process while open."""

    busy_timeout = 2.0  # seconds a commit waits for another process's lock on the file before it fails
    checkpoint_bytes = 8 << 20  # the syncer copies the WAL into the main file past this size

    def __init__(self, path: str | Path, emulator: "ConvexEmulator", log: Callable[[str], Any] = print) -> None:
        self.path = Path(path)
        self.emulator = emulator
        self.log = log
        self.lock = threading.Lock()  # the connection: commits (under the runtime's lock) and closing
        self._lock_fd = lock_file(self.path)
        self.db: sqlite3.Connection | None = None
        try:
            self.db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None,
                                      timeout=self.busy_timeout)
            tables = {name for name, in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and not _OUR_TABLES <= tables:
                raise PersistenceError(f"--db {self.path} is an SQLite database of something else "
                                       f"(tables: {', '.join(sorted(tables)[:5])}); give a new file name")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # commits write the WAL; the syncer fsyncs it
            self.db.execute("PRAGMA wal_autocheckpoint=0")  # the syncer checkpoints, off the runtime's lock
            self.db.executescript(_SCHEMA + files_db.SCHEMA + components_db.SCHEMA)
        except sqlite3.Error as exc:
            self._close_quietly()
            raise PersistenceError(f"--db {self.path} is not a usable convex-py database: {exc}") from None
        except BaseException:
            self._close_quietly()
            raise
        store = emulator.store
        store.dirty = set()
        for table in store.tables.values():
            table.dirty = store.dirty
        self._saved_crons: dict[str, float] | None = None
        # The app's components, when it has any: their tables, jobs and crons are saved with the app's.
        self.components = components_db.ComponentsState(emulator, self.commit)
        self.files = emulator._runtime.storage
        self.files.changed = set()
        self._save_secret = False  # set by load(): a new deployment's upload-URL secret, to keep
        # Group commit: `written` counts SQLite commits, `synced` those an fsync of the WAL covers.
        # Kicked by durable() at the end of the loop's turn (or by the clock's tick), a syncer fsyncs
        # whatever is written: one fsync answers every commit written before it began; commits made
        # during it go in the next one, which starts as soon as it ends.
        self.written = 0
        self.synced = 0
        self._sync_started = 0  # the highest `written` an fsync has begun for
        self._sync_error: BaseException | None = None
        self._failed_target = 0  # the highest `written` an fsync failed for
        self._cond = threading.Condition()
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._waiter_loop: asyncio.AbstractEventLoop | None = None
        self._syncers: list[threading.Thread] = []
        self._idle_syncers = 0
        self._kick_scheduled = False  # durable() has a kick coming on the loop
        self._closing = False
        self._wal_fd: int | None = None
        self._wal_lock = threading.Lock()
        self._checkpointer: sqlite3.Connection | None = None

    def _close_quietly(self) -> None:
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
        os.close(self._lock_fd)

    # --- saving ----------------------------------------------------------------------

    def save(self) -> int:
        """Write what changed since the last save in one SQLite transaction; return how many rows.

        Called with the runtime's lock held (the commit hook, the clock's tick). On failure
        nothing is written, what was pending stays pending, and a PersistenceError says why.
        """
        store = self.emulator.store
        dirty = store.dirty
        crons = self._cron_state()
        components = self.components
        if (not dirty and crons == self._saved_crons and not self.files.changed and not self._save_secret
                and not (components and components.pending())):
            return 0
        changed = list(dirty)
        dirty.clear()
        changed_files: list[str] = []
        with self.lock:
            db = self.db
            try:
                if db is None:
                    raise sqlite3.ProgrammingError("the database is closed")
                db.execute("BEGIN")
                try:
                    tables = store.tables
                    for table_name, doc_id in changed:
                        doc = tables[table_name].docs.get(doc_id)
                        if doc is None:
                            db.execute("DELETE FROM documents WHERE tbl = ? AND id = ?", (table_name, doc_id))
                        else:
                            body = json.dumps(convex_json.encode(doc))
                            db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", (table_name, doc_id, body))
                    if components:
                        components.write(db, changed, self._put)
                    changed_files = files_db.save(db, self.files)
                    if self._save_secret:
                        self._put(files_db.SECRET_KEY, self.files.secret.hex())
                    self._put("sequence", store._sequence)
                    self._put("last_creation_time", store._last_creation_time)
                    if crons != self._saved_crons:
                        self._put("crons", crons)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except (sqlite3.Error, OSError) as exc:
                dirty.update(changed)
                self.files.changed.update(changed_files)
                components.restore()
                raise PersistenceError(f"Could not write the commit to {self.path}: {exc}; nothing was applied") from None
            except BaseException:
                dirty.update(changed)
                self.files.changed.update(changed_files)
                components.restore()
                raise
        self._saved_crons = crons
        self._save_secret = False
        components.saved()
        with self._cond:
            self.written += 1  # fsynced when someone waits for it (durable) or the clock kicks the syncer
        return len(changed)

    def commit(self) -> None:
        """The runtime's commit hook: this mutation's writes reach the file before it commits in memory."""
        self.save()

    def _put(self, key: str, value: Any) -> None:
        assert self.db is not None
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def _cron_state(self) -> dict[str, float]:
        """Each cron.py job's next scheduled time."""
        return {name: job.next_time for name, job in self.emulator._crons.jobs.items()}

    # --- group commit: fsync the WAL outside the runtime's lock ----------------------------

    # fsyncs in flight at most. More than one lets a commit start its own fsync at once instead of
    # waiting out one that began before it, but measured here (8 and 32 clients, alternating runs)
    # one batch per fsync was as fast or faster: each extra fsync costs the loop a wake-up and a
    # thread the GIL.
    syncers = 1

    def _wake_syncer(self) -> None:
        """With `_cond` held: have a syncer fsync what is written, starting one if none is free."""
        if self._idle_syncers:
            self._cond.notify()
        elif len(self._syncers) < self.syncers:
            thread = threading.Thread(target=self._sync_loop, name="convex-py-db-sync", daemon=True)
            self._syncers.append(thread)
            thread.start()
        # else: every syncer is busy; the first to finish takes these commits

    def _fsync(self) -> None:
        with self._wal_lock:
            if self._wal_fd is None:
                try:
                    self._wal_fd = os.open(f"{self.path}-wal", os.O_RDONLY)
                except FileNotFoundError:  # nothing in the WAL: the commits are in the main file
                    os.fsync(self._lock_fd)
                    return
            fd = self._wal_fd
        os.fsync(fd)
        if os.fstat(fd).st_size > self.checkpoint_bytes and self._wal_lock.acquire(blocking=False):
            try:
                self._checkpoint()
            finally:
                self._wal_lock.release()

    def _checkpoint(self) -> None:
        """Copy the WAL into the main file from a connection of its own: commits go on meanwhile."""
        try:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(str(self.path), isolation_level=None, timeout=self.busy_timeout,
                                                     check_same_thread=False)
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # tried again after the next sync; the WAL keeps every commit meanwhile
            self.log(f"could not checkpoint {self.path}: {exc}")

    def _sync_loop(self) -> None:
        cond = self._cond
        while True:
            with cond:
                self._idle_syncers += 1
                while self._sync_started >= self.written and not self._closing:
                    cond.wait()
                self._idle_syncers -= 1
                if self._sync_started >= self.written:
                    return
                target = self._sync_started = self.written
            error: BaseException | None = None
            try:
                self._fsync()
            except OSError as exc:
                error = PersistenceError(f"Could not sync {self.path} to disk: {exc}")
            with cond:
                ready: list[tuple[int, asyncio.Future[None]]] = []
                if error is not None:  # these commits' waiters fail; a later fsync may still cover later ones
                    self._sync_error = error
                    self._failed_target = max(self._failed_target, target)
                    ready = [w for w in self._waiters if w[0] <= target]
                    self._waiters = [w for w in self._waiters if w[0] > target]
                elif target > self.synced:  # fsync makes durable everything written before it began
                    self.synced = target
                    ready = [w for w in self._waiters if w[0] <= target]
                    self._waiters = [w for w in self._waiters if w[0] > target]
                cond.notify_all()
                loop = self._waiter_loop
            if ready and loop is not None:
                try:
                    loop.call_soon_threadsafe(_settle_all, [future for _seq, future in ready], error)
                except RuntimeError:  # the loop has closed: nobody is waiting any more
                    pass

    def kick(self) -> None:
        """Have a syncer fsync what is written and not yet covered (from any thread)."""
        with self._cond:
            if self._sync_started < self.written:
                self._wake_syncer()

    def _kick_after_this_turn(self) -> None:
        self._kick_scheduled = False
        self.kick()

    async def durable(self) -> None:
        """Wait until every commit written so far is on disk.

        The syncer is kicked at the end of the loop's turn, not at once: every request that
        commits in the same turn joins one fsync, and none wakes the syncer mid-turn.
        """
        with self._cond:
            target = self.written
            if self.synced >= target:
                return
            loop = asyncio.get_running_loop()
            future: asyncio.Future[None] = loop.create_future()
            self._waiter_loop = loop
            self._waiters.append((target, future))
        if not self._kick_scheduled:
            self._kick_scheduled = True
            loop.call_soon(self._kick_after_this_turn)
        await future

    def flush(self) -> None:
        """Block until every commit written so far is on disk."""
        with self._cond:
            target = self.written
            if self.synced >= target:
                return
            if self._sync_started < target:
                self._wake_syncer()
            while self.synced < target:
                if self._sync_error is not None and self._failed_target >= target:
                    raise self._sync_error
                self._cond.wait()

    # --- loading -----------------------------------------------------------------------

    def load(self) -> int:
        """Bring back a saved state into a freshly built emulator; return how many documents."""
        assert self.db is not None
        emulator = self.emulator
        store = emulator.store
        try:
            meta = {key: json.loads(value) for key, value in self.db.execute("SELECT key, value FROM meta")}
            self._save_secret = files_db.attach(self.files, meta.get(files_db.SECRET_KEY))
            rows = self.db.execute("SELECT tbl, id, body FROM documents").fetchall()
            if not rows and not meta:
                return 0
            for table_key, doc_id, body in rows:
                home, table_name = self.components.locate(table_key)  # the app's, or a component's
                if home is None:
                    continue  # a component no longer installed: its rows stay in the file
                doc = convex_json.decode(json.loads(body))
                doc["_id"] = doc_id  # a plain str, as the store keeps it (see clone_doc)
                table = home.tables.get(table_name) or home._create_table(table_name, {}, None)
                table.dirty = home.dirty
                _copy, size = copy_value({k: v for k, v in doc.items() if not k.startswith("_")})
                table.add(doc, size + SYSTEM_FIELDS_SIZE)
            files_db.load(self.db, self.files)
        except (sqlite3.Error, ValueError, TypeError, KeyError) as exc:
            raise PersistenceError(f"--db {self.path} holds data convex-py cannot read: {exc}") from None
        store.dirty.clear()
        for node in self.components.nodes:
            node.store.dirty.clear()
        store._sequence = max(store._sequence, int(meta.get("sequence", 0)))
        store._last_creation_time = max(store._last_creation_time, float(meta.get("last_creation_time", 0.0)))
        with emulator._runtime.lock:
            self.components.restore_homes(self.db)
            self._restore_jobs()
            self._restore_crons(meta.get("crons", {}))
            self.components.restore_crons(meta.get(components_db.CRONS_KEY, {}), emulator.now, self.log)
            self.save()
        return len(rows)

    def _restore_jobs(self) -> None:
        scheduler = self.emulator._scheduler
        now = self.emulator.now
        # In creation order: jobs due at the same time run in the order they were scheduled
        # (the app's and its components' alike: creation times are deployment-wide).
        jobs = self.emulator.store.tables[JOBS].in_creation_order()
        if self.components:
            jobs = sorted([*jobs, *self.components.jobs()], key=lambda job: job["_creationTime"])
        for job in jobs:
            job_id = job["_id"]
            kind = job["state"]["kind"]
            if kind == "pending":
                scheduler.jobs_committed([(job["scheduledTime"], job_id)])
            elif kind == "inProgress":
                scheduler._finish(job_id, {"kind": "failed", "error": TRANSIENT_ACTION_ERROR})
            else:
                scheduler._push(job.get("completedTime", now) + RETENTION_MS, CLEANUP, job_id)
        runtime_crons = self.emulator._runtime.runtime_crons
        from ..runtime_crons import TABLE, _Job

        for row in self.emulator.store.tables[TABLE].in_creation_order():
            job_id = row["_id"]
            job = runtime_crons.jobs[job_id] = _Job(runtime_crons, job_id)
            if not row["paused"]:
                job.start(now, row["schedule"])
        self.components.restore_runtime_crons(now)

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
        """Sync what is written, close the file and release its lock."""
        self.components.detach()
        try:
            self.flush()
        except Exception:  # closing must not fail; the syncer reported the error already
            pass
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        for thread in self._syncers:
            thread.join(timeout=5)
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        with self.lock:
            if self.db is not None:
                self.db.close()
                self.db = None
            if self._wal_fd is not None:
                os.close(self._wal_fd)
                self._wal_fd = None
            if self._lock_fd >= 0:
                os.close(self._lock_fd)
                self._lock_fd = -1


def _settle_all(futures: "list[asyncio.Future[None]]", error: BaseException | None) -> None:
    for future in futures:
        if not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)


__all__ = ["Persistence", "lock_file"]
