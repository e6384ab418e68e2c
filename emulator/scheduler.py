"""The durable scheduler: `ctx.scheduler` and the queue of due work, on the virtual clock.

Jobs are documents of the system table `_scheduled_functions`, written in the
caller's transaction, so a mutation's jobs commit or vanish with it. Due work
(jobs, cron runs, clean-ups of finished jobs) sits in one heap keyed by
(due time, scheduling order); moving the clock pops what falls due, so its cost
follows the work done, never the time travelled.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import heapq
import itertools
import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from convex_py._functions import ConvexFunction
from convex_py._ready import Ready
from convex_py._references import FunctionReference
from convex_py._values import Id, as_id, copy_value, flat_size
from convex_py.errors import (
    ConvexError,
    ConvexPyError,
    FunctionNotFoundError,
    InvalidIdError,
    InvalidReferenceError,
    LimitExceededError,
    RunawaySchedulingError,
    SchedulerError,
    TransientError,
)

from ._aliases import with_camel_case_aliases
from ._execution_log import RETENTION_MS, ExecutionLog
from ._virtual_loop import VirtualTimeLoop
from .store import _PENDING_STATE

if TYPE_CHECKING:
    from ._transaction import Transaction
    from .runtime import Runtime

JOBS = "_scheduled_functions"
FIVE_YEARS_MS = 5 * 366 * 24 * 3600 * 1000
MAX_RUNS_AT_ONE_TIME = 100_000  # past this, run_after(0) chains are taken for a runaway loop
TRANSIENT_ACTION_ERROR = "Transient error while executing action"

# Kinds of heap entries.
JOB, CRON, CLEANUP = 0, 1, 2

# The generation of the scheduled action a task of the virtual loop runs: it outlives the
# action's first await, so what the action schedules later still counts toward max_iterations.
_action_generation: contextvars.ContextVar[int | None] = contextvars.ContextVar("convex_py_generation", default=None)

# Job states shared by new rows (rows are never changed in place: a new state is a new dict).
_PENDING = _PENDING_STATE
_CANCELED: dict[str, Any] = {"kind": "canceled"}


def _over_scheduling_limits(budget: Any, limits: Any) -> None:
    """Raise the error for whichever scheduling limit this execution has passed."""
    who = "mutation"  # Convex's wording, whichever kind of function schedules
    if budget.functions_scheduled > limits.max_functions_scheduled:
        raise LimitExceededError(
            f"Too many functions scheduled by this {who} (limit: {limits.max_functions_scheduled})"
        )
    raise LimitExceededError(
        f"Too large total size of the arguments of scheduled functions from this {who} "
        f"(limit: {limits.max_scheduled_args_bytes} bytes)"
    )


def _check_delay(delay_ms: Any) -> None:
    """Raise Convex's error for a delay that is not a finite non-negative number."""
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, (int, float)):
        raise SchedulerError("`delayMs` must be a number")
    if not math.isfinite(delay_ms):
        raise SchedulerError("`delayMs` must be a finite number")
    if delay_ms < 0:
        raise SchedulerError("`delayMs` must be non-negative")


def error_text(exc: BaseException) -> str:
    """The `error` string of a failed job, as a Convex user reads it."""
    if isinstance(exc, ConvexPyError):
        return str(exc)
    if isinstance(exc, ConvexError):
        return f"Uncaught ConvexError: {exc.data!r}"
    return f"Uncaught {type(exc).__name__}: {exc}"


class _ActionBudget:
    """Scheduling counts of one action execution (actions have no transaction budget)."""

    __slots__ = ("functions_scheduled", "scheduled_args_bytes", "limits")

    def __init__(self, limits: Any) -> None:
        self.functions_scheduled = 0
        self.scheduled_args_bytes = 0
        self.limits = limits


@with_camel_case_aliases
class SchedulerFacade:
    """`ctx.scheduler` of one function execution."""

    __slots__ = ("_scheduler", "_tx", "_job_id", "_async", "_budget", "_in_app_tx")

    def __init__(self, scheduler: "Scheduler", tx: "Transaction | None", job_id: Any, is_async: bool) -> None:
        self._scheduler = scheduler
        self._tx = tx
        self._job_id = job_id
        self._async = is_async
        self._budget: Any = tx if tx is not None else _ActionBudget(scheduler.limits)
        # A transaction of the app itself (no components to route to): run_after's short path.
        self._in_app_tx = tx is not None and scheduler.__class__ is Scheduler and scheduler.router is None

    def run_after(self, delay_ms: Any, ref: Any, args: Any = None) -> Any:
        """Schedule `ref` to run `delay_ms` milliseconds from now; returns the job's Id."""
        kind = type(delay_ms)
        if (kind is not int and kind is not float) or not 0 <= delay_ms <= FIVE_YEARS_MS:  # NaN fails too
            _check_delay(delay_ms)
        tx = self._tx
        scheduler = self._scheduler
        if tx is not None:
            if not tx.open or tx.deadline is not None:
                tx.check_open()
            if self._in_app_tx and delay_ms < FIVE_YEARS_MS - 1:
                # The app's own job, due within 5 years: no time to check, no component to route to.
                job_id = scheduler.enqueue_in(tx, delay_ms, ref, args)
                return Ready(job_id) if self._async else job_id
        job_id = scheduler.schedule(self, scheduler.clock.now + delay_ms, ref, args)
        return Ready(job_id) if self._async else job_id

    def run_at(self, ts: Any, ref: Any, args: Any = None) -> Any:
        """Schedule `ref` at `ts` (ms since the epoch or an aware datetime); returns the job's Id."""
        if isinstance(ts, datetime):
            if ts.tzinfo is None:
                raise SchedulerError(
                    "The invoke time must be a Date or a timestamp: a naive datetime has no time zone; "
                    "give it one (e.g. tzinfo=timezone.utc)"
                )
            when = ts.timestamp() * 1000
        elif isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
            raise SchedulerError("The invoke time must be a Date or a timestamp")
        else:
            when = float(ts)
        if self._tx is not None:
            self._tx.check_open()
        job_id = self._scheduler.schedule(self, when, ref, args)
        return Ready(job_id) if self._async else job_id

    def cancel(self, id: Any) -> Any:
        """Cancel a pending job (a running action goes on, but what it schedules next is canceled)."""
        if self._tx is not None:
            self._tx.check_open()
        self._scheduler.cancel(id, in_transaction=self._tx is not None)
        return Ready(None) if self._async else None


class Scheduler:
    """The queue of due work and the execution of scheduled functions."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.clock = runtime.clock
        self.limits = runtime.limits
        self.heap: list[tuple[float, int, int, Any]] = []
        self._order = itertools.count()
        self.pending_jobs = 0  # committed jobs still pending (their heap entries are live)
        self.executions = ExecutionLog()  # what timeline() shows: see emulator/_execution_log.py
        self._running_generation: int | None = None
        self._generations: dict[str, int] | None = None
        self.interrupts_pending = 0
        self.in_flight: dict[Any, str] = {}  # async actions running on the virtual loop
        self._virtual_loop: VirtualTimeLoop | None = None
        self._paths: dict[str, str] = {}  # reference path or "module:fn" text -> resolved path
        self._incoming: list[tuple[float, Any]] = []  # committed jobs not in the heap yet, as (due time, id)
        self.store.jobs_committed = self.jobs_committed
        # The dev server's hooks: run actions on its own event loop in real time
        # (`action_runner(path, fn, args, job_id, on_done, runtime)`), and route a scheduled
        # function's log lines to its log (`log_context(path)`, a context manager).
        self.action_runner: Callable[..., None] | None = None
        self.log_context: Callable[[str], Any] | None = None
        # Components (emulator.components): where each job that is not the app's own lives (a
        # `JobHome`: the store holding its row, the runtime running it), and how a reference the
        # app schedules into a component is resolved. Both stay empty for an app without components.
        self.homes: dict[Any, Any] = {}
        self.router: Callable[[Any], tuple[str, Any]] | None = None

    # --- scheduling ------------------------------------------------------------

    def facade(self, tx: "Transaction | None", job_id: Any, is_async: bool) -> SchedulerFacade:
        return SchedulerFacade(self, tx, job_id, is_async)

    def _resolve(self, ref: Any) -> tuple[str, ConvexFunction]:
        try:
            return self.runtime.app.resolve(ref)
        except FunctionNotFoundError:
            path = ref if isinstance(ref, str) else getattr(ref, "_path", repr(ref))
            raise SchedulerError(f"Attempted to schedule function at nonexistent path: {path}") from None
        except InvalidReferenceError as exc:
            raise SchedulerError(f"Cannot schedule {ref!r}: {exc}") from None

    def _path(self, ref: Any) -> str:
        """The path of a schedulable reference, remembered per reference (by its path text)."""
        key = ref._cached_path if type(ref) is FunctionReference else ref
        if type(key) is str:
            path = self._paths.get(key)
            if path is not None:
                return path
        path = self._resolve(ref)[0]
        if type(ref) is FunctionReference:
            key = ref._cached_path
        if type(key) is str and len(self._paths) < 10_000:
            self._paths[key] = path
        return path

    def check_when(self, when: float) -> None:
        now = self.clock.now
        if not -FIVE_YEARS_MS <= when - now <= FIVE_YEARS_MS:
            if when > now:
                raise SchedulerError(f"Scheduled time {when} is more than 5 years in the future")
            raise SchedulerError(f"Scheduled time {when} is more than 5 years in the past")

    def schedule(self, facade: SchedulerFacade, when: float, ref: Any, args: Any) -> Any:
        self.check_when(when)
        router = self.router
        if router is None:
            return self.enqueue(facade, when, self._path(ref), args, None)
        path, home = router(ref)
        return self.enqueue(facade, when, path, args, home)

    def enqueue_in(self, tx: "Transaction", delay_ms: float, ref: Any, args: Any) -> Any:
        """`enqueue` of a job of the app's own, from a transaction: the path of nearly every `run_after`."""
        path = self._paths.get(ref._cached_path) if type(ref) is FunctionReference else None
        if path is None:
            path = self._path(ref)
        if type(args) is dict:
            size = flat_size(args)
            if size >= 0:
                copied = dict(args)  # flat: a shallow copy is a deep one
            else:
                copied, size = copy_value(args)
        elif args is None:
            copied, size = {}, 2
        else:
            raise SchedulerError(
                f"The arguments of a scheduled function must be an object (a dict), got {type(args).__name__}: {args!r}"
            )
        limits = tx.limits
        tx.functions_scheduled += 1
        tx.scheduled_args_bytes += size
        if (tx.functions_scheduled > limits.max_functions_scheduled
                or tx.scheduled_args_bytes > limits.max_scheduled_args_bytes):
            _over_scheduling_limits(tx, limits)
        # Its row is written in a batch (see Store.insert_job), and it joins the heap on commit.
        return self.store.insert_job(path, copied, self.clock.now + delay_ms)

    def enqueue(self, facade: SchedulerFacade, when: float, path: str, args: Any, home: Any) -> Any:
        """Write the job's row (in `home.store`, or the app's when `home` is None) and queue it."""
        now = self.clock.now
        if args is None:
            args = {}
        elif type(args) is not dict:
            raise SchedulerError(
                f"The arguments of a scheduled function must be an object (a dict), got {type(args).__name__}: {args!r}"
            )
        copied, size = copy_value(args)
        budget = facade._budget
        limits = budget.limits  # a nested call's transaction_limits cap scheduling too
        budget.functions_scheduled += 1
        budget.scheduled_args_bytes += size
        if (budget.functions_scheduled > limits.max_functions_scheduled
                or budget.scheduled_args_bytes > limits.max_scheduled_args_bytes):
            _over_scheduling_limits(budget, limits)
        store = self.store if home is None else home.store
        body = {"name": path, "args": [copied], "scheduledTime": when, "state": _PENDING}
        if facade._tx is not None:
            # Written in the caller's transaction; the store hands the job over on commit.
            job_id = store.insert_system(JOBS, body)
            if home is not None:
                self.homes[job_id] = home
            store.new_jobs.append((when, job_id))
            return job_id
        canceled = facade._job_id is not None and self._state(facade._job_id) == "canceled"
        if canceled:
            body["state"] = _CANCELED
            body["completedTime"] = now
        with self.runtime.lock:
            job_id = store.insert_system(JOBS, body)
            if home is not None:
                self.homes[job_id] = home
            if canceled:
                self._push(now + RETENTION_MS, CLEANUP, job_id)
            else:
                self.jobs_committed([(when, job_id)])
        return job_id

    def jobs_committed(self, jobs: list[tuple[float, Any]]) -> None:
        """Queue jobs whose rows just committed (the store calls this); they join the heap when next read."""
        self.pending_jobs += len(jobs)
        parent = _action_generation.get()
        if parent is None:
            parent = self._running_generation
        if parent is not None and self._generations is not None:
            generation = parent + 1
            generations = self._generations
            for _when, job_id in jobs:
                generations[job_id] = generation
        self._incoming += jobs

    def _take_incoming(self) -> None:
        """Move committed jobs into the heap: one heapify for a big batch, pushes for a few."""
        jobs, self._incoming = self._incoming, []
        heap = self.heap
        order = self._order
        if len(jobs) * 8 > len(heap):
            heap.extend([(when, next(order), JOB, job_id) for when, job_id in jobs])
            heapq.heapify(heap)
        else:
            push = heapq.heappush
            for when, job_id in jobs:
                push(heap, (when, next(order), JOB, job_id))

    def _push(self, when: float, kind: int, payload: Any) -> None:
        if self._incoming:
            self._take_incoming()  # keeps (due time, order) in the order things were scheduled
        heapq.heappush(self.heap, (when, next(self._order), kind, payload))

    def _job(self, job_id: Any) -> dict[str, Any] | None:
        homes = self.homes
        if homes:
            home = homes.get(job_id)
            if home is not None:
                return home.store.tables[JOBS].docs.get(job_id)
        return self.store.tables[JOBS].docs.get(job_id)

    def _store_of(self, job_id: Any) -> Any:
        """The store holding a job's row: the app's, or a component's."""
        home = self.homes.get(job_id) if self.homes else None
        return self.store if home is None else home.store

    def _runtime_of(self, job_id: Any) -> Any:
        """The runtime a job runs in: the app's, or a component's."""
        home = self.homes.get(job_id) if self.homes else None
        return self.runtime if home is None else home.runtime

    def _state(self, job_id: Any) -> str | None:
        job = self._job(job_id)
        return None if job is None else job["state"]["kind"]

    def cancel(self, job_id: Any, *, in_transaction: bool, store: Any = None) -> None:
        """Cancel a job whose row is in `store` (the app's when None): a component sees only its own."""
        if not isinstance(job_id, str) or as_id(job_id, JOBS) is None:
            raise InvalidIdError(
                "Invalid scheduled function ID. The ID must be an ID on the '_scheduled_functions' table."
            )
        with self.runtime.lock:
            self.store.read_jobs()  # rows this transaction scheduled go into the table first
            job = self._job(job_id)
            if job is None or self._store_of(job_id) is not (self.store if store is None else store):
                return
            kind = job["state"]["kind"]
            if kind in ("pending", "inProgress"):
                now = self.clock.now
                self._store_of(job_id).update_system(
                    JOBS, job_id, {"state": {"kind": "canceled"}, "completedTime": now}
                )

                def canceled() -> None:
                    if kind == "pending":
                        self.pending_jobs -= 1
                    self._push(now + RETENTION_MS, CLEANUP, job_id)

                if in_transaction:
                    self.store.after_commit(canceled)
                else:
                    canceled()
            elif kind in ("success", "failed"):
                fn = self._runtime_of(job_id).app.functions.get(job["name"])
                if fn is not None and fn.kind == "action":
                    raise SchedulerError(
                        f"Cannot cancel scheduled function {job_id}: the action {job['name']} has already "
                        f"completed (state: {kind})."
                    )

    # --- running due work ---------------------------------------------------------

    def next_due_time(self) -> float | None:
        if self._incoming:
            self._take_incoming()
        return self.heap[0][0] if self.heap else None

    def run_due(self, target: float, *, stop_when_no_jobs: bool = False) -> int:
        """Run every entry due at or before `target`, each at its own time; return jobs run.

        The cyclic garbage collector is paused meanwhile: a long drain otherwise spends
        most of its time re-walking the store's long-lived documents.
        """
        if self._incoming:
            self._take_incoming()
        if (not self.heap or self.heap[0][0] > target) and not self.in_flight:
            return 0
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._run_due(target, stop_when_no_jobs)
        finally:
            if collecting:
                gc.enable()

    def _run_due(self, target: float, stop_when_no_jobs: bool) -> int:
        heap = self.heap
        clock = self.clock
        ran = 0
        same_time_runs, same_time = 0, clock.now
        while True:
            if stop_when_no_jobs and self.pending_jobs == 0 and not self.in_flight:
                break
            if self._incoming:
                self._take_incoming()  # jobs the last run scheduled
            heap_next = heap[0][0] if heap else math.inf
            loop_next = self._loop.next_timer_ms() if self.in_flight else math.inf
            if loop_next <= heap_next:
                # A running action's timer (e.g. the end of an asyncio.sleep) comes first.
                if loop_next > target:
                    break
                if loop_next > clock.now:
                    clock.set(loop_next)
                self._loop.run_ready()
                continue
            if heap_next > target:
                break
            when, _order, kind, payload = heapq.heappop(heap)
            if kind == JOB:
                if self._state(payload) != "pending":
                    continue  # canceled since: its entry is simply dropped
                self.pending_jobs -= 1
                if when > clock.now:
                    clock.set(when)
                if clock.now != same_time:
                    same_time_runs, same_time = 0, clock.now
                same_time_runs += 1
                if same_time_runs > MAX_RUNS_AT_ONE_TIME:
                    self.pending_jobs += 1
                    self._push(when, JOB, payload)
                    raise RunawaySchedulingError(
                        f"More than {MAX_RUNS_AT_ONE_TIME} scheduled functions ran at the same virtual time "
                        f"(next: {self._job(payload)['name']}); a function may be rescheduling itself "
                        "with run_after(0) forever."
                    )
                if self._run_job(payload):
                    ran += 1
                continue
            if when > clock.now:
                clock.set(when)
            if kind == CRON:
                payload.fire(when)
            else:
                self._cleanup(payload)
        return ran

    def _cleanup(self, job_id: Any) -> None:
        job = self._job(job_id)
        if job is not None and job["state"]["kind"] in ("success", "failed", "canceled"):
            with self.runtime.lock:
                self._store_of(job_id).delete_system(JOBS, job_id)
                if self.homes:
                    self.homes.pop(job_id, None)

    def _finish(self, job_id: Any, state: dict[str, Any]) -> None:
        now = self.clock.now
        self._store_of(job_id).update_system(JOBS, job_id, {"state": state, "completedTime": now})
        self._push(now + RETENTION_MS, CLEANUP, job_id)

    def _run_job(self, job_id: Any) -> bool:
        job = self._job(job_id)
        if job is None or job["state"]["kind"] != "pending":
            return False
        if job_id.__class__ is not Id:  # queued as its plain text (see Store.insert_job)
            job_id = str.__new__(Id, job_id)
        generations = self._generations
        generation = 1
        if generations is not None:
            generation = generations.pop(job_id, 1)
            if generation > self._max_iterations:
                # Put it back: the caller raises, and the job stays pending.
                self.pending_jobs += 1
                self._push(job["scheduledTime"], JOB, job_id)
                raise RunawaySchedulingError(
                    f"finish_all_scheduled_functions: too many iterations: scheduled functions were still "
                    f"scheduling more after {self._max_iterations} iterations (next: {job['name']}). Check for "
                    "infinitely recursive scheduled functions, or increase max_iterations (or advance time "
                    "step by step)."
                )
        path = job["name"]
        args = job["args"][0]
        fn = self._runtime_of(job_id).app.functions.get(path)
        previous = self._running_generation
        self._running_generation = generation
        try:
            if fn is None:
                self._record(path, "unknown", "failed", f"Could not find function for '{path}'", job_id)
                with self.runtime.lock:
                    self._finish(job_id, {"kind": "failed", "error": f"Could not find function for '{path}'"})
            elif fn.kind == "mutation":
                self._run_mutation_job(job_id, path, fn, args)
            elif fn.kind == "action":
                self._run_action_job(job_id, path, fn, args)
            else:
                error = f"Only mutations and actions can be scheduled: `{path}` is a {fn.kind}"
                with self.runtime.lock:
                    self._finish(job_id, {"kind": "failed", "error": error})
                self._record(path, fn.kind, "failed", error, job_id)
        finally:
            self._running_generation = previous
        return True

    def _run_mutation_job(self, job_id: Any, path: str, fn: ConvexFunction, args: Any) -> None:
        runtime = self._runtime_of(job_id)
        rows = self._store_of(job_id)

        def mark_success(tx: "Transaction") -> None:
            now = self.clock.now
            rows.update_system(JOBS, job_id, {"state": {"kind": "success"}, "completedTime": now})
            self.store.after_commit(lambda: self._push(now + RETENTION_MS, CLEANUP, job_id))

        try:
            if self.log_context is None:
                runtime.run_mutation(path, fn, args, None, before_commit=mark_success,
                                     request=runtime.new_request(job_id))
            else:
                with self.log_context(path):
                    runtime.run_mutation(path, fn, args, None, before_commit=mark_success,
                                     request=runtime.new_request(job_id))
        except Exception as exc:  # the function's own failure: its writes are rolled back
            error = error_text(exc)
            with runtime.lock:
                self._finish(job_id, {"kind": "failed", "error": error})
            self._record(path, "mutation", "failed", error, job_id)
            return
        self._record(path, "mutation", "success", None, job_id)

    def _run_action_job(self, job_id: Any, path: str, fn: ConvexFunction, args: Any) -> None:
        with self.runtime.lock:
            self._store_of(job_id).update_system(JOBS, job_id, {"state": {"kind": "inProgress"}})
        if self.interrupts_pending > 0:
            self.interrupts_pending -= 1
            self._settle_action(job_id, path, TransientError(TRANSIENT_ACTION_ERROR), self.clock.now)
            return
        started = self.clock.now
        self.start_action(path, fn, args, job_id, lambda error: self._settle_action(job_id, path, error, started))

    def start_action(self, path: str, fn: ConvexFunction, args: Any, job_id: Any,
                     on_done: Callable[[BaseException | None], None], runtime: Any = None) -> None:
        """Run an action for the scheduler or a cron; `on_done(error or None)` when it ends.

        A sync action ends at once. An async one becomes a task of the virtual-time
        loop: it ends when its awaits are over, possibly at a later virtual time.
        `runtime` runs it (a component's cron); by default the job's own (the app's or a component's).
        """
        if runtime is None:
            runtime = self._runtime_of(job_id)
        if self.action_runner is not None:
            self.action_runner(path, fn, args, job_id, on_done, runtime)
            return
        if not fn.is_async:
            try:
                runtime.run_action(path, fn, args, None, job_id=job_id)
            except Exception as exc:
                on_done(exc)
            else:
                on_done(None)
            return
        loop = self._loop
        context = contextvars.copy_context()
        context.run(_action_generation.set, self._running_generation)
        task = loop.create_task(runtime.action_coroutine_for(path, fn, args, None, job_id), context=context)
        self.in_flight[task] = path

        def finished(task: "asyncio.Task[Any]") -> None:
            del self.in_flight[task]
            error = asyncio.CancelledError() if task.cancelled() else task.exception()
            on_done(error)

        task.add_done_callback(finished)
        loop.run_ready()

    @property
    def _loop(self) -> VirtualTimeLoop:
        if self._virtual_loop is None:
            self._virtual_loop = VirtualTimeLoop(self.clock)
        return self._virtual_loop

    def close(self) -> None:
        """Close the virtual-time loop, cancelling actions still running."""
        loop = self._virtual_loop
        if loop is not None and not loop.is_closed():
            for task in list(self.in_flight):
                task.cancel()
            if self.in_flight:
                loop.run_ready()
            loop.close()
        self._virtual_loop = None

    def _settle_action(self, job_id: Any, path: str, error: BaseException | None, started: float) -> None:
        if error is None:
            state: dict[str, Any] = {"kind": "success"}
        elif isinstance(error, TransientError):
            state = {"kind": "failed", "error": TRANSIENT_ACTION_ERROR}
        else:
            state = {"kind": "failed", "error": error_text(error)}
        with self.runtime.lock:
            current = self._state(job_id)
            if current == "inProgress":
                self._finish(job_id, state)
        outcome = state["kind"] if current == "inProgress" else "canceled"
        self._record(path, "action", outcome, state.get("error"), job_id, started=started)

    def finish_in_progress(self) -> int:
        """Let the actions running now finish, moving the clock through their timers; return how many.

        Jobs already due at this instant start first (without moving the clock), as they would
        have on real timers: `run_after(0)` then `finish_in_progress` sees them done. Work that
        falls due on the way runs too (time passes), but actions it starts are
        not waited for: otherwise a cron whose action outlasts its period never settles.
        """
        self.run_due(self.clock.now)  # what is due at this instant starts, as real timers would have fired
        started = set(self.in_flight)
        while started & self.in_flight.keys():
            next_timer = self._loop.next_timer_ms()
            if next_timer < math.inf:
                self.run_due(max(next_timer, self.clock.now))
                if next_timer > self.clock.now:
                    self.clock.set(next_timer)
            else:
                self._loop.wait_for_io([task for task in started if task in self.in_flight])
        return len(started)

    # --- draining ------------------------------------------------------------------

    _max_iterations = 100

    def finish_all(self, max_iterations: int) -> int:
        """Run jobs from due time to due time until none is pending; return how many ran."""
        if type(max_iterations) is float and max_iterations.is_integer():
            max_iterations = int(max_iterations)  # a count, as Convex's numbers give it
        if type(max_iterations) is not int or max_iterations < 1:
            raise ValueError(f"max_iterations must be a positive int, got {max_iterations!r}")
        self._generations = {}
        self._max_iterations = max_iterations
        ran = 0
        try:
            while self.pending_jobs > 0 or self.in_flight:
                ran += self.run_due(math.inf, stop_when_no_jobs=True)
        finally:
            self._generations = None
        self._cleanups_due_now()
        return ran

    def _cleanups_due_now(self) -> None:
        """Remove the finished jobs whose 7 days end at the current instant (crons there wait)."""
        if self._incoming:
            self._take_incoming()
        heap = self.heap
        now = self.clock.now
        kept = []
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if entry[2] == CLEANUP:
                self._cleanup(entry[3])
            else:
                kept.append(entry)
        for entry in kept:
            heapq.heappush(heap, entry)

    # --- the log ----------------------------------------------------------------------

    def _record(self, path: str, kind: str, outcome: str, error: str | None, job_id: Any,
                source: str = "scheduled", started: float | None = None) -> None:
        now = self.clock.now
        self.executions.append(
            {
                "time": now if started is None else started,
                "completedTime": now,
                "function": path,
                "component": self._runtime_of(job_id).component_path if self.homes else "",
                "kind": kind,
                "source": source,
                "outcome": outcome,
                "error": error,
                "job_id": job_id,
            }
        )


__all__ = ["Scheduler", "SchedulerFacade", "error_text"]
