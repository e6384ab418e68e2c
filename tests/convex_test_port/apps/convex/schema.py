"""convex-test's schema.ts: one `messages` table with every kind of index."""

from convex_py import define_schema, define_table, v

schema = define_schema(
    {
        "messages": define_table(
            {
                "author": v.string(),
                "body": v.string(),
                "embedding": v.optional(v.array(v.number())),
                "score": v.optional(v.number()),
            }
        )
        .index("author", ["author"])
        .index("author_body", ["author", "body"])
        .index("author_score", ["author", "score"])
        .search_index("body", {"searchField": "body", "filterFields": ["author"]})
        .vector_index(
            "embedding",
            {"vectorField": "embedding", "filterFields": ["author", "body"], "dimensions": 1536},
        ),
    }
)
