"""Running one work item: the function behind its handle, then `complete` with the result."""

from __future__ import annotations

from typing import Any

from convex_py import internal, internal_action, internal_mutation, internal_query, v

from .errors import non_retryable_message
from .lib import complete


def _failure(exc: BaseException) -> dict[str, Any]:
    """The failed result of an attempt: the message, as Convex's workpool reports `e.message`
    (a NonRetryableError's own message), and whether it must not be retried."""
    message = non_retryable_message(exc)
    if message is None:
        return {"kind": "failed", "error": str(exc)}
    return {"kind": "failed", "error": message, "nonRetryable": True}


def _completion(work_id: str, result: dict[str, Any]) -> dict[str, Any]:
    args = {"workId": work_id, "result": {k: v for k, v in result.items() if k != "nonRetryable"}}
    if result.get("nonRetryable"):
        args["nonRetryable"] = True
    return args


@internal_action(args={"workId": v.string()})
async def run_action(ctx, args):
    work = await ctx.run_query(internal.worker.item, {"workId": args["workId"]})
    if work is None:
        return
    try:
        value = await ctx.run_action(work["fnHandle"], work["fnArgs"])
        result: dict[str, Any] = {"kind": "success", "returnValue": value}
    except Exception as exc:  # noqa: BLE001 (any failure is the work's result)
        result = _failure(exc)
    await ctx.run_mutation(internal.lib.complete, _completion(args["workId"], result))


@internal_mutation(args={"workId": v.string()})
def run_mutation(ctx, args):
    work = ctx.db.get(ctx.db.normalize_id("work", args["workId"]))
    if work is None:
        return
    run = ctx.run_query if work["fnType"] == "query" else ctx.run_mutation
    try:
        result: dict[str, Any] = {"kind": "success", "returnValue": run(work["fnHandle"], work["fnArgs"])}
    except Exception as exc:  # noqa: BLE001 (its writes roll back; the failure is the result)
        result = _failure(exc)
    complete.handler(ctx, _completion(args["workId"], result))


@internal_query(args={"workId": v.string()})
def item(ctx, args):
    work_id = ctx.db.normalize_id("work", args["workId"])
    return None if work_id is None else ctx.db.get(work_id)
