"""Work items (a row while not finished) and the pool's settings."""

from convex_py import define_schema, define_table, v

schema = define_schema(
    {
        "work": define_table(
            {
                "fnHandle": v.string(),
                "fnName": v.string(),
                "fnArgs": v.any(),
                "fnType": v.union(v.literal("action"), v.literal("mutation"), v.literal("query")),
                "runAt": v.number(),
                "attempts": v.number(),  # attempts already made
                "state": v.union(v.literal("pending"), v.literal("running")),
                "canceled": v.optional(v.boolean()),
                "worker": v.optional(v.string()),  # the scheduled job that runs it (state "running")
                "retryBehavior": v.optional(
                    v.object({"maxAttempts": v.number(), "initialBackoffMs": v.number(), "base": v.number()})
                ),
                "onComplete": v.optional(v.object({"fnHandle": v.string(), "context": v.optional(v.any())})),
            }
        ).index("state", ["state", "runAt"]),
        "globals": define_table({"maxParallelism": v.number()}),
        "loop": define_table({"jobId": v.string(), "at": v.number()}),
    }
)
