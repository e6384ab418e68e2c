"""Event images in file storage (storage.ts)."""

from convex_py import UNSET, mutation, query, v


@mutation
async def generate_upload_url(ctx):
    return await ctx.storage.generate_upload_url()


@mutation(args={"eventId": v.id("events"), "storageId": v.union(v.id("_storage"), v.null())})
async def update_event_image(ctx, args):
    await ctx.db.patch(args["eventId"], {
        "imageStorageId": args["storageId"] if args["storageId"] is not None else UNSET,
    })


@query(args={"storageId": v.id("_storage")})
async def get_url(ctx, args):
    return await ctx.storage.get_url(args["storageId"])


@mutation(args={"storageId": v.id("_storage")})
async def delete_image(ctx, args):
    await ctx.storage.delete(args["storageId"])
