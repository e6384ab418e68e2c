"""`ctx.meta`: what a running function can learn about itself, its transaction and its deployment.

The members are Convex's (`getFunctionMetadata`, `getTransactionMetrics`,
`getDeploymentMetadata`, `getRequestMetadata`, `getSnapshotTs`), each on the
kinds of function Convex gives it; with an `async def` handler they are awaited,
except `get_snapshot_ts`, which Convex makes synchronous.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convex_py._components import current_component
from convex_py._ready import Ready
from convex_py.errors import UnsupportedInFunctionError

from ._aliases import with_camel_case_aliases
from .nested_limits import FIELDS

if TYPE_CHECKING:
    from convex_py._functions import ConvexFunction

    from .store import Budget

# Convex's mock deployment (convex-test) reports this name; local and self-hosted ones have no region.
DEPLOYMENT = {"name": "test", "region": None, "class": "s16"}


def function_metadata(path: str, fn: "ConvexFunction", component: str = "") -> dict[str, Any]:
    """`{name, componentPath, type, visibility}` as Convex reports them (`component`: the path of
    the component the function belongs to, "" for the app's own)."""
    if path.startswith("<"):  # an inline test function (t.run / t.query(lambda ctx: ...))
        return {"name": "inline", "componentPath": "", "type": fn.kind, "visibility": "public"}
    name = path
    if name.endswith(":default"):  # Convex strips a default export's name (and the module's .js)
        name = name[: -len(":default")]
    return {"name": name, "componentPath": component, "type": fn.kind, "visibility": fn.visibility}


def transaction_metrics(budget: "Budget") -> dict[str, Any]:
    """Each limit's `{used, remaining}` for the transaction so far (nested calls see their own caps)."""
    limits = budget.limits
    out = {}
    for name in sorted(FIELDS):
        field, counter = FIELDS[name]
        used = getattr(budget, counter)
        out[name] = {"used": used, "remaining": getattr(limits, field) - used}
    return out


class RequestInfo:
    """What `get_request_metadata` reports, shared by a call and every function it calls."""

    __slots__ = ("request_id", "scheduled_function_id")

    def __init__(self, request_id: str, scheduled_function_id: Any = None) -> None:
        self.request_id = request_id
        self.scheduled_function_id = scheduled_function_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "ip": None,
            "userAgent": None,
            "requestId": self.request_id,
            "scheduledFunctionId": self.scheduled_function_id,
            "authToken": None,
        }


@with_camel_case_aliases
class ActionMeta:
    """`ctx.meta` of an action."""

    __slots__ = ("_path", "_fn", "_request", "_async", "_component")

    def __init__(self, path: str, fn: "ConvexFunction", request: Any, is_async: bool) -> None:
        self._path = path
        self._fn = fn
        self._request = request  # a RequestInfo, or a function making it on first use
        self._async = is_async
        node = current_component.get()  # made while the action runs: its component's node
        self._component = "" if node is None else node.path

    def _ret(self, value: Any) -> Any:
        return Ready(value) if self._async else value

    def get_function_metadata(self) -> Any:
        """`{"name", "componentPath", "type", "visibility"}` of the running function."""
        return self._ret(function_metadata(self._path, self._fn, self._component))

    def get_deployment_metadata(self) -> Any:
        """`{"name", "region", "class"}` of the deployment."""
        return self._ret(dict(DEPLOYMENT))

    def get_request_metadata(self) -> Any:
        """`{"ip", "userAgent", "requestId", "scheduledFunctionId", "authToken"}` of the call."""
        request = self._request
        if not isinstance(request, RequestInfo):
            request = self._request = request()
        return self._ret(request.as_dict())

    def get_transaction_metrics(self) -> Any:
        raise UnsupportedInFunctionError(
            "getTransactionMetrics() can only be called from a query or mutation. "
            "It is not available in actions or outside of a Convex function."
        )


@with_camel_case_aliases
class QueryMeta(ActionMeta):
    """`ctx.meta` of a query (and, with request metadata, of a mutation)."""

    __slots__ = ("_tx",)

    def __init__(self, path: str, fn: "ConvexFunction", tx: Any, is_async: bool) -> None:
        super().__init__(path, fn, None, is_async)
        self._tx = tx
        self._component = tx.runtime.component_path

    def get_transaction_metrics(self) -> Any:
        """Documents, bytes, index ranges and scheduled functions used so far, and what remains of each."""
        self._tx.check_open()
        return self._ret(transaction_metrics(self._tx))

    def get_snapshot_ts(self) -> int:
        """The database timestamp this transaction reads at (nanoseconds; not awaited, as in Convex)."""
        return self._tx.store.snapshot_ts()

    def get_request_metadata(self) -> Any:
        if not self._fn.kind == "mutation":
            raise UnsupportedInFunctionError(f"Cannot get request metadata in a {self._fn.kind}")
        self._request = self._tx.request_info()
        return super().get_request_metadata()
