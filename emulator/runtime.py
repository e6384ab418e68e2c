"""Running one function: resolve it, check its arguments, give it a ctx, enforce limits.

Queries and mutations run synchronously: an `async def` handler is driven
without an event loop, because every ctx method it may await is already
finished. Mutations run one at a time (a lock), each in a transaction of the
store; a nested `ctx.run_mutation` is a savepoint. Actions run in an event loop
when async, and each of their `run_*` calls is its own top-level call.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import inspect
import threading
from collections.abc import Callable, Coroutine
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from convex_py._components import HANDLE_PREFIX, ComponentReference, FunctionHandle
from convex_py._env import current_env
from convex_py._functions import ConvexFunction
from convex_py._ready import Ready
from convex_py._validators import ObjectValidator
from convex_py._values import copy_value, flat_size
from convex_py.errors import (
    ArgumentValidationError,
    ComponentError,
    FunctionKindError,
    InvalidValueError,
    LimitExceededError,
    ReturnsValidationError,
    TransientError,
    UnsupportedInFunctionError,
    ValidationError,
)

from ._driver import drive, new_quiet_loop
from ._transaction import Transaction, check_deadline, deadline_after
from .app import App
from .context import ActionCtx, MutationCtx, QueryCtx
from .limits import Limits
from .meta import RequestInfo
from .nested_limits import budgets, capped
from .store import Store

if TYPE_CHECKING:
    from .clock import Clock


INLINE_PATH = "<inline>"  # inline test helpers (t.run(lambda ctx: ...)): results are not serialized


def _validated(validator: Any, value: Any, path: str, error: type[ValidationError]) -> Any:
    """`value` through a function's args or returns validator; a mismatch names the function."""
    try:
        return validator.validate(value)
    except ValidationError as exc:
        raise error(
            f"{error.__name__}: {exc}\nFunction: {path}", path=exc.path, value=exc.value, expected=exc.expected
        ) from None


def _checked_dict(value: dict[str, Any], validator: Any, limit: int) -> dict[str, Any] | None:
    """One pass for the common dict (arguments or a return value) under no validator or a v.object:
    validated, copied and sized; None when it needs the full check (nested, too large, a mismatch
    or another kind of validator: the full check says what is wrong)."""
    if validator is None:
        size = flat_size(value)  # a flat dict's copy is shallow
        return dict(value) if 0 <= size <= limit else None
    if type(validator) is ObjectValidator:
        sized = validator.sized(value)
        if sized is not None and sized[1] <= limit:
            return sized[0]
    return None


def _awaited_a_value(exc: TypeError) -> bool:
    return "can't be used in 'await' expression" in str(exc)


def _sync_ctx_awaited(path: str, kind: str) -> UnsupportedInFunctionError:
    """The error for a plain function (a lambda) whose coroutine awaited ctx calls."""
    if path == INLINE_PATH:
        return UnsupportedInFunctionError(
            f"The inline {kind} is a plain function (a lambda?) that returned a coroutine awaiting ctx calls; "
            "a plain function gets a ctx whose methods return values, not awaitables. Use `async def`: "
            f"`async def f(ctx): return await helper(ctx)`, then pass f."
        )
    return UnsupportedInFunctionError(
        f"The {kind} `{path}` is a plain `def` that returned a coroutine awaiting ctx calls; a plain `def` "
        "gets a ctx whose methods return values, not awaitables. Declare the handler with `async def`."
    )


_loops = threading.local()


def run_coroutine(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run an action's coroutine to completion from synchronous code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = getattr(_loops, "loop", None)
        if loop is None or loop.is_closed():
            loop = _loops.loop = new_quiet_loop()
        return loop.run_until_complete(coro)
    # Called from inside a running loop (e.g. an async test): use a helper thread, in a copy of
    # this context (the component running, the deployment's variables, log routing).
    result: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target() -> None:
        try:
            result["value"] = context.run(asyncio.run, coro)
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target, name="convex-py-action")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def make_identity(identity: dict[str, Any] | None) -> dict[str, Any] | None:
    """Fill in `subject`, `issuer` and `tokenIdentifier` as Convex (and its test tools) do."""
    if identity is None:
        return None
    if not isinstance(identity, dict):
        raise TypeError(f"An identity is a dict of claims (subject, issuer, name, email, ...), got {identity!r}")
    filled = dict(identity)
    if "subject" not in filled:
        import hashlib
        import json

        filled["subject"] = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]
    filled.setdefault("issuer", "https://convex.test")
    filled.setdefault("tokenIdentifier", f"{filled['issuer']}|{filled['subject']}")
    return filled


def _foreign(ref: Any) -> bool:
    """True for a reference into another component: `components.x...` or a function handle."""
    cls = ref.__class__
    return cls is ComponentReference or cls is FunctionHandle or (cls is str and ref.startswith(HANDLE_PREFIX))


class Runtime:
    """Runs functions of one app against one store and clock."""

    # Components (emulator.components): the component this runtime runs (its node in the tree of
    # installed components), None for an app without any; its path, "" for the app itself.
    component: Any = None
    component_path = ""

    def __init__(self, app: App, store: Store, clock: "Clock", limits: Limits) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.limits = limits
        self.lock = threading.RLock()
        self.scheduler: Any = None  # set by the emulator: makes ctx.scheduler objects
        self.deploy_runs_pending = False  # the emulator's: what is due at deploy has not run yet
        self.runtime_crons: Any = None  # set by the emulator: serves convex_py.crons.Crons
        self.storage: Any = None  # set by the emulator: the FileStorage behind ctx.storage
        self.live: Any = None  # emulator.live.LiveQueries, made by the first subscription
        self.commits_to_fail = 0  # fault injection: fail this many commits with a transient error
        self.retries = 0  # mutations run again after a transient failure
        # Called before a top-level mutation commits in memory (the dev server's --db writes it
        # to disk there); if it raises, the mutation rolls back as if it had failed.
        self.commit_hook: Callable[[], None] | None = None
        self.env: dict[str, str] = {}  # the deployment's environment variables (convex_py.env)
        self._requests = 0

    def new_request(self, scheduled_function_id: Any = None) -> RequestInfo:
        """Request metadata for a new top-level call (`ctx.meta.get_request_metadata`)."""
        self._requests += 1
        return RequestInfo(f"{self._requests:016x}", scheduled_function_id)

    # --- helpers -------------------------------------------------------------

    def resolve(self, kind: str, ref: Any) -> tuple[str, ConvexFunction]:
        try:
            path, fn = self.app._resolved[ref]  # App.resolve's cache, read here: once per call
        except (KeyError, TypeError):
            path, fn = self.app.resolve(ref)
        if fn.kind != kind:
            raise FunctionKindError.called_as(path, fn.kind, kind)
        return path, fn

    def check_args(self, path: str, fn: ConvexFunction, args: Any) -> dict[str, Any]:
        if type(args) is dict:
            checked = _checked_dict(args, fn.args_validator, self.limits.max_args_bytes)
            if checked is not None:
                return checked
        if args is None:
            args = {}
        elif type(args) is not dict:
            raise ArgumentValidationError(
                f"ArgumentValidationError: arguments of `{path}` must be an object (a dict), got {type(args).__name__}: {args!r}",
                value=args, expected="object",
            )
        try:
            copied, size = copy_value(args)
        except InvalidValueError as exc:
            raise ArgumentValidationError(f"ArgumentValidationError: arguments of `{path}`: {exc}", value=args) from None
        if size > self.limits.max_args_bytes:
            raise LimitExceededError(
                f"Arguments for `{path}` are too large ({size} bytes, limit: {self.limits.max_args_bytes} bytes)"
            )
        validator = fn.args_validator
        if validator is None:
            return copied
        return _validated(validator, copied, path, ArgumentValidationError)

    def check_result(self, path: str, fn: ConvexFunction, result: Any) -> Any:
        if result.__class__ is Ready:  # `return ctx.db.insert(...)` unawaited: JavaScript returns the promise's value
            result = result.value
        if path == INLINE_PATH:
            return result
        if result.__class__ is dict:
            checked = _checked_dict(result, fn.returns_validator, self.limits.max_return_bytes)
            if checked is not None:
                return checked
        try:
            copied, size = copy_value(result)
        except InvalidValueError as exc:
            if inspect.iscoroutine(result):
                result.close()
                raise ReturnsValidationError(
                    f"ReturnsValidationError: `{path}` returned a coroutine: `await` it (return await ...)",
                    value=result) from None
            raise ReturnsValidationError(f"ReturnsValidationError: the return value of `{path}`: {exc}", value=result) from None
        if size > self.limits.max_return_bytes:
            raise LimitExceededError(
                f"Return value of `{path}` is too large ({size} bytes, limit: {self.limits.max_return_bytes} bytes)"
            )
        validator = fn.returns_validator
        if validator is None:
            return copied
        return _validated(validator, copied, path, ReturnsValidationError)

    # --- queries and mutations ----------------------------------------------------

    def _run_in(self, ctx_class: Any, path: str, fn: ConvexFunction, args: Any, identity: Any,
                tx: Transaction) -> Any:
        """A query or mutation inside `tx`: checked args, its ctx, the time limit, checked result."""
        checked = self.check_args(path, fn, args)
        tx.function = (path, fn)
        result = fn.handler(ctx_class(self, tx, identity, fn.is_async), checked)
        if fn.is_async or type(result) is CoroutineType:
            try:
                result = drive(result, f"The {fn.kind} `{path}`")
            except TypeError as exc:
                if fn.is_async or not _awaited_a_value(exc):
                    raise
                raise _sync_ctx_awaited(path, fn.kind) from None
        if tx.deadline is not None:
            check_deadline(tx.deadline, self.limits.query_mutation_timeout)
        if result is None and fn.returns_validator is None:
            return None
        return self.check_result(path, fn, result)

    def _query_in(self, path: str, fn: ConvexFunction, args: Any, identity: Any, tx: Transaction) -> Any:
        return self._run_in(QueryCtx, path, fn, args, identity, tx)

    def run_query(self, path: str, fn: ConvexFunction, args: Any, identity: Any,
                  transaction_limits: dict[str, int] | None = None, request: RequestInfo | None = None,
                  reads: Any = None) -> Any:
        """A query in its own read-only transaction; `reads` (a live query's ReadSet) records what it read."""
        env = self.env  # convex_py.env reads this deployment's variables while it runs
        env_token = current_env.set(env) if current_env.get() is not env else None
        with self.lock:
            tx = Transaction(self, False)
            if transaction_limits:
                tx.limits = capped(tx, transaction_limits)
            tx.request = request
            tx.reads = reads
            try:
                return self._query_in(path, fn, args, identity, tx)
            finally:
                tx.open = False
                if env_token is not None:
                    current_env.reset(env_token)

    def nested_call(self, kind: str, ref: Any, args: Any, identity: Any, tx: Transaction,
                    transaction_limits: Any = None) -> Any:
        """`ctx.run_query`/`ctx.run_mutation` in a query or mutation: a function execution of its own
        (its own `.paginate()`, its own ctx.meta) in the caller's transaction, within its limits."""
        saved = tx.paginated, tx.limits, tx.function
        if transaction_limits is not None:
            tx.limits = capped(tx, budgets(f"ctx.run_{kind}", transaction_limits))
        tx.paginated = False
        try:
            if kind == "query":
                return self.nested_query(ref, args, identity, tx)
            return self.nested_mutation(ref, args, identity, tx)
        finally:
            tx.paginated, tx.limits, tx.function = saved

    def _components(self) -> Any:
        node = self.component
        if node is None:
            raise ComponentError(
                "This app has no components: install one with app.use(...) in convex/convex_config.py, "
                "or t.register_component(name, folder) in a test."
            )
        return node

    def nested_query(self, ref: Any, args: Any, identity: Any, tx: Transaction) -> Any:
        if _foreign(ref):
            return self._components().nested("query", ref, args, identity, tx)
        path, fn = self.resolve("query", ref)
        return self._query_in(path, fn, args, identity, tx)

    def _mutation_in(self, path: str, fn: ConvexFunction, args: Any, identity: Any, tx: Transaction) -> Any:
        return self._run_in(MutationCtx, path, fn, args, identity, tx)

    def run_mutation(
        self,
        path: str,
        fn: ConvexFunction,
        args: Any,
        identity: Any,
        before_commit: Callable[[Transaction], None] | None = None,
        transaction_limits: dict[str, int] | None = None,
        request: RequestInfo | None = None,
    ) -> Any:
        """Run a mutation as its own transaction: all of it commits, or none of it.

        The cyclic garbage collector waits meanwhile (as during a drain of the scheduler): a
        mutation's own objects die with it, and a collection in the middle of one would re-walk
        the store's long-lived documents for nothing.
        """
        store = self.store
        env = self.env  # convex_py.env reads this deployment's variables while it runs
        env_token = current_env.set(env) if current_env.get() is not env else None
        try:
            with self.lock:
                # Paused by the thread holding the lock only: one waiting for it keeps no one's off.
                collecting = gc.isenabled()
                if collecting:
                    gc.disable()
                try:
                    return self._commit_loop(store, path, fn, args, identity, before_commit, transaction_limits,
                                             request)
                finally:
                    if collecting:
                        gc.enable()
        finally:
            if env_token is not None:
                current_env.reset(env_token)

    def _commit_loop(self, store: Store, path: str, fn: ConvexFunction, args: Any, identity: Any,
                     before_commit: Callable[[Transaction], None] | None,
                     transaction_limits: dict[str, int] | None, request: RequestInfo | None) -> Any:
        """run_mutation's transaction, under the lock: run it, and again after a transient failure."""
        while True:
            store.begin()
            tx = Transaction(self, True)
            tx.request = request
            try:
                if transaction_limits:
                    tx.limits = capped(tx, transaction_limits)
                result = self._run_in(MutationCtx, path, fn, args, identity, tx)
                if before_commit is not None:
                    if store.pending_rows:
                        store.write_pending_rows()  # the job rows it scheduled, in one batch
                    before_commit(tx)
                if self.commits_to_fail > 0:
                    self.commits_to_fail -= 1
                    raise TransientError(
                        f"Transient error while committing `{path}` (injected by fail_next_commits)"
                    )
                if self.commit_hook is not None:
                    if store.pending_rows:
                        store.write_pending_rows()
                    self.commit_hook()
            except TransientError:
                # A system failure, as an OCC conflict in Convex: roll back and run again.
                tx.open = False
                store.rollback()
                self.retries += 1
                continue
            except BaseException:
                tx.open = False
                store.rollback()
                raise
            tx.open = False
            store.commit()
            return result

    def nested_mutation(self, ref: Any, args: Any, identity: Any, tx: Transaction) -> Any:
        if _foreign(ref):
            return self._components().nested("mutation", ref, args, identity, tx)
        path, fn = self.resolve("mutation", ref)
        store = self.store
        point = store.savepoint()
        written = tx.docs_written, tx.bytes_written
        try:
            return self._mutation_in(path, fn, args, identity, tx)
        except BaseException:
            # Rolled-back writes no longer count toward the write limits (Convex's subtransactions
            # roll back their writes); what was read or scheduled still counts, as in Convex.
            store.rollback_to(point)
            tx.docs_written, tx.bytes_written = written
            raise

    # --- actions -----------------------------------------------------------------

    def run_action(self, path: str, fn: ConvexFunction, args: Any, identity: Any, job_id: Any = None,
                   transaction_limits: dict[str, int] | None = None, request: RequestInfo | None = None) -> Any:
        env = self.env  # convex_py.env reads this deployment's variables while it runs
        env_token = current_env.set(env) if current_env.get() is not env else None
        try:
            checked = self.check_args(path, fn, args)
            ctx = ActionCtx(self, identity, fn.is_async, job_id)
            ctx._setup(path, fn, transaction_limits, request)
            deadline = deadline_after(self.limits.action_timeout)
            if fn.is_async:
                result = run_coroutine(fn.handler(ctx, checked))
            else:
                result = fn.handler(ctx, checked)
                if inspect.iscoroutine(result):
                    try:
                        result = run_coroutine(result)
                    except TypeError as exc:
                        if not _awaited_a_value(exc):
                            raise
                        raise _sync_ctx_awaited(path, fn.kind) from None
            check_deadline(deadline, self.limits.action_timeout)
            return self.check_result(path, fn, result)
        finally:
            if env_token is not None:
                current_env.reset(env_token)

    async def _action_async(self, path: str, fn: ConvexFunction, args: Any, identity: Any, job_id: Any = None,
                            transaction_limits: dict[str, int] | None = None,
                            request: RequestInfo | None = None) -> Any:
        current_env.set(self.env)  # this coroutine's task has a context of its own
        checked = self.check_args(path, fn, args)
        ctx = ActionCtx(self, identity, fn.is_async, job_id)
        ctx._setup(path, fn, transaction_limits, request)
        deadline = deadline_after(self.limits.action_timeout)
        result = fn.handler(ctx, checked)
        if inspect.isawaitable(result):
            result = await result
        check_deadline(deadline, self.limits.action_timeout)
        return self.check_result(path, fn, result)

    def action_coroutine_for(self, path: str, fn: ConvexFunction, args: Any, identity: Any,
                             job_id: Any = None) -> Coroutine[Any, Any, Any]:
        """An action as a coroutine, for the scheduler's virtual-time loop."""
        return self._action_async(path, fn, args, identity, job_id)

    def action_coroutine(self, ref: Any, args: Any, identity: Any, transaction_limits: dict[str, int] | None = None,
                         request: RequestInfo | None = None) -> Coroutine[Any, Any, Any]:
        if _foreign(ref):
            return self._components().action_coroutine(ref, args, identity, transaction_limits)
        path, fn = self.resolve("action", ref)
        return self._action_async(path, fn, args, identity, None, transaction_limits, request)

    # --- entry point -----------------------------------------------------------------

    def call(self, kind: str, ref: Any, args: Any, identity: Any, transaction_limits: dict[str, int] | None = None,
             request: RequestInfo | None = None) -> Any:
        """A top-level call of a function by reference, as a client (or an action) makes it."""
        if _foreign(ref):
            return self._components().call(kind, ref, args, identity, transaction_limits)
        return self.call_own(kind, ref, args, identity, transaction_limits, request)

    def call_own(self, kind: str, ref: Any, args: Any, identity: Any,
                 transaction_limits: dict[str, int] | None = None, request: RequestInfo | None = None) -> Any:
        """`call` of a function of this app or component itself (not a reference into another one)."""
        path, fn = self.resolve(kind, ref)
        if kind == "query":
            return self.run_query(path, fn, args, identity, transaction_limits, request)
        if kind == "mutation":
            return self.run_mutation(path, fn, args, identity, None, transaction_limits, request)
        return self.run_action(path, fn, args, identity, None, transaction_limits, request)

    def scheduler_for(self, tx: Transaction | None, job_id: Any, is_async: bool) -> Any:
        if self.scheduler is None:
            raise AttributeError("ctx.scheduler is not available: this runtime has no scheduler.")
        return self.scheduler.facade(tx, job_id, is_async)
