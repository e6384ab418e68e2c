"""`NonRetryableError`: raised by work to end it at once, failed, whatever its retry behavior
(as `@convex-dev/workpool`'s, a ConvexError carrying a marker, so it survives crossing into the pool)."""

from __future__ import annotations

from typing import Any

from convex_py.errors import ConvexError

MARKER = "__convexWorkpoolNonRetryable"


class NonRetryableError(ConvexError):
    """Raise it from an enqueued action to fail the work now: no retry, `onComplete` gets the message."""

    def __init__(self, message: str) -> None:
        super().__init__({MARKER: True, "message": str(message)})
        self.message = str(message)

    def __str__(self) -> str:
        return self.message


def non_retryable_message(error: Any) -> str | None:
    """The message of a non-retryable error (ours, or any ConvexError whose data carries the marker)."""
    data = getattr(error, "data", None) if isinstance(error, ConvexError) else error
    if isinstance(data, dict) and data.get(MARKER) is True and isinstance(data.get("message"), str):
        return data["message"]
    return None


def is_non_retryable_error(error: Any) -> bool:
    """True for a `NonRetryableError`, or a ConvexError whose data carries its marker."""
    return non_retryable_message(error) is not None


isNonRetryableError = is_non_retryable_error

__all__ = ["NonRetryableError", "isNonRetryableError", "is_non_retryable_error", "non_retryable_message"]
