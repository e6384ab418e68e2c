from convex_py import define_schema, define_table, v

schema = define_schema({
    "data": define_table({
        "data": v.optional(v.number()),
        "misc": v.optional(v.any()),
    }),
})
