"""convex-test's scheduler.ts."""

import asyncio

from convex_py import action, api, internal_query, mutation, query, v


@internal_query(args={})
async def list(ctx, args):
    return await ctx.db.query("messages").collect()


@mutation(args={"body": v.string(), "author": v.string(), "bigint": v.optional(v.int64())})
async def add(ctx, args):
    if args["body"] == "FAIL THIS":
        raise Exception("failed as intended")
    await ctx.db.insert("messages", {"body": args["body"], "author": args["author"]})


def _with_bigint(values, args):
    if "bigint" in args:
        values["bigint"] = args["bigint"]
    return values


@action(args={"body": v.string(), "bigint": v.optional(v.int64())})
async def actionCallingMutation(ctx, args):
    await ctx.run_mutation(api.scheduler.add, _with_bigint({"body": args["body"], "author": "AI"}, args))


@internal_query(args={})
async def jobs(ctx, args):
    return await ctx.db.system.query("_scheduled_functions").collect()


@mutation(args={"body": v.string(), "delayMs": v.number(), "bigint": v.optional(v.int64())})
async def mutationSchedulingAction(ctx, args):
    return await ctx.scheduler.run_after(
        args["delayMs"], api.scheduler.actionCallingMutation, _with_bigint({"body": args["body"]}, args)
    )


@mutation(args={"id": v.id("_scheduled_functions")})
async def cancel(ctx, args):
    await ctx.scheduler.cancel(args["id"])


@action(args={"body": v.string(), "delayMs": v.number()})
async def actionSchedulingAction(ctx, args):
    return await ctx.scheduler.run_after(args["delayMs"], api.scheduler.actionCallingMutation, {"body": args["body"]})


@action(args={"id": v.id("_scheduled_functions")})
async def cancelAction(ctx, args):
    await ctx.scheduler.cancel(args["id"])


@action(args={"count": v.number()})
async def actionSchedulingActionNTimes(ctx, args):
    count = args["count"]
    await ctx.run_mutation(api.scheduler.add, {"body": f"count {count:g}", "author": "AI"})
    if count > 0:
        await ctx.scheduler.run_after(0, api.scheduler.actionSchedulingActionNTimes, {"count": count - 1})


@action(args={"body": v.string()})
async def actionWithInternalSetTimeout(ctx, args):
    await asyncio.sleep(0.1)
    await ctx.run_mutation(api.scheduler.add, {"body": args["body"], "author": "AI"})


@mutation(args={"body": v.string()})
async def mutationSchedulingActionWithTimeout(ctx, args):
    await ctx.scheduler.run_after(0, api.scheduler.actionWithInternalSetTimeout, {"body": args["body"]})


@mutation(args={})
async def selfSchedulingMutation(ctx, args):
    await ctx.scheduler.run_after(1000, api.scheduler.selfSchedulingMutation, {})


@mutation(args={})
async def scheduleNowAndLater(ctx, args):
    await ctx.scheduler.run_after(0, api.scheduler.add, {"body": "immediate", "author": "AI"})
    await ctx.scheduler.run_after(60000, api.scheduler.add, {"body": "delayed", "author": "AI"})


@mutation(args={"body": v.string()})
async def childSchedulesAdd(ctx, args):
    await ctx.scheduler.run_after(0, api.scheduler.add, {"body": args["body"], "author": "AI"})


@mutation(args={"body": v.string()})
async def parentRunsMutationThatSchedules(ctx, args):
    await ctx.run_mutation(api.scheduler.childSchedulesAdd, {"body": args["body"]})


@action(args={"body": v.string()})
async def actionSchedulesMutationAndPolls(ctx, args):
    await ctx.scheduler.run_after(0, api.scheduler.add, {"body": args["body"], "author": "AI"})
    for _ in range(100):
        messages = await ctx.run_query(api.scheduler.listPublic, {})
        if any(m["body"] == args["body"] for m in messages):
            return
        await asyncio.sleep(0.01)
    raise Exception("polled too long without seeing scheduled mutation")


@query(args={})
async def listPublic(ctx, args):
    return await ctx.db.query("messages").collect()
