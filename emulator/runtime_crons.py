"""Runtime crons (`convex_py.crons.Crons`): jobs kept in the system table `_crons`.

Registering, pausing, resuming and deleting write rows in the caller's
transaction; only when it commits does the job's next time enter the
scheduler's heap. Each heap entry carries the job's version, so an entry made
stale by a pause or delete is dropped when it comes due.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from convex_py._crons import croniter_spec
from convex_py._values import Id, as_id, clone, copy_value
from convex_py.errors import ConvexPyError, CronDefinitionError, CronNotFoundError

from ._execution_log import ExecutionLog
from .crons import start_run
from .scheduler import CRON

if TYPE_CHECKING:
    from ._transaction import Transaction
    from .scheduler import Scheduler

TABLE = "_crons"


def check_schedule(schedule: Any) -> dict[str, Any]:
    """A normalized copy of a runtime cron schedule, or the component's error."""
    if not isinstance(schedule, dict) or schedule.get("kind") not in ("interval", "cron"):
        raise CronDefinitionError(
            'A schedule is {"kind": "interval", "ms": n} or {"kind": "cron", "cronspec": "...", "tz": "..."}, '
            f"got {schedule!r}"
        )
    if schedule["kind"] == "interval":
        ms = schedule.get("ms")
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not math.isfinite(ms) or ms < 1000:
            raise CronDefinitionError("Interval must be >= 1000ms")
        return {"kind": "interval", "ms": ms}
    spec = schedule.get("cronspec")
    from croniter import croniter

    fields = spec.split() if isinstance(spec, str) else []
    if len(fields) not in (5, 6) or not croniter.is_valid(croniter_spec(spec), second_at_beginning=len(fields) == 6):
        raise CronDefinitionError(f"Invalid cronspec: {spec}")
    normalized: dict[str, Any] = {"kind": "cron", "cronspec": " ".join(fields)}
    tz = schedule.get("tz")
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise CronDefinitionError(f"Invalid time zone {tz!r}: use an IANA name such as \"Europe/Paris\"") from None
        normalized["tz"] = tz
    return normalized


class _ZonedCron:
    """Cron matches in a time zone's wall-clock time, as UTC milliseconds.

    croniter walks naive wall-clock times (its own arithmetic on aware times
    misfires across daylight-saving changes); each match is then placed in the
    zone. A wall time repeated when clocks go back runs once (its first
    occurrence); one skipped when they go forward runs at the same offset
    before the change, i.e. an hour later on the new clock.
    """

    __slots__ = ("iterator", "zone", "last_ms")

    def __init__(self, croniter: Any, spec: str, zone: ZoneInfo, from_ms: float) -> None:
        self.zone = zone
        local = datetime.fromtimestamp(from_ms / 1000, tz=zone).replace(tzinfo=None)
        self.iterator = croniter(croniter_spec(spec), local, second_at_beginning=len(spec.split()) == 6)
        self.last_ms = from_ms

    def next_ms(self) -> float:
        while True:
            local = self.iterator.get_next(datetime)
            ms = local.replace(tzinfo=self.zone, fold=0).timestamp() * 1000
            if ms > self.last_ms:
                self.last_ms = ms
                return ms


class _Job:
    """The committed, running side of one registered job."""

    __slots__ = ("runner", "id", "version", "iterator", "running")

    def __init__(self, runner: "RuntimeCronRunner", job_id: str) -> None:
        self.runner = runner
        self.id = job_id
        self.version = 0
        self.iterator: Any = None
        self.running = False

    def start(self, from_ms: float, schedule: dict[str, Any]) -> None:
        """(Re)start the schedule: the first run is the first time strictly after `from_ms`."""
        self.version += 1
        if schedule["kind"] == "interval":
            self.iterator = None
            first = from_ms + schedule["ms"]
        else:
            from croniter import croniter

            spec = schedule["cronspec"]
            self.iterator = _ZonedCron(croniter, spec, ZoneInfo(schedule.get("tz") or "UTC"), from_ms)
            first = self.iterator.next_ms()
        self.runner.scheduler._push(first, CRON, _Entry(self, self.version))

    def stop(self) -> None:
        self.version += 1


class _Entry:
    """One heap entry of a job: fires only if the job has not changed since."""

    __slots__ = ("job", "version")

    def __init__(self, job: _Job, version: int) -> None:
        self.job = job
        self.version = version

    def fire(self, when: float) -> None:
        if self.version == self.job.version:
            self.job.runner.run(self.job, when)


class RuntimeCronRunner:
    """Runs registered jobs when the scheduler pops them, and serves `Crons` calls."""

    def __init__(self, scheduler: "Scheduler", runtime: Any = None) -> None:
        self.scheduler = scheduler
        # The app's runtime, or a component's: its jobs live in that runtime's `_crons` and run there.
        self.runtime = scheduler.runtime if runtime is None else runtime
        self.store = self.runtime.store
        self.jobs: dict[str, _Job] = {}
        self.runs = ExecutionLog()

    def backend(self, tx: "Transaction", writable: bool) -> "RuntimeCronsBackend":
        return RuntimeCronsBackend(self, tx, writable)

    def run(self, job: _Job, when: float) -> None:
        row = self.store.tables[TABLE].docs.get(job.id)
        if row is None or row["paused"]:
            return
        schedule = row["schedule"]
        if job.iterator is None:
            following = when + schedule["ms"]
        else:
            following = job.iterator.next_ms()
        self.scheduler._push(following, CRON, _Entry(job, job.version))
        label = row["name"] if row.get("name") is not None else job.id
        path = row["functionName"]
        start_run(self.scheduler, self.runs, job, label, path, self.runtime.app.functions.get(path), row["args"], when,
                  self.runtime)


class RuntimeCronsBackend:
    """What `Crons` methods call on a ctx: reads anywhere, writes only in a mutation."""

    def __init__(self, runner: RuntimeCronRunner, tx: "Transaction", writable: bool) -> None:
        self.runner = runner
        self.tx = tx
        self.writable = writable
        self.store = runner.store

    def _rows(self) -> list[dict[str, Any]]:
        table = self.store.tables[TABLE]
        if self.tx.reads is not None:  # a live query listing crons: any change to them concerns it
            self.tx.reads.add_table(table.live_key)
        return table.in_creation_order()

    def _find(self, id: Any, name: Any) -> dict[str, Any] | None:
        self.tx.check_open()
        if (id is None) == (name is None):
            raise CronDefinitionError("Give exactly one of id= or name=.")
        if id is not None:
            if not isinstance(id, str) or as_id(id, TABLE) is None:
                return None
            if self.tx.reads is not None:
                self.tx.reads.get(self.store.tables[TABLE].live_key, id)
            return self.store.tables[TABLE].docs.get(id)
        for row in self._rows():
            if row.get("name") == name:
                return row
        return None

    def _existing(self, id: Any, name: Any) -> dict[str, Any]:
        row = self._find(id, name)
        if row is None:
            raise CronNotFoundError(f'Cron "{id if id is not None else name}" not found')
        return row

    def _need_write(self, method: str) -> None:
        if not self.writable:
            from convex_py.errors import ReadOnlyError

            raise ReadOnlyError(f"crons.{method} writes: call it from a mutation, not a query.")

    @staticmethod
    def _view(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str.__new__(Id, row["_id"]),
            "name": row.get("name"),
            "schedule": clone(row["schedule"]),
            "functionName": row["functionName"],
            "args": clone(row["args"]),
            "paused": row["paused"],
        }

    def register(self, schedule: Any, ref: Any, args: Any, name: Any) -> str:
        self._need_write("register")
        self.tx.check_open()
        normalized = check_schedule(schedule)
        try:
            path, fn = self.runner.runtime.app.resolve(ref)
        except ConvexPyError as exc:
            raise CronDefinitionError(f"Cannot register a cron for {ref!r}: {exc}") from None
        if fn.kind not in ("mutation", "action"):
            raise CronDefinitionError(f"`{path}` is a {fn.kind}: only mutations and actions can run as crons.")
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise CronDefinitionError(f"The arguments of a cron must be a dict (an object), got {args!r}")
        copied, _size = copy_value(args)
        if name is not None:
            if not isinstance(name, str):
                raise CronDefinitionError(f"A cron's name must be a string, got {name!r}")
            if self._find(None, name) is not None:
                raise CronDefinitionError(f'Cron with name "{name}" already exists')
        row = {"name": name, "schedule": normalized, "functionName": path, "args": copied, "paused": False}
        job_id = self.store.insert_system(TABLE, row)
        now = self.runner.scheduler.clock.now
        runner = self.runner

        def activate() -> None:
            job = runner.jobs[job_id] = _Job(runner, job_id)
            job.start(now, normalized)

        self.store.after_commit(activate)
        return job_id

    def get(self, *, id: Any = None, name: Any = None) -> dict[str, Any] | None:
        row = self._find(id, name)
        return None if row is None else self._view(row)

    def list(self) -> list[dict[str, Any]]:
        self.tx.check_open()
        return [self._view(row) for row in self._rows()]

    def set_paused(self, paused: bool, *, id: Any = None, name: Any = None) -> None:
        self._need_write("pause" if paused else "resume")
        row = self._existing(id, name)
        if row["paused"] == paused:
            return None
        job_id = row["_id"]
        self.store.update_system(TABLE, job_id, {"paused": paused})
        now = self.runner.scheduler.clock.now
        schedule = row["schedule"]
        runner = self.runner

        def apply() -> None:
            job = runner.jobs.get(job_id)
            if job is None:
                return
            if paused:
                job.stop()
            else:
                job.start(now, schedule)

        self.store.after_commit(apply)
        return None

    def delete(self, *, id: Any = None, name: Any = None) -> None:
        self._need_write("delete")
        row = self._existing(id, name)
        job_id = row["_id"]
        self.store.delete_system(TABLE, job_id)
        runner = self.runner

        def apply() -> None:
            job = runner.jobs.pop(job_id, None)
            if job is not None:
                job.stop()

        self.store.after_commit(apply)
        return None
