"""convex-test's mutations.ts."""

from convex_py import api, internal_query, mutation, query, v


@query(args={})
async def list(ctx, args):
    return await ctx.db.query("messages").collect()


@mutation(args={"body": v.string(), "author": v.string()})
async def insert(ctx, args):
    return await ctx.db.insert("messages", {"body": args["body"], "author": args["author"]})


@mutation(args={"id": v.id("messages"), "body": v.string()})
async def patch(ctx, args):
    await ctx.db.patch(args["id"], {"body": args["body"]})


@mutation(args={"id": v.id("messages"), "author": v.string(), "body": v.string()})
async def replace(ctx, args):
    await ctx.db.replace(args["id"], {"author": args["author"], "body": args["body"]})


@mutation(args={"id": v.id("messages")})
async def deleteDoc(ctx, args):
    await ctx.db.delete(args["id"])


@mutation(args={"body": v.string(), "author": v.string()})
async def throws(ctx, args):
    await ctx.db.insert("messages", {"body": args["body"], "author": args["author"]})
    raise Exception("I changed my mind")


@mutation(args={"id": v.id("messages"), "suffix": v.string()})
async def append(ctx, args):
    message = await ctx.db.get(args["id"])
    await ctx.db.patch(args["id"], {"body": message["body"] + args["suffix"]})


@mutation(args={})
async def rolledBackSubtransaction(ctx, args):
    await ctx.db.insert("messages", {"body": "hello", "author": "sarah"})
    try:
        await ctx.run_mutation(api.mutations.throws, {"body": "hello", "author": "lee"})
    except Exception:
        pass
    await ctx.db.insert("messages", {"body": "world", "author": "sarah"})
    docs = await ctx.db.query("messages").collect()
    return len(docs)


@mutation(args={})
async def subtransactionCommitThenRollbackParent(ctx, args):
    await ctx.run_mutation(api.mutations.insert, {"body": "hello", "author": "sarah"})
    await ctx.run_mutation(api.mutations.throws, {"body": "hello", "author": "lee"})


@mutation(args={"id": v.id("messages"), "body": v.string()})
async def patchAndRead(ctx, args):
    await ctx.db.patch(args["id"], {"body": args["body"]})
    return [doc["body"] for doc in await ctx.db.query("messages").collect()]


@mutation(args={})
async def insertThenPatchInSubtransaction(ctx, args):
    id = await ctx.db.insert("messages", {"body": "hello", "author": "sarah"})
    return await ctx.run_mutation(api.mutations.patchAndRead, {"id": id, "body": "hi"})


@mutation(args={"id": v.id("messages")})
async def deleteAndRead(ctx, args):
    await ctx.db.delete(args["id"])
    return [doc["body"] for doc in await ctx.db.query("messages").collect()]


@mutation(args={})
async def insertThenDeleteInSubtransaction(ctx, args):
    id = await ctx.db.insert("messages", {"body": "hello", "author": "sarah"})
    return await ctx.run_mutation(api.mutations.deleteAndRead, {"id": id})


@internal_query(args={})
async def countMessages(ctx, args):
    return len(await ctx.db.query("messages").collect())
