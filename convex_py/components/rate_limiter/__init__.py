"""A rate limiter component, as `@convex-dev/rate-limiter`: token bucket and fixed window limits,
per key, transactional (a limit taken in a mutation that fails is given back).

    # convex/convex_config.py
    from convex_py import define_app
    from convex_py.components.rate_limiter import rate_limiter
    app = define_app(); app.use(rate_limiter)

    # convex/messages.py
    from convex_py import components
    from convex_py.components.rate_limiter import MINUTE, RateLimiter
    limiter = RateLimiter(components.rate_limiter, {
        "sendMessage": {"kind": "token bucket", "rate": 10, "period": MINUTE, "capacity": 3},
    })
    ... limiter.limit(ctx, "sendMessage", key=user_id)   # -> {"ok": True} or {"ok": False, "retryAfter": ms}
"""

from __future__ import annotations

from typing import Any

from ._shared import DAY, HOUR, MINUTE, SECOND, WEEK, calculate_rate_limit
from .component.convex_config import rateLimiter, rate_limiter

_OPTIONS = ("key", "count", "reserve", "throws", "config")


class RateLimiter:
    """The client: named limits (configs as Convex's, `period` in ms) over one installed component."""

    def __init__(self, component: Any, limits: dict[str, dict[str, Any]] | None = None) -> None:
        self.component = component  # `components.rate_limiter` (or the name it was installed under)
        self.limits = dict(limits or {})

    def _args(self, name: str, options: dict[str, Any] | None, kwargs: dict[str, Any],
              method: str) -> dict[str, Any]:
        merged = {**(options or {}), **{k: v for k, v in kwargs.items() if v is not None}}
        unknown = set(merged) - set(_OPTIONS)
        if unknown:
            raise TypeError(f"RateLimiter.{method}: unknown options {sorted(unknown)} (known: {', '.join(_OPTIONS)})")
        config = merged.get("config") or self.limits.get(name)
        if config is None:
            raise ValueError(
                f"RateLimiter.{method}: no rate limit named {name!r} (defined: {', '.join(self.limits) or 'none'}); "
                "define it in RateLimiter(...) or pass config=."
            )
        args = {"name": name, "config": config}
        for option in ("key", "count", "reserve", "throws"):
            if merged.get(option) is not None:
                args[option] = merged[option]
        return args

    def limit(self, ctx: Any, name: str, options: dict[str, Any] | None = None, *, key: str | None = None,
              count: float | None = None, reserve: bool | None = None, throws: bool | None = None,
              config: dict[str, Any] | None = None) -> Any:
        """Take `count` (1) tokens, in the caller's transaction: `{"ok": True}` (with `retryAfter` when
        reserved ahead) or `{"ok": False, "retryAfter": ms}`; with `throws=True` a refusal raises
        `ConvexError({"kind": "RateLimited", "name", "retryAfter"})`. From a mutation or an action."""
        args = self._args(name, options, {"key": key, "count": count, "reserve": reserve, "throws": throws,
                                          "config": config}, "limit")
        return ctx.run_mutation(self.component.lib.rate_limit, args)

    def check(self, ctx: Any, name: str, options: dict[str, Any] | None = None, *, key: str | None = None,
              count: float | None = None, reserve: bool | None = None, throws: bool | None = None,
              config: dict[str, Any] | None = None) -> Any:
        """What `limit` would answer, taking nothing (also from a query)."""
        args = self._args(name, options, {"key": key, "count": count, "reserve": reserve, "throws": throws,
                                          "config": config}, "check")
        return ctx.run_query(self.component.lib.check_rate_limit, args)

    def reset(self, ctx: Any, name: str, options: dict[str, Any] | None = None, *, key: str | None = None) -> Any:
        """Start the limit over (full capacity) for `key` (or the shared one)."""
        key = (options or {}).get("key", key)
        args: dict[str, Any] = {"name": name}
        if key is not None:
            args["key"] = key
        return ctx.run_mutation(self.component.lib.reset_rate_limit, args)

    def get_value(self, ctx: Any, name: str, options: dict[str, Any] | None = None, *,
                  key: str | None = None, config: dict[str, Any] | None = None) -> Any:
        """`{"value", "ts", "shard", "config"}`: the tokens left as last computed, and when."""
        args = self._args(name, options, {"key": key, "config": config}, "get_value")
        return ctx.run_query(self.component.lib.get_value, args)

    getValue = get_value


__all__ = ["DAY", "HOUR", "MINUTE", "RateLimiter", "SECOND", "WEEK", "calculate_rate_limit", "rateLimiter", "rate_limiter"]
