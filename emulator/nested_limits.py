"""`transaction_limits=` of nested calls: Convex's `transactionLimits` option, as per-call budgets.

Convex's backend reads each given field as what the nested call may use on top
of what the transaction has used so far, capped by the limits already in force:
a nested call can only lower limits, never raise them, and once it returns the
caller's own limits apply again.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from convex_py.errors import InvalidArgumentError

from .limits import Limits

if TYPE_CHECKING:
    from .store import Budget

# Convex's name -> (our Limits field, the Budget counter it caps).
FIELDS: dict[str, tuple[str, str]] = {
    "bytesRead": ("max_bytes_read", "bytes_read"),
    "bytesWritten": ("max_bytes_written", "bytes_written"),
    "databaseQueries": ("max_index_ranges", "index_ranges"),
    "documentsRead": ("max_documents_read", "docs_read"),
    "documentsWritten": ("max_documents_written", "docs_written"),
    "functionsScheduled": ("max_functions_scheduled", "functions_scheduled"),
    "scheduledFunctionArgsBytes": ("max_scheduled_args_bytes", "scheduled_args_bytes"),
}
_SNAKE = {
    "bytes_read": "bytesRead",
    "bytes_written": "bytesWritten",
    "database_queries": "databaseQueries",
    "documents_read": "documentsRead",
    "documents_written": "documentsWritten",
    "functions_scheduled": "functionsScheduled",
    "scheduled_function_args_bytes": "scheduledFunctionArgsBytes",
}
_FILES = ("filesWritten", "fileWriteBytes", "filesRead", "fileReadBytes")


def call_options(method: str, options: Any, transaction_limits: Any, *, stale_allowed: bool) -> Any:
    """The `transactionLimits` of a nested call, from Convex's options dict or the keyword."""
    if options is not None:
        if type(options) is not dict:
            raise InvalidArgumentError(
                f"{method}: the third argument is Convex's options object, e.g. "
                f"{{\"transactionLimits\": {{\"documentsRead\": 100}}}}; got {options!r}"
            )
        unknown = set(options) - {"transactionLimits", "useStaleSnapshot"}
        if unknown:
            raise InvalidArgumentError(
                f"{method}: unknown option {sorted(unknown)[0]!r} (options: transactionLimits, useStaleSnapshot)"
            )
        if options.get("useStaleSnapshot") and not stale_allowed:
            raise InvalidArgumentError("`useStaleSnapshot` is only supported in mutations, not queries.")
        if "transactionLimits" in options:
            if transaction_limits is not None:
                raise InvalidArgumentError(f"{method}: give transactionLimits once (options or transaction_limits=)")
            transaction_limits = options["transactionLimits"]
    return transaction_limits


def budgets(method: str, transaction_limits: Any) -> dict[str, int]:
    """Checked budgets by Convex field name."""
    if type(transaction_limits) is not dict:
        raise InvalidArgumentError(
            f"{method}: transaction_limits must be a dict like {{\"documentsRead\": 100}}, got {transaction_limits!r}"
        )
    out: dict[str, int] = {}
    for name, value in transaction_limits.items():
        key = _SNAKE.get(name, name)
        if key not in FIELDS:
            if key in _FILES:
                raise InvalidArgumentError(
                    f"{method}: transaction limit {name!r} is about file storage, which convex-py does not have."
                )
            raise InvalidArgumentError(
                f"{method}: unknown transaction limit {name!r} (limits: {', '.join(FIELDS)})"
            )
        if value is None:
            continue
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is not int or value < 0:
            raise InvalidArgumentError(
                f"{method}: transaction limit {name!r} must be a non-negative integer, got {value!r}"
            )
        out[key] = value
    return out


def capped(budget: "Budget", given: dict[str, int]) -> Limits:
    """The limits in force during a nested call: each at most what is used so far plus its budget."""
    limits = budget.limits
    changes = {}
    for name, extra in given.items():
        field, counter = FIELDS[name]
        ceiling = getattr(limits, field)
        changes[field] = min(getattr(budget, counter) + extra, ceiling)
    return dataclasses.replace(limits, **changes) if changes else limits


def merged(outer: dict[str, int] | None, inner: dict[str, int] | None) -> dict[str, int] | None:
    """The tighter of two budgets, field by field (an action's budget inside another's)."""
    if not outer:
        return inner or outer
    if not inner:
        return outer
    out = dict(outer)
    for name, value in inner.items():
        out[name] = min(out.get(name, value), value)
    return out
