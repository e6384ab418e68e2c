"""Convex's pagination validators: `pagination_opts_validator` for a paginated query's arguments,
`pagination_result_validator(item)` for what `.paginate()` returns."""

from __future__ import annotations

from typing import Any

from ._validators import ObjectValidator, v

pagination_opts_validator: ObjectValidator = v.object(
    {
        "numItems": v.number(),
        "cursor": v.union(v.string(), v.null()),
        "endCursor": v.optional(v.union(v.string(), v.null())),
        "id": v.optional(v.number()),
        "maximumRowsRead": v.optional(v.number()),
        "maximumBytesRead": v.optional(v.number()),
    }
)
"""The options of `.paginate()`, as Convex's `paginationOptsValidator`: use it in `args=`."""


def pagination_result_validator(item: Any) -> ObjectValidator:
    """A validator of a page of `item`s, as Convex's `paginationResultValidator`."""
    return v.object(
        {
            "page": v.array(item),
            "continueCursor": v.string(),
            "isDone": v.boolean(),
            "splitCursor": v.optional(v.union(v.string(), v.null())),
            "pageStatus": v.optional(v.union(v.literal("SplitRecommended"), v.literal("SplitRequired"), v.null())),
        }
    )
