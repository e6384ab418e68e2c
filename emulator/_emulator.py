"""`ConvexEmulator`: an app, a store, a virtual clock and a scheduler, driven from a test or tool."""

from __future__ import annotations

import inspect
from datetime import timedelta
from types import MappingProxyType
from pathlib import Path
from typing import Any, Callable, Mapping

from convex_py._env import current_env
from convex_py._functions import ConvexFunction
from convex_py._schema import SchemaDefinition

from .app import App
from .clock import Clock, to_ms
from convex_py._values import clone
from .limits import Limits
from .runtime import INLINE_PATH, Runtime, make_identity
from ._tokens import TokenError, identity_from_header
from .crons import CronRunner
from .env_vars import built_ins, check_variable, checked
from .runtime_crons import RuntimeCronRunner
from .scheduler import JOBS, Scheduler
from .store import Store
from .http_actions import HttpActions
from .storage import FileStorage



def _inline(kind: str, fn: Callable[..., Any]) -> ConvexFunction:
    """An inline function of ctx (`t.run(lambda ctx: ...)`) as an internal function."""
    if inspect.iscoroutinefunction(fn):
        async def handler(ctx: Any, args: Any) -> Any:
            return await fn(ctx)
    else:
        def handler(ctx: Any, args: Any) -> Any:
            return fn(ctx)
    return ConvexFunction(kind, "internal", handler)  # type: ignore[arg-type]


class _Caller:
    """Calls into the emulator as one identity (or none)."""

    def __init__(self, emulator: "ConvexEmulator", identity: dict[str, Any] | None) -> None:
        self._emulator = emulator  # keeps the emulator alive while this caller is
        self._runtime = emulator._runtime
        self._identity = identity

    def _call(self, kind: str, ref: Any, args: Any) -> Any:
        runtime = self._runtime
        if callable(ref) and not isinstance(ref, ConvexFunction) and not isinstance(ref, str) and not _is_reference(ref):
            fn = _inline(kind, ref)
            if args is not None:
                raise TypeError(f"An inline {kind} takes only ctx; pass arguments by closing over them.")
            if kind == "query":
                return runtime.run_query(INLINE_PATH, fn, None, self._identity)
            if kind == "mutation":
                return runtime.run_mutation(INLINE_PATH, fn, None, self._identity)
            return runtime.run_action(INLINE_PATH, fn, None, self._identity)
        return runtime.call(kind, ref, args, self._identity)

    def query(self, ref: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a query (a reference, or an inline function of ctx)."""
        return self._call("query", ref, args)

    def mutation(self, ref: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a mutation in its own transaction (a reference, or an inline function of ctx)."""
        return self._call("mutation", ref, args)

    def action(self, ref: Any, args: dict[str, Any] | None = None) -> Any:
        """Run an action (a reference, or an inline function of ctx)."""
        return self._call("action", ref, args)

    def fetch(self, path: str, *, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        """Send an HTTP request to the app's HTTP actions (or to a file URL); returns an `httpx.Response`.

        `path` is a site path ("/webhook?x=1") or a URL from `ctx.storage.get_url` or
        `generate_upload_url`. Without `with_identity`, an `Authorization: Bearer <JWT>`
        header gives the identity, as in Convex.
        """
        from .fetch import fetch

        emulator = self._emulator if self._emulator is not None else self
        return fetch(emulator._http, self._runtime.storage, path, method=method, headers=headers, body=body,
                     identity=self._identity, decode_identity=_identity_from_header)

    def run(self, fn: Callable[..., Any]) -> Any:
        """Run an inline function with a mutation ctx: direct access to the database."""
        if not callable(fn) or isinstance(fn, ConvexFunction) or _is_reference(fn):
            raise TypeError("run() takes an inline function of ctx, e.g. t.run(lambda ctx: ctx.db.get(id))")
        return self._call("mutation", fn, None)


def _identity_from_header(header: str | None) -> dict[str, Any] | None:
    """The identity in an `Authorization: Bearer <JWT>` header, decoded as the dev server does; an
    HTTP action still runs, without identity, when the header is missing or not a Convex token."""
    try:
        return identity_from_header(header)
    except TokenError:
        return None


def _is_reference(value: Any) -> bool:
    from convex_py._references import FunctionReference

    return isinstance(value, FunctionReference)


class ConvexEmulator(_Caller):
    """A Convex deployment in memory, on a virtual clock.

    `app` is an app folder (or its `convex/` folder); `modules={"orders": module}`
    builds one without files. Time moves only when told to.
    """

    def __init__(
        self,
        app: str | Path | None = None,
        *,
        start_time: Any = None,
        schema: SchemaDefinition | None = None,
        modules: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if app is not None and modules is not None:
            raise TypeError("Give either an app folder or modules=, not both.")
        variables = {**built_ins(), **checked(env)}
        token = current_env.set(variables)  # modules reading `env` as they load see this deployment's
        try:
            if app is not None:
                self.app = App.from_folder(app, schema=schema)
            else:
                self.app = App(modules or {}, schema=schema)
        finally:
            current_env.reset(token)
        self.limits = limits if limits is not None else Limits()
        self.clock = Clock(start_time)
        self.store = Store(self.app.schema, self.limits, self.clock)
        self._runtime = Runtime(self.app, self.store, self.clock, self.limits)
        self._runtime.env = variables
        self._scheduler = Scheduler(self._runtime)
        self._runtime.scheduler = self._scheduler
        self._crons = CronRunner(self._scheduler)
        self._runtime.runtime_crons = RuntimeCronRunner(self._scheduler)
        self._runtime.runtime_crons.runs = self._crons.runs  # one log of cron runs, in time order
        self._runtime.storage = FileStorage(self.store, self.clock, self._runtime.lock)
        self._http = HttpActions(self._runtime, self._scheduler.executions)
        self._crons.deploy(self.app.crons)
        # Not _Caller.__init__: the emulator must not refer to itself, so that dropping the
        # last reference frees it (and its documents) at once instead of at the next full GC.
        self._identity = None
        self._emulator = None

    # --- environment variables ---------------------------------------------------

    @property
    def env(self) -> Mapping[str, str]:
        """The deployment's environment variables (what `convex_py.env` reads in its functions), read-only."""
        return MappingProxyType(self._runtime.env)

    def set_env(self, name: str, value: str | None) -> None:
        """Set an environment variable of the deployment (None removes it), as `npx convex env set`."""
        variables = self._runtime.env
        if value is None:
            check_variable(name, "")
            variables.pop(name, None)
            return
        check_variable(name, value)
        variables[name] = value

    setEnv = set_env

    # --- identity ---------------------------------------------------------------

    def with_identity(self, identity: dict[str, Any]) -> _Caller:
        """A caller whose functions see this identity in `ctx.auth.get_user_identity()`."""
        return _Caller(self, make_identity(identity))

    withIdentity = with_identity

    # --- time ---------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The virtual time, in milliseconds since the epoch."""
        return self.clock.now

    def advance(
        self,
        ms: float | timedelta = 0,
        *,
        seconds: float = 0,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
    ) -> None:
        """Move the clock forward, running everything that falls due on the way."""
        if isinstance(ms, timedelta):
            ms = ms.total_seconds() * 1000
        if isinstance(ms, bool) or not isinstance(ms, (int, float)):
            raise TypeError(f"advance() takes milliseconds or a timedelta, got {ms!r}")
        total = ms + 1000 * (seconds + 60 * minutes + 3600 * hours + 86400 * days)
        if total < 0:
            raise ValueError(f"advance() cannot move time backwards ({total} ms)")
        self.advance_to(self.clock.now + total)

    def advance_to(self, when: Any) -> None:
        """Move the clock to `when` (ms or aware datetime), running what falls due on the way."""
        target = to_ms(when, what="advance_to")
        if target < self.clock.now:
            raise ValueError(f"advance_to() cannot move time backwards (now {self.clock.now}, asked {target})")
        self._scheduler.run_due(target)
        self.clock.set(target)

    # --- the scheduler --------------------------------------------------------------

    def finish_all_scheduled_functions(self, max_iterations: int = 100) -> int:
        """Jump from due time to due time until no scheduled function is pending; return how many ran.

        Crons due on the way run too, but do not keep it going. Raises
        `RunawaySchedulingError` when jobs keep scheduling jobs past `max_iterations` generations.
        """
        return self._scheduler.finish_all(max_iterations)

    def finish_in_progress_scheduled_functions(self) -> int:
        """Let scheduled (and cron) actions that are still running finish; return how many.

        An async action that awaits (e.g. `asyncio.sleep`) takes virtual time, so it may
        still be running after `advance`; this moves the clock through its timers (running
        whatever else falls due on the way) until every one has ended.
        """
        return self._scheduler.finish_in_progress()

    def close(self) -> None:
        """Release the emulator's event loop (the pytest fixture does this after each test)."""
        self._scheduler.close()

    def __del__(self) -> None:
        # The parts of an emulator refer to each other (runtime and scheduler, crons and the
        # heap), so without this they and every document would wait for a full garbage
        # collection: a pause of milliseconds per dead emulator, landing in a later test.
        try:
            self._scheduler.close()
            self._scheduler.heap.clear()
            self._runtime.runtime_crons.jobs.clear()
            self._runtime.scheduler = None
            self._runtime.runtime_crons = None
            self._crons.jobs.clear()
            self.store.jobs_committed = None
        except Exception:  # a half-built emulator, or interpreter shutdown
            pass

    def scheduled_functions(self, state: str | None = None) -> list[dict[str, Any]]:
        """The `_scheduled_functions` documents (optionally only those in `state`), oldest first."""
        docs = self.store.tables[JOBS].in_creation_order()
        return [clone(doc) for doc in docs if state is None or doc["state"]["kind"] == state]

    def cron_runs(self, name: str | None = None) -> list[dict[str, Any]]:
        """Each run of a cron job (optionally only `name`'s): name, time, function, outcome, error."""
        return [dict(run) for run in self._crons.runs if name is None or run["name"] == name]

    def timeline(self) -> list[dict[str, Any]]:
        """Every execution of a scheduled function, cron or HTTP action: virtual time, function, outcome, error."""
        return [dict(entry) for entry in self._scheduler.executions]

    # --- fault injection --------------------------------------------------------------

    def fail_next_commits(self, n: int = 1) -> None:
        """Make the next `n` mutation commits fail with a transient error (Convex retries them)."""
        self._runtime.commits_to_fail += n

    def interrupt_next_actions(self, n: int = 1) -> None:
        """Make the next `n` scheduled actions fail with a transient system error (never retried)."""
        self._scheduler.interrupts_pending += n
