from convex_py import mutation, pagination_opts_validator, query, v


@query(args={"paginationOpts": pagination_opts_validator})
async def list(ctx, args):
    foo = await ctx.db.query("messages").order("desc").paginate(args["paginationOpts"])
    return foo


@query(args={"paginationOpts": pagination_opts_validator, "author": v.string()})
async def listWithExtraArg(ctx, args):
    return await (
        ctx.db.query("messages")
        .with_index("by_author", lambda q: q.eq("author", args["author"]))
        .order("desc")
        .paginate(args["paginationOpts"])
    )


@query(args={"paginationOpts": pagination_opts_validator})
async def listWithTransformation(ctx, args):
    results = await ctx.db.query("messages").order("desc").paginate(args["paginationOpts"])
    return {
        **results,
        "page": [{"author": message["author"][0:1], "body": message["body"].upper()} for message in results["page"]],
    }


@mutation(args={"body": v.string(), "author": v.string()})
async def send(ctx, args):
    body, author = args["body"], args["author"]
    await ctx.db.insert("messages", {"body": body, "author": author})
