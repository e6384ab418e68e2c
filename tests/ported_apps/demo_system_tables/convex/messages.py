import asyncio

from convex_py import api, mutation, query, v


@query(args={})
async def list(ctx):
    messages = await ctx.db.query("messages").collect()

    async def with_url(message):
        # If the message is an "image" its `body` is a `StorageId`
        return {**message, **({"url": await ctx.storage.get_url(message["body"])}
                              if message["format"] == "image" else {})}

    return await asyncio.gather(*(with_url(message) for message in messages))


@mutation(args={})
async def generateUploadUrl(ctx):
    return await ctx.storage.generate_upload_url()


@mutation(args={"storageId": v.id("_storage"), "author": v.string()})
async def sendImage(ctx, args):
    await ctx.db.insert("messages", {"body": args["storageId"], "author": args["author"], "format": "image"})
    await ctx.db.insert("file_uploads", {"author": args["author"], "upload_id": args["storageId"]})


@mutation(args={"body": v.string(), "author": v.string()})
async def sendMessage(ctx, args):
    body, author = args["body"], args["author"]
    await ctx.db.insert("messages", {"body": body, "author": author, "format": "text"})


@mutation(args={"delay": v.float64(), "body": v.string(), "author": v.string()})
async def scheduleMessage(ctx, args):
    job_id = await ctx.scheduler.run_after(
        args["delay"] * 1000,
        api.messages.sendMessage,
        {"body": args["body"], "author": args["author"]},
    )
    return job_id
