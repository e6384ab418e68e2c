"""convex-test's getDeploymentMetadata.ts (there through a syscall; here `ctx.meta`)."""

from convex_py import action, mutation, query


@query(args={})
async def metadataQuery(ctx, args):
    return await ctx.meta.get_deployment_metadata()


@mutation(args={})
async def metadataMutation(ctx, args):
    return await ctx.meta.get_deployment_metadata()


@action(args={})
async def metadataAction(ctx, args):
    return await ctx.meta.get_deployment_metadata()
