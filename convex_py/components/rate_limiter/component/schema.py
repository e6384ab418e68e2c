"""One row per rate limit name and key: the value left and when it was computed."""

from convex_py import define_schema, define_table, v

schema = define_schema(
    {
        "rateLimits": define_table(
            {
                "name": v.string(),
                "key": v.optional(v.string()),  # absent: one shared limit
                "shard": v.number(),  # always 0: one shard
                "value": v.number(),  # can go negative when capacity is reserved ahead of time
                "ts": v.number(),
            }
        ).index("name", ["name", "key", "shard"]),
    }
)
