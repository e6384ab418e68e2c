"""The rate limiter component's folder: `convex_config.py`, `schema.py` and `lib.py`."""
