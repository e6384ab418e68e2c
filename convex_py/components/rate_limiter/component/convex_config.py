"""The rate limiter component (install with `app.use(rate_limiter)`; `components.rate_limiter`
and `components.rateLimiter`, the name `@convex-dev/rate-limiter` installs under, both reach it)."""

from __future__ import annotations

from convex_py import define_component

rate_limiter = define_component("rate_limiter")
rate_limiter.aliases = ("rateLimiter",)
rateLimiter = rate_limiter  # `import rateLimiter from "@convex-dev/rate-limiter/convex.config"`
