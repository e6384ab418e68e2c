"""convex-test's textSearch.ts."""

from convex_py import query, v


@query(args={"author": v.union(v.string(), v.null()), "body": v.string()})
async def textSearch(ctx, args):
    def search(q):
        found = q.search("body", args["body"])
        return found.eq("author", args["author"]) if args["author"] is not None else found

    return await ctx.db.query("messages").with_search_index("body", search).collect()
