from convex_py import cron_jobs, internal

crons = cron_jobs()

crons.interval(
    "clear messages table",
    {"minutes": 1},
    internal.messages.clearAll,
)
