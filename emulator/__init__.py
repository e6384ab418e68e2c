"""The convex-py backend: a Convex deployment in memory, on a virtual clock."""

from . import _app_imports  # noqa: F401  (tests can import `convex.<module>` of an app)
from ._emulator import ConvexEmulator
from .clock import ClockError
from .limits import Limits
from .live import Subscription

__all__ = ["ClockError", "ConvexEmulator", "Limits", "Subscription"]
