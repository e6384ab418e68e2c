from convex_py import define_schema, define_table, v

schema = define_schema({
    "file_uploads": define_table({
        "author": v.string(),
        "upload_id": v.id("_storage"),
    }),
    "messages": define_table({
        "author": v.string(),
        "body": v.string(),
        "format": v.string(),
    }),
})
