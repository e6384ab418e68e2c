from convex_py import mutation, query, v


@query(args={})
async def list(ctx):
    return await ctx.db.query("messages").collect()


@mutation(args={"body": v.string(), "author": v.string()})
async def send(ctx, args):
    message = {"body": args["body"], "author": args["author"]}
    await ctx.db.insert("messages", message)


@mutation(args={"storageId": v.id("_storage"), "author": v.string()})
async def sendImage(ctx, args):
    message = {"body": args["storageId"], "author": args["author"], "format": "image"}
    await ctx.db.insert("messages", message)
