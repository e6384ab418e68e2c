"""convex-test's queries.ts."""

from convex_py import query, v


@query
async def list(ctx, args):
    return await ctx.db.query("messages").collect()


@query
async def count(ctx, args):
    return await ctx.db.query("messages").count()


@query(args={"count": v.number()})
async def lastN(ctx, args):
    last_messages = await ctx.db.query("messages").order("desc").take(args["count"])
    return last_messages[::-1]


@query
async def default(ctx, args):
    return await ctx.db.query("messages").collect()
