from convex_py import mutation, query, v


@mutation(args={"jobId": v.id("_scheduled_functions")})
async def cancelMessage(ctx, args):
    await ctx.scheduler.cancel(args["jobId"])


@query(args={})
async def listScheduledSends(ctx):
    return await ctx.db.system.query("_scheduled_functions").collect()


@query(args={})
async def listFiles(ctx):
    file_uploads = await ctx.db.query("file_uploads").collect()
    results = []
    for file_upload in file_uploads:
        file_metadata = await ctx.db.system.get(file_upload["upload_id"])

        if file_metadata is not None:
            results.append({**file_metadata, "author": file_upload["author"]})

    return results


@query(args={"id": v.id("_storage")})
async def getFileUrl(ctx, args):
    return await ctx.storage.get_url(args["id"])
