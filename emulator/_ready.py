"""`Ready` for the emulator's ctx objects: the awaitable lives in `convex_py` (HTTP requests use it too)."""

from __future__ import annotations

from convex_py._ready import Ready

__all__ = ["Ready"]
