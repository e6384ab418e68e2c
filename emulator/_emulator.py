"""`ConvexEmulator`: an app, a store, a virtual clock and a scheduler, driven from a test or tool."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from convex_py._components import HANDLE_PREFIX, ComponentReference, is_handle
from convex_py._env import current_env
from convex_py._functions import ConvexFunction
from convex_py._references import FunctionReference
from convex_py._schema import SchemaDefinition
from convex_py._values import clone_doc

from ._tokens import TokenError, identity_from_header
from .app import App
from .clock import Clock, to_ms
from .components import Components, app_definition
from .crons import CronRunner
from .env_vars import built_ins, check_variable, checked
from .http_actions import HttpActions
from .limits import Limits
from .runtime import INLINE_PATH, Runtime, make_identity
from .runtime_crons import RuntimeCronRunner
from .scheduler import JOBS, Scheduler
from .storage import FileStorage
from .store import Store
from .wall_clock import DEFAULT_BACKEND, WallClock

if TYPE_CHECKING:
    from .live import Subscription



def _inline(kind: str, fn: Callable[..., Any]) -> ConvexFunction:
    """An inline function of ctx (`t.run(lambda ctx: ...)`) as an internal function."""
    if inspect.iscoroutinefunction(fn):
        async def handler(ctx: Any, args: Any) -> Any:
            return await fn(ctx)
    else:
        def handler(ctx: Any, args: Any) -> Any:
            return fn(ctx)
    return ConvexFunction(kind, "internal", handler)  # type: ignore[arg-type]


def _plain_reference(ref: Any) -> bool:
    """`api.x.y` or `"x:y"`: a function of the app itself (not inline, not a component's, not a handle)."""
    cls = ref.__class__
    return cls is FunctionReference or (cls is str and not ref.startswith(HANDLE_PREFIX))


class _Caller:
    """Calls into the emulator as one identity (or none)."""

    def __init__(self, emulator: "ConvexEmulator", identity: dict[str, Any] | None) -> None:
        self._emulator = emulator  # keeps the emulator alive while this caller is
        self._runtime = emulator._runtime
        self._identity = identity

    def _call(self, kind: str, ref: Any, args: Any) -> Any:
        runtime = self._runtime
        if runtime.deploy_runs_pending:
            _run_deploy_runs(runtime)
        if _plain_reference(ref):
            return runtime.call_own(kind, ref, args, self._identity)  # the usual call: api.x.y or "x:y"
        if callable(ref) and not isinstance(ref, ConvexFunction) and not isinstance(ref, str) and not _is_reference(ref):
            fn = _inline(kind, ref)
            if args is not None:
                raise TypeError(f"An inline {kind} takes only ctx; pass arguments by closing over them.")
            if kind == "query":
                return runtime.run_query(INLINE_PATH, fn, None, self._identity)
            if kind == "mutation":
                return runtime.run_mutation(INLINE_PATH, fn, None, self._identity)
            return runtime.run_action(INLINE_PATH, fn, None, self._identity)
        if ref.__class__ is ComponentReference or is_handle(ref):
            # From the test itself: the identity goes along (it crosses no component boundary).
            return runtime._components().call(kind, ref, args, self._identity, top_level=True)
        return runtime.call(kind, ref, args, self._identity)

    def query(self, ref: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a query (a reference, or an inline function of ctx)."""
        runtime = self._runtime
        if _plain_reference(ref) and not runtime.deploy_runs_pending:  # the usual call, straight to it
            path, fn = runtime.resolve("query", ref)
            return runtime.run_query(path, fn, args, self._identity)
        return self._call("query", ref, args)

    def mutation(self, ref: Any, args: dict[str, Any] | None = None) -> Any:
        """Run a mutation in its own transaction (a reference, or an inline function of ctx)."""
        runtime = self._runtime
        if _plain_reference(ref) and not runtime.deploy_runs_pending:  # the usual call, straight to it
            path, fn = runtime.resolve("mutation", ref)
            return runtime.run_mutation(path, fn, args, self._identity)
        return self._call("mutation", ref, args)

    def action(self, ref: Any, args: dict[str, Any] | None = None) -> Any:
        """Run an action (a reference, or an inline function of ctx)."""
        return self._call("action", ref, args)

    def subscribe(self, ref: Any, args: dict[str, Any] | None = None) -> "Subscription":
        """Follow a query (a reference, or an inline function of ctx) as commits change what it read.

        Returns a `Subscription`: `value`, `history` ([(virtual time, result), ...], one entry
        per change, scheduled functions and crons included as time moves), `close()`.
        """
        from .live import LiveQueries, Subscription

        runtime = self._runtime
        if runtime.deploy_runs_pending:
            _run_deploy_runs(runtime)
        if callable(ref) and not isinstance(ref, ConvexFunction) and not isinstance(ref, str) and not _is_reference(ref):
            if args is not None:
                raise TypeError("An inline query takes only ctx; pass arguments by closing over them.")
            path, fn = INLINE_PATH, _inline("query", ref)
        else:
            path, fn = runtime.resolve("query", ref)
        return Subscription(LiveQueries.of(runtime), path, fn, args, self._identity, runtime.clock)

    def fetch(self, path: str, *, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        """Send an HTTP request to the app's HTTP actions (or to a file URL); returns an `httpx.Response`.

        `path` is a site path ("/webhook?x=1") or a URL from `ctx.storage.get_url` or
        `generate_upload_url`. Without `with_identity`, an `Authorization: Bearer <JWT>`
        header gives the identity, as in Convex.
        """
        from .fetch import fetch

        if self._runtime.deploy_runs_pending:
            _run_deploy_runs(self._runtime)
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


def _run_deploy_runs(runtime: Any) -> None:
    """Run what falls due at the deploy instant (interval crons' first runs), once, before the first
    call: on Convex they run as the deployment starts, before any client's call reaches it."""
    runtime.deploy_runs_pending = False
    runtime.scheduler.run_due(runtime.clock.now)


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
        self._components: Components | None = None
        if self.app.has_config:  # a folder app with components (`convex_config.py`)
            definition = app_definition(self.app.convex_dir)
            if definition is not None and definition.uses:
                self._component_tree().install(definition)
        self._runtime.deploy_runs_pending = True  # see _run_deploy_runs
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

    # --- components ---------------------------------------------------------------

    def _component_tree(self) -> Components:
        if self._components is None:
            self._components = Components(self._runtime, self._scheduler)
        return self._components

    def register_component(self, name: str, folder: Any) -> None:
        """Install the component in `folder` (its `convex_config.py`, `schema.py` and modules; or its
        `define_component(...)` value) as `name`, as `app.use(component, name=name)` would:
        `components.<name>...` then reaches it."""
        self._component_tree().add(name, folder)

    registerComponent = register_component

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

    def advance_to(self, ts: Any) -> None:
        """Move the clock to `ts` (ms or aware datetime), running what falls due on the way."""
        target = to_ms(ts, what="advance_to")
        if target < self.clock.now:
            raise ValueError(f"advance_to() cannot move time backwards (now {self.clock.now}, asked {target})")
        self._runtime.deploy_runs_pending = False  # they run first, in time order
        self._scheduler.run_due(target)
        self.clock.set(target)

    # --- the scheduler --------------------------------------------------------------

    def finish_all_scheduled_functions(self, max_iterations: int = 100) -> int:
        """Jump from due time to due time until no scheduled function is pending; return how many ran.

        Crons due on the way run too, but do not keep it going. Raises
        `RunawaySchedulingError` when jobs keep scheduling jobs past `max_iterations` generations.
        """
        self._runtime.deploy_runs_pending = False  # they run first, in time order
        return self._scheduler.finish_all(max_iterations)

    def finish_in_progress_scheduled_functions(self) -> int:
        """Let scheduled (and cron) actions that are still running finish; return how many.

        An async action that awaits (e.g. `asyncio.sleep`) takes virtual time, so it may
        still be running after `advance`; this moves the clock through its timers (running
        whatever else falls due on the way) until every one has ended.
        """
        self._runtime.deploy_runs_pending = False  # they run first, in time order
        return self._scheduler.finish_in_progress()

    def close(self) -> None:
        """Release the emulator's event loop (the pytest fixture does this after each test)."""
        self._scheduler.close()

    # --- the wall clock -----------------------------------------------------------------

    _wall_clock: WallClock | None = None

    def _hold_wall_clock(self, backend: str = DEFAULT_BACKEND) -> WallClock:
        """Start holding `time.time()`/`datetime.now()` at the virtual time; `.stop()` the result to end.

        Holds nest: inside a hold already on (e.g. the pytest fixture's), this joins it.
        """
        hold = self._wall_clock
        if hold is None or not hold.active:
            hold = self._wall_clock = WallClock(self.clock, backend)
        hold.start()
        return hold

    def __enter__(self) -> "ConvexEmulator":
        """`with ConvexEmulator(app) as t:` holds the wall clock at the virtual time inside the block."""
        self._hold_wall_clock()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        hold = self._wall_clock
        if hold is not None:
            hold.stop()

    def __del__(self) -> None:
        # The parts of an emulator refer to each other (runtime and scheduler, crons and the
        # heap), so without this they and every document would wait for a full garbage
        # collection: a pause of milliseconds per dead emulator, landing in a later test.
        try:
            self._scheduler.close()
            self._scheduler.heap.clear()
            self._runtime.runtime_crons.jobs.clear()
            self._runtime.scheduler = None
            self._runtime.live = None
            self.store.write_observer = None
            self._runtime.runtime_crons = None
            self._crons.jobs.clear()
            self.store.jobs_committed = None
        except Exception:  # a half-built emulator, or interpreter shutdown
            pass

    def scheduled_functions(self, state: str | None = None, *, component: str | None = None) -> list[dict[str, Any]]:
        """The `_scheduled_functions` documents (optionally only those in `state`), oldest first;
        with `component="name"`, that component's own (`"parent/child"` for a nested one)."""
        store = self.store if not component else self._component_tree().node(component).store
        docs = store.tables[JOBS].in_creation_order()
        return [clone_doc(doc) for doc in docs if state is None or doc["state"]["kind"] == state]

    def cron_runs(self, name: str | None = None, *, component: str | None = None) -> list[dict[str, Any]]:
        """Each run of a cron job (optionally only `name`'s): name, time, function, outcome, error;
        with `component="name"`, the runs of that component's crons (`"parent/child"` for a nested one)."""
        runs = self._crons.runs if not component else self._component_tree().node(component).crons.runs
        return [dict(run) for run in runs if name is None or run["name"] == name]

    def timeline(self) -> list[dict[str, Any]]:
        """Every execution of a scheduled function, cron or HTTP action: virtual time, function, outcome, error.

        Those that ended in the last 7 days, as finished jobs are kept, and the newest 10,000."""
        return [dict(entry) for entry in self._scheduler.executions]

    # --- fault injection --------------------------------------------------------------

    def fail_next_commits(self, n: int = 1) -> None:
        """Make the next `n` mutation commits fail with a transient error (Convex retries them)."""
        self._runtime.commits_to_fail += n

    def interrupt_next_actions(self, n: int = 1) -> None:
        """Make the next `n` scheduled actions fail with a transient system error (never retried)."""
        self._scheduler.interrupts_pending += n
