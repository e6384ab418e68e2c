from convex_py import define_schema, define_table, v

schema = define_schema({
    "posts": define_table({
        "title": v.string(),
        "content": v.string(),
        "author": v.string(),
    }),

    "tasks": define_table({
        "author": v.optional(v.string()),
        "text": v.optional(v.string()),
    }).index("by_author", ["author"]),

    "messages": define_table({
        "body": v.string(),
        "author": v.string(),
    }),
})
