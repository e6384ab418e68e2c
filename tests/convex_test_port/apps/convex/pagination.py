"""convex-test's pagination.ts."""

from convex_py import pagination_opts_validator, query, v


@query(args={"author": v.string(), "paginationOptions": pagination_opts_validator})
async def list(ctx, args):
    return await (
        ctx.db.query("messages")
        .filter(lambda q: q.eq(q.field("author"), args["author"]))
        .paginate(args["paginationOptions"])
    )


@query(args={"paginationOptions": pagination_opts_validator})
async def listAll(ctx, args):
    return await ctx.db.query("messages").paginate(args["paginationOptions"])


@query(args={"author": v.string(), "paginationOptions": pagination_opts_validator})
async def listWithIndex(ctx, args):
    return await (
        ctx.db.query("messages")
        .with_index("author", lambda q: q.eq("author", args["author"]))
        .paginate(args["paginationOptions"])
    )


@query(args={"author": v.string(), "paginationOptions": pagination_opts_validator})
async def listWithOptionalFieldIndex(ctx, args):
    return await (
        ctx.db.query("messages")
        .with_index("author_score", lambda q: q.eq("author", args["author"]))
        .paginate(args["paginationOptions"])
    )


@query(args={"author": v.string(), "paginationOptions": pagination_opts_validator})
async def listWithCompositeIndex(ctx, args):
    return await (
        ctx.db.query("messages")
        .with_index("author_body", lambda q: q.eq("author", args["author"]))
        .paginate(args["paginationOptions"])
    )
