"""The rate limit arithmetic, shared by the component and its client (`calculate_rate_limit`).

A token bucket adds `rate` tokens per `period` continuously, up to `capacity`; a fixed
window adds `rate` tokens at the start of each `period`, up to `capacity` (both default to
`rate`). A request takes `count` tokens (1); when too few are left, `retryAfter` says how
many milliseconds until enough will be.
"""

from __future__ import annotations

import math
from typing import Any

from convex_py import v

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY

token_bucket_validator = v.object(
    {
        "kind": v.literal("token bucket"),
        "rate": v.number(),
        "period": v.number(),
        "capacity": v.optional(v.number()),
        "maxReserved": v.optional(v.number()),
        "shards": v.optional(v.number()),
        "start": v.optional(v.null()),
    }
)
fixed_window_validator = v.object(
    {
        "kind": v.literal("fixed window"),
        "rate": v.number(),
        "period": v.number(),
        "capacity": v.optional(v.number()),
        "maxReserved": v.optional(v.number()),
        "shards": v.optional(v.number()),
        "start": v.optional(v.number()),
    }
)
config_validator = v.union(token_bucket_validator, fixed_window_validator)

rate_limit_args = {
    "name": v.string(),
    "key": v.optional(v.string()),
    "count": v.optional(v.number()),
    "reserve": v.optional(v.boolean()),
    "throws": v.optional(v.boolean()),
    "config": config_validator,
}
rate_limit_returns = v.union(
    v.object({"ok": v.literal(True), "retryAfter": v.optional(v.number())}),
    v.object({"ok": v.literal(False), "retryAfter": v.number()}),
)


def calculate_rate_limit(existing: dict[str, Any] | None, config: dict[str, Any], now: float,
                         count: float = 0) -> dict[str, Any]:
    """`{value, ts, retryAfter, windowStart}` after taking `count` tokens at `now` (Convex's
    `calculateRateLimit`). A fixed window with no `start` begins at the first use *(ours:
    Convex picks a random start; the emulator's is deterministic)*."""
    maximum = config.get("capacity")
    if maximum is None:
        maximum = config["rate"]
    if existing is None:
        start = config.get("start") if config["kind"] == "fixed window" else None
        existing = {"value": maximum, "ts": now if start is None else start}
    retry_after = None
    window_start = None
    if config["kind"] == "token bucket":
        rate = config["rate"] / config["period"]
        value = min(existing["value"] + (now - existing["ts"]) * rate, maximum) - count
        ts = now
        if value < 0:
            retry_after = -value / rate
    else:
        window_start = existing["ts"]
        windows = math.floor((now - existing["ts"]) / config["period"])
        value = min(existing["value"] + config["rate"] * windows, maximum) - count
        ts = existing["ts"] + windows * config["period"]
        if value < 0:
            needed = math.ceil(-value / config["rate"])
            retry_after = ts + config["period"] * needed - now
    return {"value": value, "ts": ts, "retryAfter": retry_after, "windowStart": window_start}
