from convex_py import mutation


@mutation(args={})
async def store(ctx):
    db, auth = ctx.db, ctx.auth
    identity = await auth.get_user_identity()
    if not identity:
        raise Exception("Called storeUser without authentication present")

    # Check if we've already stored this identity before.
    user = await (
        db.query("users")
        .with_index("by_token", lambda q: q.eq("tokenIdentifier", identity["tokenIdentifier"]))
        .unique()
    )
    if user is not None:
        # If we've seen this identity before but the name has changed, patch the value.
        if user["name"] != identity.get("name"):
            await db.patch(user["_id"], {"name": identity["name"]})
        return user["_id"]
    # If it's a new identity, create a new `User`.
    return db.insert("users", {
        "name": identity["name"],
        "tokenIdentifier": identity["tokenIdentifier"],
    })
