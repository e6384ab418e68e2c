"""convex-test's vectorSearch.ts."""

import asyncio

from convex_py import action, internal, internal_query, v


@internal_query(args={"id": v.id("messages")})
async def get(ctx, args):
    doc = await ctx.db.get(args["id"])
    if not doc:
        raise Exception("not found: " + args["id"])
    return doc


@action(args={"author": v.union(v.string(), v.null()), "embedding": v.array(v.number()), "limit": v.number()})
async def vectorSearch(ctx, args):
    author = args["author"]
    query = {"vector": args["embedding"], "limit": args["limit"]}
    if author is not None:
        query["filter"] = lambda q: q.eq("author", author)
    results = await ctx.vector_search("messages", "embedding", query)

    async def with_doc(result):
        doc = await ctx.run_query(internal.vectorSearch.get, {"id": result["_id"]})
        return {**doc, "score": result["_score"]}

    return await asyncio.gather(*(with_doc(r) for r in results))
