from urllib.parse import parse_qs, urlparse

from convex_py import Headers, Response, api, env, http_action, http_router

http = http_router()


@http_action
async def send_image(ctx, request):
    # Step 1: Store the file
    blob = await request.blob()
    storage_id = await ctx.storage.store(blob)

    # Step 2: Save the storage ID to the database via a mutation
    author = parse_qs(urlparse(request.url).query).get("author", [None])[0]
    if author is None:
        return Response("Author is required", status=400)

    await ctx.run_mutation(api.messages.sendImage, {"storageId": storage_id, "author": author})

    # Step 3: Return a response with the correct CORS headers
    return Response(None, status=200, headers=Headers({
        # e.g. https://mywebsite.com, configured on your Convex dashboard
        "Access-Control-Allow-Origin": env["CLIENT_ORIGIN"],
        "Vary": "origin",
    }))


http.route(path="/sendImage", method="POST", handler=send_image)


@http_action
async def get_image(ctx, request):
    search_params = parse_qs(urlparse(request.url).query)
    storage_id = search_params["storageId"][0]
    blob = await ctx.storage.get(storage_id)
    if blob is None:
        return Response("Image not found", status=404)
    return Response(blob)


http.route(path="/getImage", method="GET", handler=get_image)


# Pre-flight request for /sendImage
@http_action
async def send_image_preflight(_, request):
    # Make sure the necessary headers are present
    # for this to be a valid pre-flight request
    headers = request.headers
    if (
        headers.get("Origin") is not None
        and headers.get("Access-Control-Request-Method") is not None
        and headers.get("Access-Control-Request-Headers") is not None
    ):
        return Response(None, headers=Headers({
            # e.g. https://mywebsite.com, configured on your Convex dashboard
            "Access-Control-Allow-Origin": env["CLIENT_ORIGIN"],
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type, Digest",
            "Access-Control-Max-Age": "86400",
        }))
    else:
        return Response()


http.route(path="/sendImage", method="OPTIONS", handler=send_image_preflight)
