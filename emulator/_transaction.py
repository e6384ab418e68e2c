"""One query's or mutation's transaction, below the runtime: what ctx objects, queries and the scheduler hold.

It lives apart from `runtime` so that the layers the runtime calls (context,
query, scheduler) can name it without importing the runtime back.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from convex_py.errors import ConvexPyError, LimitExceededError

from .limits import Limits
from .store import Budget, Store

if TYPE_CHECKING:
    from .meta import RequestInfo

# The real monotonic clock, held where freezegun's module scan cannot swap it: the only
# use of real time in the emulator is the optional limit on how long user code runs.
_REAL_CLOCK = (time.monotonic,)


def deadline_after(seconds: float | None) -> float | None:
    return None if seconds is None else _REAL_CLOCK[0]() + seconds


def check_deadline(deadline: float | None, seconds: float | None) -> None:
    if deadline is not None and _REAL_CLOCK[0]() > deadline:
        raise LimitExceededError(f"Function execution timed out (maximum duration: {seconds:g}s)")


class Runner(Protocol):
    """What the layers below the runtime see of it (`emulator.runtime.Runtime` is one)."""

    store: Store
    limits: Limits
    lock: Any
    runtime_crons: Any
    scheduler: Any  # what makes ctx.scheduler objects (`facade(tx, job_id, is_async)`), or None

    def nested_query(self, ref: Any, args: Any, identity: Any, tx: "Transaction") -> Any: ...

    def nested_mutation(self, ref: Any, args: Any, identity: Any, tx: "Transaction") -> Any: ...

    def call(self, kind: str, ref: Any, args: Any, identity: Any) -> Any: ...

    def action_coroutine(self, ref: Any, args: Any, identity: Any) -> Any: ...

    def scheduler_for(self, tx: "Transaction | None", job_id: Any, is_async: bool) -> Any: ...

    def new_request(self, scheduled_function_id: Any = None) -> "RequestInfo": ...


class Transaction(Budget):
    """One top-level query or mutation: its budget (it is one), and whether it is still running."""

    __slots__ = ("store", "writable", "open", "runtime", "deadline", "paginated", "function", "request")

    def __init__(self, runtime: Runner, writable: bool) -> None:
        limits = runtime.limits
        Budget.__init__(self, limits)
        self.runtime = runtime
        self.store = runtime.store
        self.writable = writable
        self.open = True
        timeout = limits.query_mutation_timeout
        self.deadline = None if timeout is None else deadline_after(timeout)
        self.paginated = False  # this function execution ran its one `.paginate()`
        self.function: Any = None  # (path, fn) of the function running in it (nested calls: the innermost)
        self.request: "RequestInfo | None" = None  # made on first use (ctx.meta.get_request_metadata)

    def request_info(self) -> "RequestInfo":
        request = self.request
        if request is None:
            request = self.request = self.runtime.new_request()
        return request

    def check_open(self) -> None:
        if self.deadline is not None:
            check_deadline(self.deadline, self.runtime.limits.query_mutation_timeout)
        if not self.open:
            raise ConvexPyError(
                "This ctx belongs to a function that has already returned; ctx objects cannot be used after "
                "their function finishes."
            )
