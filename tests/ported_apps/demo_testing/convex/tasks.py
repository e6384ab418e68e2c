from convex_py import mutation, query, v


@mutation(args={"text": v.string()})
async def create(ctx, args):
    identity = await ctx.auth.get_user_identity()
    if not identity:
        raise Exception("Not authenticated")

    await ctx.db.insert("tasks", {
        "text": args["text"],
        "author": identity.get("name", "Unknown"),
    })


@query(args={})
async def list(ctx):
    identity = await ctx.auth.get_user_identity()
    if not identity:
        raise Exception("Not authenticated")

    tasks = await ctx.db.query("tasks").with_index("by_author", lambda q: q.eq("author", identity["name"])).collect()

    return tasks
