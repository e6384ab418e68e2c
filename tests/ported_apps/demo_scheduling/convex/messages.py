from convex_py import internal, internal_mutation, mutation, query, v


@query(args={})
async def list(ctx):
    return await ctx.db.query("messages").collect()


@mutation(args={"body": v.string(), "author": v.string()})
async def send(ctx, args):
    message = {"body": args["body"], "author": args["author"]}
    await ctx.db.insert("messages", message)


def format_message(body, seconds_left):
    # `secondsLeft` is v.number(): a float, 4.0; `:g` writes it as JavaScript's `${secondsLeft}` does
    return f"{body} (This message will self-destruct in {seconds_left:g} seconds)"


@mutation(args={"body": v.string(), "author": v.string()})
async def sendExpiringMessage(ctx, args):
    body, author = args["body"], args["author"]
    id = await ctx.db.insert("messages", {"body": format_message(body, 5), "author": author})
    await ctx.scheduler.run_after(
        1000,
        internal.messages.updateExpiringMessage,
        {"messageId": id, "body": body, "secondsLeft": 4},
    )


@internal_mutation(args={"messageId": v.id("messages"), "body": v.string(), "secondsLeft": v.number()})
async def updateExpiringMessage(ctx, args):
    message_id, body, seconds_left = args["messageId"], args["body"], args["secondsLeft"]
    if seconds_left > 0:
        await ctx.db.patch("messages", message_id, {"body": format_message(body, seconds_left)})
        await ctx.scheduler.run_after(
            1000,
            internal.messages.updateExpiringMessage,
            {"messageId": message_id, "body": body, "secondsLeft": seconds_left - 1},
        )
    else:
        await ctx.db.delete("messages", message_id)
