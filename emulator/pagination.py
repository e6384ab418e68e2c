"""`.paginate(options)` as Convex runs it: cursors, end cursors, read caps and page splits.

A page walks one index range from just after `cursor`, counting the rows it
reads before filters. It stops when it has `numItems` results, when the range
ends, at `endCursor` (inclusive, ignoring `numItems` and the read caps, as
Convex's reactive pagination refetches a page), or when `maximumRowsRead` /
`maximumBytesRead` (or the transaction's read limits) run out: then the page
is `SplitRequired` and `continueCursor` points just after the last row read,
so a loop that follows `continueCursor` (or splits at `splitCursor`) visits
every document exactly once. A page that read over three quarters of a cap is
`SplitRecommended`. `pageStatus` and `splitCursor` appear only on such pages.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from convex_py._values import clone_doc
from convex_py.errors import InvalidQueryError, LimitExceededError

from ._filters import passes

END_CURSOR = "_end"

# Convex's backend: at most one `.paginate()` per query or mutation execution.
MULTIPLE_PAGINATED_QUERIES = (
    "This query or mutation function ran multiple paginated queries. Convex only supports "
    "a single paginated query in each function."
)
# A page longer than 3/4 of the longest array (8192) should be split (Convex's SOFT_MAX_PAGE_LEN).
SOFT_MAX_PAGE_LEN = 8192 * 3 // 4


def soft_limit(hard: int) -> int:
    """Three quarters of a limit: past it, Convex recommends splitting the page."""
    return hard * 3 // 4


# --- Cursors ---------------------------------------------------------------------------


def _encode_part(part: Any) -> Any:
    if type(part) is tuple:
        return [_encode_part(p) for p in part]
    if type(part) is bytes:
        return {"b": base64.b64encode(part).decode()}
    if type(part) is float and part != part:
        return {"nan": 1}
    return part


def _decode_part(part: Any) -> Any:
    if type(part) is list:
        return tuple(_decode_part(p) for p in part)
    if type(part) is dict:
        if "b" in part:
            return base64.b64decode(part["b"])
        return float("nan")
    return part


def encode_cursor(key: tuple[Any, ...], index_name: str) -> str:
    payload = json.dumps([index_name, _encode_part(key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode()


def decode_cursor(cursor: str, index_name: str) -> tuple[Any, ...]:
    try:
        name, key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        decoded = _decode_part(key)
    except (ValueError, TypeError, AttributeError):
        raise InvalidQueryError(f"Invalid cursor {cursor[:40]!r}: pass a continueCursor from an earlier page.") from None
    if name != index_name or type(decoded) is not tuple:
        raise InvalidQueryError(
            "This cursor belongs to a different query (another index); paginate the same query it came from."
        )
    return decoded


# --- Options -------------------------------------------------------------------------------


def _count(options: dict[str, Any], name: str) -> int | None:
    """An optional positive count option (`maximumRowsRead`, `maximumBytesRead`)."""
    value = options.get(name)
    if value is None:
        return None
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int or value < 0:
        raise InvalidQueryError(f"paginate: `options.{name}` must be a positive integer. Received `{value!r}`.")
    if value == 0:
        raise InvalidQueryError("maximumRowsRead and maximumBytesRead must be greater than 0")
    return value


def _num_items(options: dict[str, Any], max_rows: int) -> int:
    num_items = options["numItems"]
    if type(num_items) is float and num_items.is_integer() and num_items >= 0:
        num_items = int(num_items)
    if type(num_items) is not int or num_items < 0:
        raise InvalidQueryError(f"`options.numItems` must be a positive number. Received `{num_items!r}`.")
    if num_items == 0:
        raise InvalidQueryError("Must request at least 1 document while paginating")
    if num_items > max_rows:
        raise InvalidQueryError(f"Requested too many items: {num_items}")
    return num_items


def _cursor(options: dict[str, Any], name: str, index_name: str) -> Any:
    """None (no cursor), END_CURSOR, or the decoded index key."""
    cursor = options.get(name)
    if cursor is None or cursor == END_CURSOR:
        return cursor
    if not isinstance(cursor, str):
        raise InvalidQueryError(f"paginate: `options.{name}` must be None or a string cursor, got {cursor!r}")
    return decode_cursor(cursor, index_name)


# --- The page ------------------------------------------------------------------------------------


def paginate(query: Any, options: Any) -> dict[str, Any]:
    """One page of `query` (see the module docstring for Convex's rules)."""
    if type(options) is not dict or "numItems" not in options:
        raise InvalidQueryError(
            "paginate expects {\"numItems\": n, \"cursor\": None or a continueCursor}, got " + repr(options)
        )
    tx = query._tx
    tx.check_open()
    limits = tx.limits
    num_items = _num_items(options, limits.max_documents_read)
    max_rows = _count(options, "maximumRowsRead")
    max_bytes = _count(options, "maximumBytesRead")
    index_name = query._index_name or "by_creation_time"
    start = _cursor(options, "cursor", index_name)
    end = _cursor(options, "endCursor", index_name)
    if tx.paginated:
        raise InvalidQueryError(MULTIPLE_PAGINATED_QUERIES)
    tx.paginated = True

    has_end = end is not None
    if query._search is not None:  # Convex does not cap search queries' reads
        max_rows = max_bytes = None
    page: list[dict[str, Any]] = []
    positions: list[tuple[Any, ...]] = []  # the key of each row read, in order
    rows = 0
    read_bytes = 0
    status = None
    exhausted = start == END_CURSOR
    if not exhausted:
        table, items = query._range_walk(start, None if end == END_CURSOR else end)
        sizes = table.sizes if table is not None else {}
        filters = query._filters
        enforce = not has_end  # an end cursor fixes the page: read all of it
        while True:
            if not has_end and len(page) >= num_items:
                break
            if enforce and max_bytes is not None and read_bytes >= max_bytes:
                status = "SplitRequired"
                break
            item = next(items, None)
            if item is None:
                exhausted = True
                break
            if enforce and max_rows is not None and rows >= max_rows:
                status = "SplitRequired"
                break
            key, doc = item
            size = sizes[doc["_id"]]
            try:
                tx.read(size)
            except LimitExceededError:
                if not positions:
                    raise
                status = "SplitRequired"  # Convex's pagination limits: the page ends early instead
                break
            rows += 1
            read_bytes += size
            positions.append(key)
            if filters and not passes(filters, doc):
                continue
            page.append(clone_doc(doc))
        if status is None and not exhausted and not has_end and next(items, None) is None:
            exhausted = True  # the page ended with the range: it is the last one

    if has_end:  # the page is fixed: it ends at the end cursor, even when split
        continue_cursor, is_done = options["endCursor"], end == END_CURSOR
    elif exhausted:
        continue_cursor, is_done = END_CURSOR, True
    else:
        last = positions[-1] if positions else start
        continue_cursor, is_done = encode_cursor(last, index_name), False
    if status is None and (
        rows > soft_limit(min(max_rows or limits.max_documents_read, limits.max_documents_read))
        or read_bytes > soft_limit(min(max_bytes or limits.max_bytes_read, limits.max_bytes_read))
        or len(page) > SOFT_MAX_PAGE_LEN
    ):
        status = "SplitRecommended"
    result: dict[str, Any] = {"page": page, "isDone": is_done, "continueCursor": continue_cursor}
    if status is not None:
        result["pageStatus"] = status
        result["splitCursor"] = encode_cursor(positions[len(positions) // 2], index_name) if len(positions) > 2 else None
    return result
