"""convex-test's nestedLimits.ts: `transaction_limits=` on nested calls."""

from convex_py import api, mutation, query, v

transaction_limits_validator = v.object(
    {
        "bytesRead": v.optional(v.number()),
        "bytesWritten": v.optional(v.number()),
        "databaseQueries": v.optional(v.number()),
        "documentsRead": v.optional(v.number()),
        "documentsWritten": v.optional(v.number()),
        "functionsScheduled": v.optional(v.number()),
        "scheduledFunctionArgsBytes": v.optional(v.number()),
    }
)


@query
async def readAll(ctx, args):
    return len(await ctx.db.query("messages").collect())


@query(args={"n": v.number()})
async def readN(ctx, args):
    return len(await ctx.db.query("messages").take(args["n"]))


@mutation(args={"count": v.number()})
async def insertMany(ctx, args):
    for i in range(int(args["count"])):
        await ctx.db.insert("messages", {"author": "child", "body": f"msg{i}"})


@mutation(args={"count": v.number()})
async def insertManyThenThrow(ctx, args):
    for i in range(int(args["count"])):
        await ctx.db.insert("messages", {"author": "child", "body": f"msg{i}"})
    raise Exception("nested boom")


@mutation(args={"count": v.number()})
async def insertRollbackThenReportMetrics(ctx, args):
    try:
        await ctx.run_mutation(api.nestedLimits.insertManyThenThrow, {"count": args["count"]})
    except Exception:
        pass
    metrics = await ctx.meta.get_transaction_metrics()
    return metrics["documentsWritten"]["used"]


@mutation(args={"rolledBackCount": v.number(), "keptCount": v.number()})
async def parentInsertAfterRollback(ctx, args):
    try:
        await ctx.run_mutation(api.nestedLimits.insertManyThenThrow, {"count": args["rolledBackCount"]})
    except Exception:
        pass
    for i in range(int(args["keptCount"])):
        await ctx.db.insert("messages", {"author": "parent", "body": f"kept{i}"})


@query(args={"transactionLimits": transaction_limits_validator})
async def parentReadWithLimits(ctx, args):
    return await ctx.run_query(api.nestedLimits.readAll, {}, {"transactionLimits": args["transactionLimits"]})


@query
async def parentReadNoLimits(ctx, args):
    return await ctx.run_query(api.nestedLimits.readAll, {})


@mutation(args={"count": v.number(), "transactionLimits": transaction_limits_validator})
async def parentInsertWithLimits(ctx, args):
    await ctx.run_mutation(
        api.nestedLimits.insertMany, {"count": args["count"]}, transaction_limits=args["transactionLimits"]
    )


@query(args={"nestedReadCount": v.number(), "transactionLimits": transaction_limits_validator})
async def nestThenReadAll(ctx, args):
    await ctx.run_query(
        api.nestedLimits.readN, {"n": args["nestedReadCount"]}, {"transactionLimits": args["transactionLimits"]}
    )
    return len(await ctx.db.query("messages").collect())
