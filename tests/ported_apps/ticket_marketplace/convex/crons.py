"""A fail-safe sweep of expired offers every minute (crons.ts)."""

from convex_py import cron_jobs, internal

crons = cron_jobs()

crons.interval(
    "cleanup-expired-offers",
    {"minutes": 1},  # Run every 1 minute
    internal.waiting_list.cleanup_expired_offers,
)
