"""Users and their Stripe Connect ids (users.ts)."""

from convex_py import UNSET, mutation, query, v


@query(args={"userId": v.string()})
async def get_users_stripe_connect_id(ctx, args):
    user = await (
        ctx.db.query("users")
        .filter(lambda q: q.eq(q.field("userId"), args["userId"]))
        .filter(lambda q: q.neq(q.field("stripeConnectId"), UNSET))
        .first()
    )
    return user["stripeConnectId"] if user else None


@mutation(args={"userId": v.string(), "stripeConnectId": v.string()})
async def update_or_create_user_stripe_connect_id(ctx, args):
    user = await ctx.db.query("users").with_index("by_user_id", lambda q: q.eq("userId", args["userId"])).first()

    if not user:
        raise Exception("User not found")

    await ctx.db.patch(user["_id"], {"stripeConnectId": args["stripeConnectId"]})


@mutation(args={"userId": v.string(), "name": v.string(), "email": v.string()})
async def update_user(ctx, args):
    # Check if user exists
    existing_user = await (
        ctx.db.query("users").with_index("by_user_id", lambda q: q.eq("userId", args["userId"])).first()
    )

    if existing_user:
        # Update existing user
        await ctx.db.patch(existing_user["_id"], {"name": args["name"], "email": args["email"]})
        return existing_user["_id"]

    # Create new user
    new_user_id = await ctx.db.insert("users", {
        "userId": args["userId"],
        "name": args["name"],
        "email": args["email"],
        "stripeConnectId": UNSET,
    })

    return new_user_id


@query(args={"userId": v.string()})
async def get_user_by_id(ctx, args):
    user = await ctx.db.query("users").with_index("by_user_id", lambda q: q.eq("userId", args["userId"])).first()
    return user
