"""Retry an action until it succeeds, with exponential backoff (convex-helpers' server/retries.ts).

An action should only be retried if it is safe to do so: idempotent, or without unsafe side effects.
"""

import random

from convex_py import get_function_name, internal_mutation, v

DEFAULTS = {
    "waitBackoff": 100,
    "retryBackoff": 100,
    "base": 2,
    "maxFailures": 16,
}


def make_action_retrier(retry_fn_name, options=None):
    """`run_with_retries, retry = make_action_retrier("module:retry", {...})`, `retry` exported by that module.

    Options (defaults): waitBackoff 100 ms before checking the action's status, retryBackoff 100 ms
    before retrying a failure, base 2 of the exponential backoff, maxFailures 16; `log` a function to
    log status, such as `print`.
    """
    retry_ref = retry_fn_name
    defaults = {**DEFAULTS, **{k: v for k, v in (options or {}).items() if k != "log"}}
    log = (options or {}).get("log") or (lambda msg: None)

    async def run_with_retries(ctx, action, action_args, options=None):
        """Run and retry `action` until it succeeds or fails too many times (from a mutation or an action)."""
        await ctx.scheduler.run_after(0, retry_ref, {
            "action": get_function_name(action),
            "actionArgs": action_args,
            **defaults,
            **(options or {}),
        })

    retry_arguments = {
        "job": v.optional(v.id("_scheduled_functions")),
        "action": v.string(),
        "actionArgs": v.any(),
        "waitBackoff": v.number(),
        "retryBackoff": v.number(),
        "base": v.number(),
        "maxFailures": v.number(),
    }

    @internal_mutation(args=retry_arguments)
    async def retry(ctx, args):
        # If job is not provided (first call), schedule the action.
        job = args["job"] if "job" in args else await ctx.scheduler.run_after(0, args["action"], args["actionArgs"])
        status = await ctx.db.system.get("_scheduled_functions", job)
        if not status:
            # There is a chance a job will be deleted - after 7 days.
            raise Exception(f"Job {args['action']}({job}) not found")

        kind = status["state"]["kind"]
        if kind in ("pending", "inProgress"):
            log(f"Job {args['action']}({job}) not yet complete, checking again in {args['waitBackoff']} ms.")
            await ctx.scheduler.run_after(with_jitter(args["waitBackoff"]), retry_ref, {
                **args,
                "job": job,
                "waitBackoff": args["waitBackoff"] * args["base"],
            })
        elif kind == "failed":
            if args["maxFailures"] <= 0:
                log(f"Job {args['action']}({job}) failed too many times, not retrying.")
                return
            new_job = await ctx.scheduler.run_after(
                with_jitter(args["retryBackoff"]), args["action"], args["actionArgs"],
            )
            log(f"Job {args['action']}({job}) failed, retrying in {args['retryBackoff']} ms as {new_job}.")
            await ctx.scheduler.run_after(with_jitter(args["retryBackoff"] + args["waitBackoff"]), retry_ref, {
                **args,
                "job": new_job,
                "retryBackoff": args["retryBackoff"] * args["base"],
                "maxFailures": args["maxFailures"] - 1,
            })
        elif kind == "success":
            log(f"Job {args['action']}({job}) succeeded.")
        elif kind == "canceled":
            log(f"Job {args['action']}({job}) was canceled. Not retrying.")

    return run_with_retries, retry


def with_jitter(delay):
    return delay * (0.5 + random.random())
