"""convex-test's storage.ts."""

from convex_py import internal_action, internal_mutation, internal_query, v


@internal_query(args={})
async def listFiles(ctx, args):
    return await ctx.db.system.query("_storage").collect()


@internal_action(args={"bytes": v.bytes()})
async def actionStoreBlob(ctx, args):
    return await ctx.storage.store(args["bytes"])


@internal_action(args={"id": v.id("_storage")})
async def actionGetBlob(ctx, args):
    return await ctx.storage.get(args["id"])


@internal_action(args={"id": v.id("_storage")})
async def actionDeleteBlob(ctx, args):
    await ctx.storage.delete(args["id"])


@internal_mutation(args={"id": v.id("_storage")})
async def mutationDeleteBlob(ctx, args):
    await ctx.storage.delete(args["id"])


@internal_query(args={"id": v.id("_storage")})
async def queryGetUrl(ctx, args):
    return await ctx.storage.get_url(args["id"])


@internal_mutation(args={})
async def mutationGenerateUploadUrl(ctx, args):
    return await ctx.storage.generate_upload_url()
