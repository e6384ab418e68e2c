"""convex-test's messages.ts."""

import json

import httpx

from convex_py import action, api, mutation, query, v


@query
async def list(ctx, args):
    return await ctx.db.query("messages").collect()


@query
async def listByAuth(ctx, args):
    user = await ctx.auth.get_user_identity()
    return await ctx.db.query("messages").filter(lambda q: q.eq(q.field("author"), user["name"])).collect()


@mutation(args={"body": v.string(), "author": v.string()})
async def send(ctx, args):
    await ctx.db.insert("messages", {"body": args["body"], "author": args["author"]})


@action(args={"prompt": v.string()})
async def sendAIMessage(ctx, args):
    async with httpx.AsyncClient() as client:
        response = await client.post(
            "https://api.openai.com/",
            headers={"Content-Type": "application/json"},
            content=json.dumps({"model": "gpt89", "prompt": args["prompt"]}),
        )
    await ctx.run_mutation(api.messages.send, {"body": response.text, "author": "AI"})
