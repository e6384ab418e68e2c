"""A malformed request, answered with a 4xx status and a JSON body in Convex's shape."""

from __future__ import annotations


class RequestError(Exception):
    """A bad request: `status` (4xx), Convex's `code` and a message saying what was wrong."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def body(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self)}


__all__ = ["RequestError"]
