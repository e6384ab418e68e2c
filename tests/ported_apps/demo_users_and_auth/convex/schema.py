from convex_py import define_schema, define_table, v

schema = define_schema({
    "messages": define_table({
        "body": v.string(),
        "user": v.id("users"),
    }),
    "users": define_table({
        "name": v.string(),
        "tokenIdentifier": v.string(),
    }).index("by_token", ["tokenIdentifier"]),
})
