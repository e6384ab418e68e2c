from convex_py import internal_mutation, mutation, query, v


@query(args={})
async def list(ctx):
    return await ctx.db.query("messages").collect()


@mutation(args={"body": v.string(), "author": v.string()})
async def send(ctx, args):
    message = {"body": args["body"], "author": args["author"]}
    await ctx.db.insert("messages", message)


@internal_mutation(args={})
async def clearAll(ctx):
    for message in await ctx.db.query("messages").collect():
        await ctx.db.delete("messages", message["_id"])
