"""convex-test's http.ts."""

import json
from urllib.parse import parse_qs, urlparse

from convex_py import Response, http_action, http_router, internal, internal_query

http = http_router()


@http_action
async def foo(ctx, request):
    arg = parse_qs(urlparse(request.url).query).get("arg", [None])[0]
    return Response(arg, status=200)


@http_action
async def buzz(ctx, request):
    return Response((await request.json())["text"], status=200)


@http_action
async def bla(ctx, request):
    return Response(urlparse(request.url).path.split("/")[-1], status=200)


@http_action
async def read_query(ctx, request):
    message = await ctx.run_query(internal.http.getFirst)
    return Response(json.dumps(message), status=200)


@http_action
async def metadata(ctx, request):
    return Response(json.dumps(await ctx.meta.get_function_metadata()), status=200)


http.route(path="/foo", method="GET", handler=foo)
http.route(path="/buzz", method="POST", handler=buzz)
http.route(path_prefix="/bla/", method="POST", handler=bla)
http.route(path="/readQuery", method="POST", handler=read_query)
http.route(path="/metadata", method="GET", handler=metadata)


@internal_query
async def getFirst(ctx, args):
    return await ctx.db.query("messages").first()
