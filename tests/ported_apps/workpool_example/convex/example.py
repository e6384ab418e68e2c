"""The work pool's example app (get-convex/workpool example/convex/example.ts), in part."""

import asyncio
import random
import time

from convex_py import UNSET, action, api, components, internal, internal_action, internal_mutation, mutation, query, v
from convex_py.components.workpool import Workpool, vOnCompleteArgs, vWorkId

big_pool = Workpool(components.bigPool, {
    "maxParallelism": 20,
    "defaultRetryBehavior": {"maxAttempts": 3, "initialBackoffMs": 100, "base": 2},
    "retryActionsByDefault": True,
    "logLevel": "INFO",
})
small_pool = Workpool(components.smallPool, {
    "maxParallelism": 3,
    "retryActionsByDefault": True,
    "logLevel": "INFO",
})
serialized_pool = Workpool(components.serializedPool, {
    "maxParallelism": 1,
    "retryActionsByDefault": True,
    "logLevel": "INFO",
})


@mutation(args={"data": v.optional(v.number())})
async def addMutation(ctx, args):
    d = args["data"] if "data" in args else random.random()
    await ctx.db.insert("data", {"data": d})
    return d


@action(args={"data": v.optional(v.number())})
async def addAction(ctx, args):
    return await ctx.run_mutation(api.example.addMutation, {"data": args.get("data", UNSET)})


@query(args={})
async def queryData(ctx):
    data_docs = await ctx.db.query("data").collect()
    return [doc.get("data", 0) for doc in data_docs]


@mutation(args={"data": v.number()})
async def enqueueOneMutation(ctx, args):
    return await small_pool.enqueue_mutation(ctx, api.example.addMutation, {"data": args["data"]})


@mutation(args={})
async def enqueueOneQuery(ctx):
    return await small_pool.enqueue_query(
        ctx,
        api.example.queryData,
        {},
        {"onComplete": internal.example.complete, "context": time.time() * 1000},
    )


@mutation(args={"id": vWorkId})
async def cancelMutation(ctx, args):
    await small_pool.cancel(ctx, args["id"])


@query(args={"id": vWorkId})
async def status(ctx, args):
    return await small_pool.status(ctx, args["id"])


@action(args={})
async def enqueueABunchOfMutations(ctx, _args):
    await asyncio.gather(*(small_pool.enqueue_mutation(ctx, api.example.addMutation, {}) for _ in range(30)))


@mutation(args={"data": v.number()})
async def highPriMutation(ctx, args):
    await big_pool.enqueue_mutation(ctx, api.example.addMutation, {"data": args["data"]})


@mutation(args={})
async def enqueueAnAction(ctx, _args):
    await big_pool.enqueue_action(ctx, api.example.addAction, {})


@internal_action(args={})
async def enqueueABatchOfActions(ctx, _args):
    await small_pool.enqueue_action_batch(
        ctx,
        internal.example.myAction,
        [{"fate": "succeed", "ms": 1000} for _ in range(10)],
    )


fate = v.union(v.literal("succeed"), v.literal("fail randomly"), v.literal("fail always"))


@internal_action(args={"fate": fate, "ms": v.optional(v.number())})
async def myAction(_ctx, args):
    if args.get("ms"):
        await asyncio.sleep(args["ms"] / 1000)
    match args["fate"]:
        case "succeed":
            print("success")
        case "fail randomly":
            if random.random() < 0.8:
                raise Exception("action failed.")
            print("action succeded.")
        case "fail always":
            raise Exception("action failed.")
        case _:
            raise Exception("invalid action")


# A convenient way to define the onComplete mutation.
async def _on_complete(ctx, args):
    print("total", (time.time() * 1000 - args["context"]) / 1000)


onComplete = big_pool.define_on_complete({"context": v.number(), "handler": _on_complete})


# Another way to define the onComplete mutation.
@internal_mutation(args=vOnCompleteArgs(v.number()))
async def complete(ctx, args):
    if args["result"]["kind"] == "success":
        print("onComplete result", args["result"]["returnValue"])
    print("total", (time.time() * 1000 - args["context"]) / 1000)


@internal_mutation(args={})
async def enqueueFailing(ctx, _args):
    started = time.time() * 1000
    await big_pool.enqueue_action(
        ctx, internal.example.myAction, {"fate": "fail always"},
        {"context": started, "onComplete": internal.example.onComplete},
    )


@internal_action(args={"id": v.optional(vWorkId)})
async def cancel(ctx, args):
    if args.get("id"):
        await big_pool.cancel(ctx, args["id"])
    else:
        await big_pool.cancel_all(ctx)
