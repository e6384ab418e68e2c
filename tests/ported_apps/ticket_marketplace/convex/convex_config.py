"""The app installs the rate limiter (convex.config.ts)."""

from convex_py import define_app
from convex_py.components.rate_limiter import rate_limiter

app = define_app()
app.use(rate_limiter)
