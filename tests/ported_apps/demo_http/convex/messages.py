import json
from urllib.parse import parse_qs, urlparse

from convex_py import Response, api, http_action, mutation, query, v


@http_action
async def postMessage(ctx, request):
    data = await request.json()
    author, body = data["author"], data["body"]

    await ctx.run_mutation(api.messages.send, {"body": f"Sent via HTTP action: {body}", "author": author})

    return Response(None, status=200)


@query(args={})
async def list(ctx):
    return await ctx.db.query("messages").collect()


@mutation(args={"body": v.string(), "author": v.string()})
async def send(ctx, args):
    message = {"body": args["body"], "author": args["author"]}
    await ctx.db.insert("messages", message)


async def query_by_author(ctx, author_number):
    messages = await ctx.run_query(api.messages.list)
    filtered_messages = [
        {"body": message["body"], "author": message["author"]}
        for message in messages
        if message["author"] == f"User {author_number}"
    ]
    return Response(json.dumps(filtered_messages), headers={"content-type": "application/json"}, status=200)


@http_action
async def getByAuthor(ctx, request):
    url = urlparse(request.url)
    author_number = (
        parse_qs(url.query).get("authorNumber", [None])[0]
        or request.headers.get("authorNumber")
        or None
    )
    if author_number is None:
        return Response("Did not specify authorNumber as query param or header", status=400)
    return await query_by_author(ctx, author_number)


@http_action
async def getByAuthorPathSuffix(ctx, request):
    url = urlparse(request.url)
    path_parts = url.path.split("/")
    if len(path_parts) < 3:
        return Response(
            "Missing authorNumber path suffix, URL path should be in the form /getAuthorMessages/[author]"
        )
    author_number = path_parts[-1]
    return await query_by_author(ctx, author_number)
