from convex_py import mutation, query, v


@query(args={})
async def list(ctx):
    return await ctx.db.query("messages").collect()


@query(args={"query": v.string()})
async def search(ctx, args):
    return await (
        ctx.db.query("messages")
        .with_search_index("search_body", lambda q: q.search("body", args["query"]))
        .take(10)
    )


@mutation(args={"body": v.string(), "author": v.string()})
async def send(ctx, args):
    message = {"body": args["body"], "author": args["author"]}
    await ctx.db.insert("messages", message)
