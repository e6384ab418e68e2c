"""convex-test's helpers.ts: plain functions taking a ctx, called from inline test functions."""


async def getMessagesByAuthor(ctx, author):
    return await ctx.db.query("messages").with_index("author", lambda q: q.eq("author", author)).collect()


async def countMessages(ctx):
    return len(await ctx.db.query("messages").collect())


async def getMessageBodies(ctx, author):
    return [m["body"] for m in await getMessagesByAuthor(ctx, author)]


async def insertMessage(ctx, author, body):
    return await ctx.db.insert("messages", {"author": author, "body": body})


async def insertMessages(ctx, messages):
    return [await insertMessage(ctx, m["author"], m["body"]) for m in messages]
