"""Running one function: resolve it, check its arguments, give it a ctx, enforce limits.

Queries and mutations run synchronously: an `async def` handler is driven
without an event loop, because every ctx method it may await is already
finished. Mutations run one at a time (a lock), each in a transaction of the
store; a nested `ctx.run_mutation` is a savepoint. Actions run in an event loop
when async, and each of their `run_*` calls is its own top-level call.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from types import CoroutineType
from typing import TYPE_CHECKING, Any, Callable, Coroutine

from convex_py._functions import ConvexFunction
from convex_py._values import copy_value
from convex_py.errors import (
    ArgumentValidationError,
    FunctionKindError,
    InvalidValueError,
    LimitExceededError,
    ReturnsValidationError,
    TransientError,
    UnsupportedInFunctionError,
    ValidationError,
)

from ._driver import drive
from ._transaction import Transaction, check_deadline, deadline_after
from .app import App
from .context import ActionCtx, MutationCtx, QueryCtx
from .limits import Limits
from .store import Store

if TYPE_CHECKING:
    from .clock import Clock


INLINE_PATH = "<inline>"  # inline test helpers (t.run(lambda ctx: ...)): results are not serialized


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
            loop = asyncio.new_event_loop()
            _loops.loop = loop
        return loop.run_until_complete(coro)
    # Called from inside a running loop (e.g. an async test): use a helper thread.
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
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


class Runtime:
    """Runs functions of one app against one store and clock."""

    def __init__(self, app: App, store: Store, clock: "Clock", limits: Limits) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.limits = limits
        self.lock = threading.RLock()
        self.scheduler: Any = None  # set by the emulator: makes ctx.scheduler objects
        self.runtime_crons: Any = None  # set by the emulator: serves convex_py.crons.Crons
        self.commits_to_fail = 0  # fault injection: fail this many commits with a transient error
        self.retries = 0  # mutations run again after a transient failure

    # --- helpers -------------------------------------------------------------

    def resolve(self, kind: str, ref: Any) -> tuple[str, ConvexFunction]:
        path, fn = self.app.resolve(ref)
        if fn.kind != kind:
            raise FunctionKindError(
                f"`{path}` is a {fn.kind}, not a {kind}: call it as a {fn.kind}"
                f" (e.g. run_{fn.kind} / t.{fn.kind})."
            )
        return path, fn

    def check_args(self, path: str, fn: ConvexFunction, args: Any) -> dict[str, Any]:
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
        try:
            return validator.validate(copied)
        except ValidationError as exc:
            raise ArgumentValidationError(
                f"ArgumentValidationError: {exc}\nFunction: {path}", path=exc.path, value=exc.value, expected=exc.expected
            ) from None

    def check_result(self, path: str, fn: ConvexFunction, result: Any) -> Any:
        if path == INLINE_PATH:
            return result
        try:
            copied, size = copy_value(result)
        except InvalidValueError as exc:
            raise ReturnsValidationError(f"ReturnsValidationError: the return value of `{path}`: {exc}", value=result) from None
        if size > self.limits.max_return_bytes:
            raise LimitExceededError(
                f"Return value of `{path}` is too large ({size} bytes, limit: {self.limits.max_return_bytes} bytes)"
            )
        validator = fn.returns_validator
        if validator is None:
            return copied
        try:
            return validator.validate(copied)
        except ValidationError as exc:
            raise ReturnsValidationError(
                f"ReturnsValidationError: {exc}\nFunction: {path}", path=exc.path, value=exc.value, expected=exc.expected
            ) from None

    # --- queries and mutations ----------------------------------------------------

    def _run_in(self, ctx_class: Any, path: str, fn: ConvexFunction, args: Any, identity: Any,
                tx: Transaction) -> Any:
        """A query or mutation inside `tx`: checked args, its ctx, the time limit, checked result."""
        checked = self.check_args(path, fn, args)
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

    def run_query(self, path: str, fn: ConvexFunction, args: Any, identity: Any) -> Any:
        with self.lock:
            tx = Transaction(self, False)
            try:
                return self._query_in(path, fn, args, identity, tx)
            finally:
                tx.open = False

    def nested_query(self, ref: Any, args: Any, identity: Any, tx: Transaction) -> Any:
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
    ) -> Any:
        """Run a mutation as its own transaction: all of it commits, or none of it."""
        store = self.store
        with self.lock:
            while True:
                store.begin()
                tx = Transaction(self, True)
                try:
                    result = self._run_in(MutationCtx, path, fn, args, identity, tx)
                    if before_commit is not None:
                        before_commit(tx)
                    if self.commits_to_fail > 0:
                        self.commits_to_fail -= 1
                        raise TransientError(
                            f"Transient error while committing `{path}` (injected by fail_next_commits)"
                        )
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

    def run_action(self, path: str, fn: ConvexFunction, args: Any, identity: Any, job_id: Any = None) -> Any:
        checked = self.check_args(path, fn, args)
        ctx = ActionCtx(self, identity, fn.is_async, job_id)
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

    async def _action_async(self, path: str, fn: ConvexFunction, args: Any, identity: Any, job_id: Any = None) -> Any:
        checked = self.check_args(path, fn, args)
        ctx = ActionCtx(self, identity, fn.is_async, job_id)
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

    def action_coroutine(self, ref: Any, args: Any, identity: Any) -> Coroutine[Any, Any, Any]:
        path, fn = self.resolve("action", ref)
        return self._action_async(path, fn, args, identity)

    # --- entry point -----------------------------------------------------------------

    def call(self, kind: str, ref: Any, args: Any, identity: Any) -> Any:
        """A top-level call of a function by reference, as a client (or an action) makes it."""
        path, fn = self.resolve(kind, ref)
        if kind == "query":
            return self.run_query(path, fn, args, identity)
        if kind == "mutation":
            return self.run_mutation(path, fn, args, identity)
        return self.run_action(path, fn, args, identity)

    def scheduler_for(self, tx: Transaction | None, job_id: Any, is_async: bool) -> Any:
        if self.scheduler is None:
            raise AttributeError("ctx.scheduler is not available: this runtime has no scheduler.")
        return self.scheduler.facade(tx, job_id, is_async)
