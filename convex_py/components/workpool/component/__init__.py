"""The work pool component's folder: `convex_config.py`, `schema.py`, `lib.py` and `worker.py`."""
