"""A work pool component, as `@convex-dev/workpool`: run actions and mutations with at most
`maxParallelism` at a time, retry failed actions with exponential backoff (unless they raise
`NonRetryableError`), and call an `onComplete` mutation with the result (`success`, `failed` or
`canceled`). `enqueue_*_batch` queue many items in one call; `status_batch` reads many statuses.

    # convex/convex_config.py
    from convex_py import define_app
    from convex_py.components.workpool import workpool
    app = define_app(); app.use(workpool, name="email_pool")

    # convex/emails.py
    from convex_py import components, internal
    from convex_py.components.workpool import Workpool
    pool = Workpool(components.email_pool, max_parallelism=3, retry_actions_by_default=True)
    ... pool.enqueue_action(ctx, internal.emails.send, {"to": ...}, on_complete=internal.emails.sent)
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from convex_py import create_function_handle, get_function_name, internal_mutation, v
from convex_py._components import ComponentReference, is_handle

from .component.convex_config import workpool
from .component.errors import NonRetryableError, is_non_retryable_error, isNonRetryableError

# Attempts run after waits of [0, 250, 500, 1000, 2000] ms.
DEFAULT_RETRY_BEHAVIOR = {"maxAttempts": 5, "initialBackoffMs": 250, "base": 2}

_OPTION_NAMES = {"maxParallelism": "max_parallelism", "retryActionsByDefault": "retry_actions_by_default",
                 "defaultRetryBehavior": "default_retry_behavior", "logLevel": "log_level"}
_ENQUEUE_NAMES = {"onComplete": "on_complete", "runAt": "run_at", "runAfter": "run_after", "name": "name",
                  "retry": "retry", "context": "context"}

result_validator = v.union(
    v.object({"kind": v.literal("success"), "returnValue": v.any()}),
    v.object({"kind": v.literal("failed"), "error": v.string()}),
    v.object({"kind": v.literal("canceled")}),
)


def on_complete_args(context: Any = None) -> dict[str, Any]:
    """The `args` of an `onComplete` mutation: `{"workId", "context", "result"}` (Convex's `vOnCompleteArgs`)."""
    return {"workId": v.string(), "context": v.any() if context is None else context, "result": result_validator}


vOnCompleteArgs = on_complete_args

work_id_validator = v.string()
"""A work id in `args`, `returns` or a schema (the workpool's `vWorkId`)."""
vWorkId = work_id_validator


def _snake(options: dict[str, Any] | None, names: dict[str, str], what: str) -> dict[str, Any]:
    out = {}
    for key, value in (options or {}).items():
        name = names.get(key, key)
        if name not in names.values() and name not in ("retry", "context", "name"):
            raise TypeError(f"{what}: unknown option {key!r} (known: {', '.join(names)})")
        out[name] = value
    return out


def _handle(ref: Any) -> str:
    return ref if is_handle(ref) else create_function_handle(ref)


def _name(ref: Any) -> str:
    if is_handle(ref) or isinstance(ref, ComponentReference):
        return str(ref if is_handle(ref) else ref._path)
    if hasattr(ref, "kind") and hasattr(ref, "handler"):
        return getattr(ref, "__name__", "function")
    return get_function_name(ref)


class Workpool:
    """The client of one installed work pool (`components.<name>`), with its options."""

    def __init__(self, component: Any, options: dict[str, Any] | None = None, *, max_parallelism: int | None = None,
                 retry_actions_by_default: bool = False, default_retry_behavior: dict[str, Any] | None = None,
                 log_level: str | None = None) -> None:
        given = _snake(options, _OPTION_NAMES, "Workpool")
        self.component = component
        self.max_parallelism = given.get("max_parallelism", max_parallelism)
        self.retry_actions_by_default = given.get("retry_actions_by_default", retry_actions_by_default)
        self.default_retry_behavior = given.get("default_retry_behavior", default_retry_behavior) or DEFAULT_RETRY_BEHAVIOR
        if self.max_parallelism is not None and (not isinstance(self.max_parallelism, int) or self.max_parallelism < 0):
            raise ValueError(f"maxParallelism must be a whole number >= 0, got {self.max_parallelism!r}")

    def _config(self) -> dict[str, Any]:
        return {} if self.max_parallelism is None else {"maxParallelism": self.max_parallelism}

    def _item(self, kind: str, ref: Any, options: dict[str, Any] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        """What every item enqueued by one call shares: handle, name, run time, retries, onComplete."""
        given = {**{k: v for k, v in kwargs.items() if v is not None}, **_snake(options, _ENQUEUE_NAMES, "enqueue")}
        run_at = given.get("run_at")
        if isinstance(run_at, datetime):
            run_at = run_at.timestamp() * 1000
        if run_at is None:
            run_at = time.time() * 1000 + given.get("run_after", 0)
        args: dict[str, Any] = {"fnHandle": _handle(ref), "fnName": given.get("name") or _name(ref),
                                "fnType": kind, "runAt": run_at}
        retry = given.get("retry")
        if kind == "action":
            if retry is True or (retry is None and self.retry_actions_by_default):
                args["retryBehavior"] = self.default_retry_behavior
            elif isinstance(retry, dict):
                args["retryBehavior"] = retry
        if given.get("on_complete") is not None:
            on_complete: dict[str, Any] = {"fnHandle": _handle(given["on_complete"])}
            if "context" in given:
                on_complete["context"] = given["context"]
            args["onComplete"] = on_complete
        return args

    def _enqueue(self, ctx: Any, kind: str, ref: Any, fn_args: Any, options: dict[str, Any] | None,
                 kwargs: dict[str, Any]) -> Any:
        args = {**self._item(kind, ref, options, kwargs), "fnArgs": fn_args or {}, "config": self._config()}
        return ctx.run_mutation(self.component.lib.enqueue, args)

    def _enqueue_batch(self, ctx: Any, kind: str, ref: Any, args_list: Any, options: dict[str, Any] | None,
                       kwargs: dict[str, Any]) -> Any:
        if not isinstance(args_list, (list, tuple)):
            raise TypeError(f"enqueue_{kind}_batch takes a list of argument objects, got {args_list!r}")
        shared = self._item(kind, ref, options, kwargs)
        items = [{**shared, "fnArgs": fn_args or {}} for fn_args in args_list]
        return ctx.run_mutation(self.component.lib.enqueue_batch, {"items": items, "config": self._config()})

    def enqueue_action(self, ctx: Any, ref: Any, fn_args: Any = None, options: dict[str, Any] | None = None, *,
                       retry: Any = None, on_complete: Any = None, context: Any = None, run_at: Any = None,
                       run_after: float | None = None) -> Any:
        """Queue an action; returns its work id. `retry`: True, False or `{maxAttempts, initialBackoffMs,
        base}`; `on_complete`: a mutation called with `{workId, context, result}`."""
        kwargs = {"retry": retry, "on_complete": on_complete, "run_at": run_at, "run_after": run_after}
        if context is not None:
            kwargs["context"] = context
        return self._enqueue(ctx, "action", ref, fn_args, options, kwargs)

    def enqueue_mutation(self, ctx: Any, ref: Any, fn_args: Any = None, options: dict[str, Any] | None = None, *,
                         on_complete: Any = None, context: Any = None, run_at: Any = None,
                         run_after: float | None = None) -> Any:
        """Queue a mutation (not retried: Convex runs mutations exactly once); returns its work id."""
        kwargs = {"on_complete": on_complete, "run_at": run_at, "run_after": run_after}
        if context is not None:
            kwargs["context"] = context
        return self._enqueue(ctx, "mutation", ref, fn_args, options, kwargs)

    def enqueue_query(self, ctx: Any, ref: Any, fn_args: Any = None, options: dict[str, Any] | None = None, *,
                      on_complete: Any = None, context: Any = None, run_at: Any = None,
                      run_after: float | None = None) -> Any:
        """Queue a query (its result goes to `on_complete`); returns its work id."""
        kwargs = {"on_complete": on_complete, "run_at": run_at, "run_after": run_after}
        if context is not None:
            kwargs["context"] = context
        return self._enqueue(ctx, "query", ref, fn_args, options, kwargs)

    def enqueue_action_batch(self, ctx: Any, ref: Any, args_list: Any, options: dict[str, Any] | None = None, *,
                             retry: Any = None, on_complete: Any = None, context: Any = None, run_at: Any = None,
                             run_after: float | None = None) -> Any:
        """Queue one action per argument object, in one transaction; returns their work ids, in order.
        Each runs, retries and calls `on_complete` (with the shared `context`) on its own."""
        kwargs = {"retry": retry, "on_complete": on_complete, "run_at": run_at, "run_after": run_after}
        if context is not None:
            kwargs["context"] = context
        return self._enqueue_batch(ctx, "action", ref, args_list, options, kwargs)

    def enqueue_mutation_batch(self, ctx: Any, ref: Any, args_list: Any, options: dict[str, Any] | None = None, *,
                               on_complete: Any = None, context: Any = None, run_at: Any = None,
                               run_after: float | None = None) -> Any:
        """Queue one mutation per argument object, in one transaction; returns their work ids, in order."""
        kwargs = {"on_complete": on_complete, "run_at": run_at, "run_after": run_after}
        if context is not None:
            kwargs["context"] = context
        return self._enqueue_batch(ctx, "mutation", ref, args_list, options, kwargs)

    def enqueue_query_batch(self, ctx: Any, ref: Any, args_list: Any, options: dict[str, Any] | None = None, *,
                            on_complete: Any = None, context: Any = None, run_at: Any = None,
                            run_after: float | None = None) -> Any:
        """Queue one query per argument object, in one transaction; returns their work ids, in order."""
        kwargs = {"on_complete": on_complete, "run_at": run_at, "run_after": run_after}
        if context is not None:
            kwargs["context"] = context
        return self._enqueue_batch(ctx, "query", ref, args_list, options, kwargs)

    def cancel(self, ctx: Any, work_id: str) -> Any:
        """Cancel work: pending work ends `canceled` at once; running work ends, without retries."""
        return ctx.run_mutation(self.component.lib.cancel, {"id": work_id, "config": self._config()})

    def cancel_all(self, ctx: Any) -> Any:
        """Cancel every unfinished item of the pool."""
        return ctx.run_mutation(self.component.lib.cancel_all, {"config": self._config()})

    def status(self, ctx: Any, work_id: str) -> Any:
        """`{"state": "pending"|"running", "previousAttempts": n}` or `{"state": "finished"}`."""
        return ctx.run_query(self.component.lib.status, {"id": work_id})

    def status_batch(self, ctx: Any, work_ids: list[str]) -> Any:
        """The status of each work id, in order (see `status`)."""
        return ctx.run_query(self.component.lib.status_batch, {"ids": list(work_ids)})

    def define_on_complete(self, options: dict[str, Any] | None = None, *, context: Any = None,
                           handler: Any = None) -> Any:
        """An `onComplete` mutation taking `{workId, context, result}` (the workpool's `defineOnComplete`):
        `define_on_complete({"context": v.number(), "handler": fn})`, or a decorator with `context=`."""
        given = dict(options or {})
        unknown = set(given) - {"context", "handler"}
        if unknown:
            raise TypeError(f"define_on_complete: unknown options {sorted(unknown)} (known: context, handler)")
        context = given.get("context", context)
        handler = given.get("handler", handler)

        def define(fn: Any) -> Any:
            return internal_mutation(args=on_complete_args(context))(fn)

        return define if handler is None else define(handler)

    enqueueAction = enqueue_action
    defineOnComplete = define_on_complete
    enqueueMutation = enqueue_mutation
    enqueueQuery = enqueue_query
    enqueueActionBatch = enqueue_action_batch
    enqueueMutationBatch = enqueue_mutation_batch
    enqueueQueryBatch = enqueue_query_batch
    cancelAll = cancel_all
    statusBatch = status_batch


__all__ = ["DEFAULT_RETRY_BEHAVIOR", "NonRetryableError", "Workpool", "isNonRetryableError", "is_non_retryable_error",
           "on_complete_args", "result_validator", "vOnCompleteArgs", "vWorkId", "work_id_validator", "workpool"]
