from convex_py import api, internal, internal_action, mutation, v


@mutation(args={"delayMs": v.number(), "createTask": v.optional(v.boolean())})
async def mutationSchedulingAction(ctx, args):
    if args.get("createTask"):
        await ctx.db.insert("tasks", {"author": "AI"})

    return await ctx.scheduler.run_after(args["delayMs"], internal.scheduler.someAction)


@mutation(args={})
async def mutationSchedulingActionSchedulingAction(ctx):
    return await ctx.scheduler.run_after(
        0,
        api.scheduler.mutationSchedulingAction,
        {"delayMs": 1000, "createTask": True},
    )


@internal_action(args={})
async def someAction():
    pass
