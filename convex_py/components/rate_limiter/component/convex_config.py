"""The rate limiter component (install with `app.use(rate_limiter)`)."""

from convex_py import define_component

rate_limiter = define_component("rate_limiter")
