"""convex-test's actions.ts."""

import asyncio

from convex_py import action, api, internal, internal_action, internal_query, mutation, v


@internal_query(args={})
async def list(ctx, args):
    return await ctx.db.query("messages").collect()


@mutation(args={"body": v.string(), "author": v.string()})
async def add(ctx, args):
    await ctx.db.insert("messages", {"body": args["body"], "author": args["author"]})


@internal_action(args={})
async def actionCallingQuery(ctx, args):
    return await ctx.run_query(internal.actions.list, {})


@action(args={"body": v.string()})
async def actionCallingMutation(ctx, args):
    await ctx.run_mutation(api.actions.add, {"body": args["body"], "author": "AI"})


async def actionCallingActionHandler(ctx, args):
    """A plain helper: the handler of actionCallingAction, callable from an inline action."""
    count = args["count"]
    if count > 0:
        result = await ctx.run_action(internal.actions.actionCallingAction, {"count": count - 1})
        return {"called": result["called"] + 1}
    return {"called": 0}


actionCallingAction = internal_action(args={"count": v.number()})(actionCallingActionHandler)


@action(args={"authors": v.array(v.string()), "body": v.string()})
async def actionCallingMutationsConcurrently(ctx, args):
    await asyncio.gather(
        *(ctx.run_mutation(api.actions.add, {"body": args["body"], "author": author}) for author in args["authors"])
    )
