"""convex-test's authentication.ts."""

from convex_py import action, api, mutation, query


async def _name(ctx):
    identity = await ctx.auth.get_user_identity()
    return identity.get("name") if identity is not None else None


@action(args={})
async def actionCallingQuery(ctx, args):
    return await ctx.run_query(api.authentication.queryName)


@mutation(args={})
async def mutationCallingQuery(ctx, args):
    return await ctx.run_query(api.authentication.queryName)


@query(args={})
async def queryCallingQuery(ctx, args):
    return await ctx.run_query(api.authentication.queryName)


@query(args={})
async def queryName(ctx, args):
    return await _name(ctx)


@action(args={})
async def actionCallingMutation(ctx, args):
    return await ctx.run_mutation(api.authentication.mutationName)


@mutation(args={})
async def mutationCallingMutation(ctx, args):
    return await ctx.run_mutation(api.authentication.mutationName)


@mutation(args={})
async def mutationCallingMutationCallingQuery(ctx, args):
    return await ctx.run_mutation(api.authentication.mutationCallingQuery)


@mutation(args={})
async def mutationName(ctx, args):
    return await _name(ctx)


@action(args={})
async def actionCallingAction(ctx, args):
    return await ctx.run_action(api.authentication.actionName)


@action(args={})
async def actionCallingActionCallingQuery(ctx, args):
    return await ctx.run_action(api.authentication.actionCallingQuery)


@action(args={})
async def actionName(ctx, args):
    return await _name(ctx)


@mutation(args={})
async def assertNoAuth(ctx, args):
    if await ctx.auth.get_user_identity():
        raise Exception("Expected no auth")


@mutation(args={})
async def scheduledNoAuth(ctx, args):
    return await ctx.scheduler.run_after(0, api.authentication.assertNoAuth)
