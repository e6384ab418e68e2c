from convex_py import internal_mutation, query, v


@query(
    args={},
    returns=v.array(
        v.object({
            "_id": v.id("posts"),
            "_creationTime": v.number(),
            "title": v.string(),
            "content": v.string(),
            "author": v.string(),
        }),
    ),
)
async def list(ctx):
    posts = await ctx.db.query("posts").order("desc").collect()
    return posts


@internal_mutation(
    args={"title": v.string(), "content": v.string(), "author": v.string()},
    returns=v.id("posts"),
)
async def add(ctx, args):
    post_id = await ctx.db.insert("posts", {
        "title": args["title"],
        "content": args["content"],
        "author": args["author"],
    })
    return post_id
