"""The work pool's loop: enqueue, start what fits under `maxParallelism`, complete (retry with
backoff, or call `onComplete`), cancel, status.

Retries wait `initialBackoffMs * base ** (attempts - 1)` after a failed attempt, exactly
*(ours: Convex's workpool multiplies by a random jitter in [0.5, 1.5) and rounds to 100 ms
segments; the emulator's waits are exact, so tests can assert the times)*. A failure marked
non-retryable (`NonRetryableError`) ends the work at once, as in Convex's.
"""

from __future__ import annotations

import time
from typing import Any

from convex_py import internal, internal_mutation, mutation, query, v

DEFAULT_MAX_PARALLELISM = 10

retry_behavior = v.object({"maxAttempts": v.number(), "initialBackoffMs": v.number(), "base": v.number()})
result_validator = v.union(
    v.object({"kind": v.literal("success"), "returnValue": v.any()}),
    v.object({"kind": v.literal("failed"), "error": v.string()}),
    v.object({"kind": v.literal("canceled")}),
)
config_args = v.object({"maxParallelism": v.optional(v.number())})


def _now() -> float:
    return time.time() * 1000


def _max_parallelism(ctx: Any, config: dict[str, Any] | None) -> int:
    row = ctx.db.query("globals").first()
    wanted = (config or {}).get("maxParallelism")
    if wanted is not None:
        if row is None:
            ctx.db.insert("globals", {"maxParallelism": wanted})
        elif row["maxParallelism"] != wanted:
            ctx.db.patch(row["_id"], {"maxParallelism": wanted})
        return wanted
    return DEFAULT_MAX_PARALLELISM if row is None else row["maxParallelism"]


def kick(ctx: Any, config: dict[str, Any] | None = None) -> None:
    """Start the due pending work that fits, and keep one wake-up at the next due time."""
    limit = _max_parallelism(ctx, config)
    now = _now()
    running = len(ctx.db.query("work").with_index("state", lambda q: q.eq("state", "running")).collect())
    due = ctx.db.query("work").with_index("state", lambda q: q.eq("state", "pending").lte("runAt", now))
    for work in due.take(max(0, limit - running)):
        worker = internal.worker.run_action if work["fnType"] == "action" else internal.worker.run_mutation
        job_id = ctx.scheduler.run_after(0, worker, {"workId": work["_id"]})
        ctx.db.patch(work["_id"], {"state": "running", "worker": job_id})
    later = ctx.db.query("work").with_index("state", lambda q: q.eq("state", "pending").gt("runAt", now)).first()
    wake = ctx.db.query("loop").first()
    if later is None or (wake is not None and wake["at"] <= later["runAt"]):
        return
    job_id = ctx.scheduler.run_at(later["runAt"], internal.lib.loop, {})
    if wake is not None:
        ctx.scheduler.cancel(wake["jobId"])
        ctx.db.patch(wake["_id"], {"jobId": job_id, "at": later["runAt"]})
    else:
        ctx.db.insert("loop", {"jobId": job_id, "at": later["runAt"]})


@internal_mutation
def loop(ctx, args):
    wake = ctx.db.query("loop").first()
    if wake is not None and wake["at"] <= _now():
        ctx.db.delete(wake["_id"])
    kick(ctx)


item_args = {
    "fnHandle": v.string(), "fnName": v.string(), "fnArgs": v.any(),
    "fnType": v.union(v.literal("action"), v.literal("mutation"), v.literal("query")),
    "runAt": v.number(), "retryBehavior": v.optional(retry_behavior),
    "onComplete": v.optional(v.object({"fnHandle": v.string(), "context": v.optional(v.any())})),
}


def _insert(ctx: Any, args: dict[str, Any]) -> Any:
    item = {key: value for key, value in args.items() if key != "config"}
    item.update({"runAt": max(args["runAt"], _now()), "attempts": 0, "state": "pending"})
    return ctx.db.insert("work", item)


@mutation(args={**item_args, "config": config_args}, returns=v.string())
def enqueue(ctx, args):
    work_id = _insert(ctx, args)
    kick(ctx, args["config"])
    return work_id


@mutation(args={"items": v.array(v.object(item_args)), "config": config_args}, returns=v.array(v.string()))
def enqueue_batch(ctx, args):
    """Many items in one transaction (Convex's `enqueueBatch`): ids in the order given."""
    work_ids = [_insert(ctx, item) for item in args["items"]]
    kick(ctx, args["config"])
    return work_ids


def finish(ctx: Any, work: dict[str, Any], result: dict[str, Any]) -> None:
    """The work is over: call its `onComplete` (its failure is logged, as Convex's), drop its row."""
    on_complete = work.get("onComplete")
    ctx.db.delete(work["_id"])
    if on_complete is not None:
        payload: dict[str, Any] = {"workId": work["_id"], "result": result}
        if "context" in on_complete:
            payload["context"] = on_complete["context"]
        else:
            payload["context"] = None
        try:
            ctx.run_mutation(on_complete["fnHandle"], payload)
        except Exception as exc:  # noqa: BLE001 (Convex's workpool logs and moves on)
            print(f"[workpool] onComplete for {work['_id']} failed: {exc}")


@internal_mutation(args={"workId": v.string(), "result": result_validator, "nonRetryable": v.optional(v.boolean())})
def complete(ctx, args):
    work = ctx.db.get(ctx.db.normalize_id("work", args["workId"]))
    if work is None:
        return
    result = args["result"]
    attempts = work["attempts"] + 1
    retry = work.get("retryBehavior")
    if (result["kind"] == "failed" and not args.get("nonRetryable") and retry is not None
            and attempts < retry["maxAttempts"]):
        if work.get("canceled"):
            finish(ctx, work, {"kind": "canceled"})
        else:
            backoff = retry["initialBackoffMs"] * retry["base"] ** (attempts - 1)
            ctx.db.patch(work["_id"], {"attempts": attempts, "state": "pending", "runAt": _now() + backoff})
    else:
        finish(ctx, work, result)
    kick(ctx)


def _not_started(ctx: Any, work: dict[str, Any]) -> bool:
    """Pending, or handed to a worker job that has not started yet: Convex's workpool still has it
    in `pendingStart` until its main loop (a scheduled function) takes it."""
    if work["state"] == "pending":
        return True
    job = ctx.db.system.get(work["worker"]) if "worker" in work else None
    return job is not None and job["state"]["kind"] == "pending"


def _cancel(ctx: Any, work: dict[str, Any]) -> None:
    if _not_started(ctx, work):
        if work["state"] == "running":
            ctx.scheduler.cancel(work["worker"])
        finish(ctx, work, {"kind": "canceled"})
    else:  # running: it ends, but is not retried
        ctx.db.patch(work["_id"], {"canceled": True})


@mutation(args={"id": v.string(), "config": v.optional(config_args)})
def cancel(ctx, args):
    work_id = ctx.db.normalize_id("work", args["id"])
    work = None if work_id is None else ctx.db.get(work_id)
    if work is None:
        return
    _cancel(ctx, work)
    kick(ctx, args.get("config"))


@mutation(args={"config": v.optional(config_args)})
def cancel_all(ctx, args):
    for work in ctx.db.query("work").collect():
        _cancel(ctx, work)
    kick(ctx, args.get("config"))


def _status(ctx: Any, work_id: str) -> dict[str, Any]:
    found = ctx.db.normalize_id("work", work_id)
    work = None if found is None else ctx.db.get(found)
    if work is None:
        return {"state": "finished"}
    return {"state": "pending" if _not_started(ctx, work) else "running", "previousAttempts": work["attempts"]}


@query(args={"id": v.string()})
def status(ctx, args):
    return _status(ctx, args["id"])


@query(args={"ids": v.array(v.string())})
def status_batch(ctx, args):
    return [_status(ctx, work_id) for work_id in args["ids"]]

