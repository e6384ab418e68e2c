import httpx

from convex_py import ConvexError, action, mutation, v


@action(args={"prompt": v.string()})
async def sendAIMessage(ctx, args):
    async with httpx.AsyncClient() as client:
        response = await client.get("https://www.example.com/ai")
    text = response.text
    return text


@mutation(args={"body": v.string(), "author": v.string()})
async def send(ctx, args):
    if args["body"] == "":
        raise ConvexError("Empty message body is not allowed")

    await ctx.db.insert("messages", {"body": args["body"], "author": args["author"]})
