"""The cron executor: an app's `crons.py` jobs on the scheduler's clock and heap.

Each job has one entry in the scheduler's heap, for its next due time; running
it pushes the next. Interval jobs run at deploy and then every period after the
previous *scheduled* time; clock schedules run at each match of their spec
strictly after deploy (each spec parsed once: `CronTimes`). Moving a year through
a daily job therefore costs 365 runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convex_py._crons import CronJob, CronJobs
from convex_py.errors import AppLoadError, ConvexPyError

from ._cron_times import CronTimes
from ._execution_log import ExecutionLog
from .scheduler import CRON, error_text

if TYPE_CHECKING:
    from .scheduler import Scheduler


class _ScheduledCron:
    """A deployed job: what to run, and how to find its next time."""

    __slots__ = ("runner", "job", "path", "fn", "interval_ms", "iterator", "running", "generation", "next_time")

    def __init__(self, runner: "CronRunner", job: CronJob, path: str, fn: Any, deploy_ms: float) -> None:
        self.runner = runner
        self.job = job
        self.path = path
        self.fn = fn
        self.interval_ms = job.interval_ms
        self.iterator: Any = None
        self.running = False
        self.generation = 0  # bumped when the schedule is rebuilt: older heap entries then do nothing
        self.next_time = deploy_ms
        if self.interval_ms is None:
            self.iterator = CronTimes(job.cron_spec)

    def first_time(self, deploy_ms: float) -> float:
        return deploy_ms if self.interval_ms is not None else self.iterator.first_after(deploy_ms)

    def next_after(self, scheduled_ms: float) -> float:
        if self.interval_ms is not None:
            return scheduled_ms + self.interval_ms
        return self.iterator.next_after(scheduled_ms)


class _CronEntry:
    """A heap entry of a crons.py job; `once` runs without queueing the next time (a catch-up run)."""

    __slots__ = ("cron", "generation", "once")

    def __init__(self, cron: _ScheduledCron, once: bool = False) -> None:
        self.cron = cron
        self.generation = cron.generation
        self.once = once

    def fire(self, when: float) -> None:
        if self.generation == self.cron.generation:
            self.cron.runner.run(self.cron, when, reschedule=not self.once)


def run_cron(scheduler: "Scheduler", path: str, fn: Any, args: Any, done: Any, runtime: Any = None) -> None:
    """Run one cron's function: a mutation at once, an action via the scheduler (it may take time).

    `runtime` is the component whose cron it is (the app's by default)."""
    if runtime is None:
        runtime = scheduler.runtime
    if fn is None:
        done(ConvexPyError(f"Could not find function for '{path}'"))
    elif fn.kind == "mutation":
        try:
            if scheduler.log_context is None:
                runtime.run_mutation(path, fn, args, None)
            else:
                with scheduler.log_context(path):
                    runtime.run_mutation(path, fn, args, None)
        except Exception as exc:  # recorded; the schedule goes on
            done(exc)
        else:
            done(None)
    else:
        scheduler.start_action(path, fn, args, None, done, runtime)


def start_run(scheduler: "Scheduler", runs: ExecutionLog, state: Any, name: str, path: str, fn: Any,
              args: Any, when: float, runtime: Any = None) -> None:
    """One due time of a cron job (static or runtime): skipped while `state.running`, else run and logged.

    `runtime` runs it (a component's, or the app's by default); the timeline names its component."""
    clock = scheduler.clock
    component = "" if runtime is None else runtime.component_path

    def record(outcome: str, error: str | None, started: float) -> None:
        entry = {
            "name": name,
            "time": started,
            "completedTime": clock.now,
            "scheduledTime": when,
            "function": path,
            "kind": fn.kind if fn is not None else "unknown",
            "source": "cron",
            "outcome": outcome,
            "error": error,
        }
        runs.append(entry)
        scheduler.executions.append({**entry, "component": component})

    if state.running:
        record("skipped", "the previous run of this job is still running", clock.now)
        return
    state.running = True
    started = clock.now

    def done(error: BaseException | None) -> None:
        state.running = False
        record("success" if error is None else "failed", None if error is None else error_text(error), started)

    run_cron(scheduler, path, fn, args, done, runtime)


class CronRunner:
    """Runs deployed cron jobs when the scheduler pops them."""

    def __init__(self, scheduler: "Scheduler", runtime: Any = None) -> None:
        self.scheduler = scheduler
        # The runtime whose crons these are: the app's, or a component's (its crons.py runs in it).
        self.runtime = scheduler.runtime if runtime is None else runtime
        self.jobs: dict[str, _ScheduledCron] = {}
        self.runs = ExecutionLog()  # trimmed with the retention: see emulator/_execution_log.py

    def deploy(self, crons: Any) -> None:
        """Register an app's cron jobs at the current time (Convex's deploy)."""
        if crons is None:
            return
        if not isinstance(crons, CronJobs):
            raise AppLoadError(f"crons.py must export `crons = cron_jobs()`, got {crons!r}")
        now = self.scheduler.clock.now
        for name, job in crons.jobs.items():
            try:
                path, fn = self.runtime.app.resolve(job.function)
            except ConvexPyError as exc:
                raise AppLoadError(f"Cron job {name!r}: {exc}") from None
            if fn.kind not in ("mutation", "action"):
                raise AppLoadError(
                    f"Cron job {name!r}: `{path}` is a {fn.kind}; only mutations and actions can be scheduled."
                )
            scheduled = _ScheduledCron(self, job, path, fn, now)
            self.jobs[name] = scheduled
            self._queue(scheduled, scheduled.first_time(now))

    def _queue(self, scheduled: _ScheduledCron, when: float) -> None:
        scheduled.next_time = when
        self.scheduler._push(when, CRON, _CronEntry(scheduled))

    def run(self, scheduled: _ScheduledCron, when: float, reschedule: bool = True) -> None:
        """Run one due time of a job, then queue its next time."""
        scheduler = self.scheduler
        if reschedule:
            self._queue(scheduled, scheduled.next_after(when))
        start_run(scheduler, self.runs, scheduled, scheduled.job.name, scheduled.path, scheduled.fn,
                  scheduled.job.args, when, self.runtime)

    def catch_up(self, name: str, missed_from: float, now: float) -> int:
        """After downtime: run an overdue job once now, skip its other missed times; return how many skipped.

        `missed_from` is the job's first time that passed while nothing ran.
        """
        scheduled = self.jobs[name]
        scheduled.generation += 1
        overdue = 0
        if scheduled.interval_ms is not None:
            overdue = int((now - missed_from) // scheduled.interval_ms) + 1
            following = missed_from + overdue * scheduled.interval_ms
        else:
            following = scheduled.iterator.next_after(missed_from - 1)
            while following <= now and overdue < 10_000_000:
                overdue += 1
                following = scheduled.iterator.next_after(following)
        self.scheduler._push(now, CRON, _CronEntry(scheduled, once=True))
        self._queue(scheduled, following)
        return max(overdue - 1, 0)
