from convex_py import Response, http_action, http_router

http = http_router()


@http_action
async def some_path(_ctx, _request):
    return Response("Hello, world!")


http.route(path="/some/path", method="POST", handler=some_path)
