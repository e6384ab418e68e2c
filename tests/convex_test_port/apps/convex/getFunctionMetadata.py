"""convex-test's getFunctionMetadata.ts."""

from convex_py import action, mutation, query


@query(args={})
async def metadataQuery(ctx, args):
    return await ctx.meta.get_function_metadata()


@mutation(args={})
async def metadataMutation(ctx, args):
    return await ctx.meta.get_function_metadata()


@action(args={})
async def metadataAction(ctx, args):
    return await ctx.meta.getFunctionMetadata()


@query(args={})
async def default(ctx, args):
    return await ctx.meta.get_function_metadata()
