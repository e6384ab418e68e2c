import asyncio

from convex_py import mutation, query, v


@query(args={})
async def list(ctx):
    messages = await ctx.db.query("messages").collect()

    async def with_author(message):
        # For each message in this channel, fetch the `User` who wrote it and
        # insert their name into the `author` field.
        user = await ctx.db.get("users", message["user"])
        return {"author": user["name"], **message}

    return await asyncio.gather(*(with_author(message) for message in messages))


@mutation(args={"body": v.string()})
async def send(ctx, args):
    identity = await ctx.auth.get_user_identity()
    if not identity:
        raise Exception("Unauthenticated call to mutation")
    user = await (
        ctx.db.query("users")
        .with_index("by_token", lambda q: q.eq("tokenIdentifier", identity["tokenIdentifier"]))
        .unique()
    )
    if not user:
        raise Exception("Unauthenticated call to mutation")

    message = {"body": args["body"], "user": user["_id"]}
    await ctx.db.insert("messages", message)
