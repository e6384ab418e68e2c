"""The rate limiter's functions: take tokens (`rate_limit`), look without taking
(`check_rate_limit`), start over (`reset_rate_limit`), read the state (`get_value`)."""

from __future__ import annotations

import time
from typing import Any

from convex_py import UNSET, ConvexError, mutation, query, v
from convex_py.components.rate_limiter._shared import (
    calculate_rate_limit,
    config_validator,
    rate_limit_args,
    rate_limit_returns,
)


def _with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    out = dict(config)
    out["shards"] = 1  # one shard: exact limits (sharding only trades exactness for throughput)
    if out.get("capacity") is None:
        out["capacity"] = out["rate"]
    return out


def _row(ctx: Any, name: str, key: str | None) -> dict[str, Any] | None:
    key = UNSET if key is None else key  # no key: the row without one (a missing field, not null)
    return ctx.db.query("rateLimits").with_index(
        "name", lambda q: q.eq("name", name).eq("key", key).eq("shard", 0)
    ).unique()


def _evaluate(ctx: Any, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """(status, existing row, new state) of a request; raises for an impossible or refused one."""
    config = _with_defaults(args["config"])
    count = args.get("count", 1)
    name = args["name"]
    if count > config["capacity"] and not (args.get("reserve") and (
            config.get("maxReserved") is None or count <= config["capacity"] + config["maxReserved"])):
        limit = config["capacity"] + config["maxReserved"] if args.get("reserve") else config["capacity"]
        raise ValueError(f"Rate limit {name} count {count:g} exceeds {limit:g}.")
    existing = _row(ctx, name, args.get("key"))
    state = calculate_rate_limit(existing, config, time.time() * 1000, count)
    value, retry_after = state["value"], state["retryAfter"]
    if value < 0 and (not args.get("reserve") or (config.get("maxReserved") is not None
                                                  and -value > config["maxReserved"])):
        status: dict[str, Any] = {"ok": False, "retryAfter": retry_after}
        if args.get("throws"):
            raise ConvexError({"kind": "RateLimited", "name": name, "retryAfter": retry_after})
    else:
        status = {"ok": True} if retry_after is None else {"ok": True, "retryAfter": retry_after}
    return status, existing, state


@mutation(args=rate_limit_args, returns=rate_limit_returns)
def rate_limit(ctx, args):
    status, existing, state = _evaluate(ctx, args)
    if status["ok"]:
        if existing is not None:
            ctx.db.patch(existing["_id"], {"value": state["value"], "ts": state["ts"]})
        else:
            row = {"name": args["name"], "shard": 0, "value": state["value"], "ts": state["ts"]}
            if args.get("key") is not None:
                row["key"] = args["key"]
            ctx.db.insert("rateLimits", row)
    return status


@query(args=rate_limit_args, returns=rate_limit_returns)
def check_rate_limit(ctx, args):
    return _evaluate(ctx, args)[0]


@mutation(args={"name": v.string(), "key": v.optional(v.string())}, returns=v.null())
def reset_rate_limit(ctx, args):
    for row in ctx.db.query("rateLimits").with_index(
        "name", lambda q: q.eq("name", args["name"]).eq("key", args.get("key", UNSET))
    ).collect():
        ctx.db.delete(row["_id"])


@query(args={"name": v.string(), "key": v.optional(v.string()), "config": config_validator,
             "sampleShards": v.optional(v.number())})
def get_value(ctx, args):
    config = _with_defaults(args["config"])
    existing = _row(ctx, args["name"], args.get("key"))
    state = {"value": config["capacity"], "ts": 0} if existing is None else existing
    if config["kind"] == "fixed window" and config.get("start") is None and existing is not None:
        config["start"] = existing["ts"]
    return {"value": state["value"], "ts": state["ts"], "shard": 0, "config": config}
