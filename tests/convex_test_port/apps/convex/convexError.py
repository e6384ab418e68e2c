"""convex-test's convexError.ts."""

from convex_py import ConvexError, action, api, mutation, query


@mutation(args={})
async def throwsObject(ctx, args):
    raise ConvexError({"kind": "x"})


@mutation(args={})
async def throwsString(ctx, args):
    raise ConvexError("just a message")


@query(args={})
async def queryThrowsObject(ctx, args):
    raise ConvexError({"kind": "q"})


@action(args={})
async def actionThrowsObject(ctx, args):
    raise ConvexError({"kind": "a"})


@mutation(args={})
async def mutationCatchingConvexError(ctx, args):
    try:
        await ctx.run_mutation(api.convexError.throwsObject, {})
    except ConvexError as e:
        return e.data
    return None
