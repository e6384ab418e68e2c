"""Convex's newer database API: `ctx.db.table("t")` scoped to one table, and `ctx.db.vars.commit_ts`.

`ctx.db.table("messages").get(id)` is `ctx.db.get("messages", id)`: the id must
belong to that table. A commit timestamp written with `ctx.db.vars.commit_ts`
becomes, when the mutation commits, an int64 that grows with commit order (on
the same clock as `ctx.meta.get_snapshot_ts()`, in nanoseconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convex_py._values import COMMIT_TS

from ._aliases import with_camel_case_aliases

if TYPE_CHECKING:
    from .store import Store


@with_camel_case_aliases
class TableReader:
    """`ctx.db.table(name)` in a query."""

    __slots__ = ("_db", "_name")

    def __init__(self, db: Any, name: str) -> None:
        self._db = db
        self._name = name

    def get(self, doc_id: Any) -> Any:
        """The document of this table with this id, or None."""
        return self._db.get(self._name, doc_id)

    def query(self) -> Any:
        """A query over this table."""
        return self._db.query(self._name)

    def __repr__(self) -> str:
        return f"ctx.db.table({self._name!r})"


@with_camel_case_aliases
class TableWriter(TableReader):
    """`ctx.db.table(name)` in a mutation: reads and writes of one table."""

    __slots__ = ()

    def insert(self, value: Any) -> Any:
        """Insert a document into this table; returns its new Id."""
        return self._db.insert(self._name, value)

    def patch(self, doc_id: Any, value: Any) -> Any:
        """Merge top-level fields into a document of this table."""
        return self._db.patch(self._name, doc_id, value)

    def replace(self, doc_id: Any, value: Any) -> Any:
        """Replace a document of this table, keeping `_id` and `_creationTime`."""
        return self._db.replace(self._name, doc_id, value)

    def delete(self, doc_id: Any) -> Any:
        """Delete a document of this table."""
        return self._db.delete(self._name, doc_id)


# --- Commit timestamps ------------------------------------------------------------------


def _has_placeholder(value: Any) -> bool:
    if value is COMMIT_TS:
        return True
    if type(value) is dict:
        return any(_has_placeholder(v) for v in value.values())
    if type(value) is list:
        return any(_has_placeholder(v) for v in value)
    return False


def _resolved(value: Any, ts: int) -> Any:
    if value is COMMIT_TS:
        return ts
    if type(value) is dict:
        return {k: _resolved(v, ts) for k, v in value.items()}
    if type(value) is list:
        return [_resolved(v, ts) for v in value]
    return value


def resolve_commit_ts(store: "Store", undo: list[tuple[Any, ...]]) -> None:
    """After a commit: give the documents it wrote the commit timestamp where they hold the placeholder."""
    ts: int | None = None
    seen: set[Any] = set()
    for entry in undo:
        kind, table = entry[0], entry[1]
        if kind == "insert":
            doc_id = entry[2]
        elif kind == "update":
            doc_id = entry[2]["_id"]
        else:
            continue
        if doc_id in seen:
            continue
        seen.add(doc_id)
        doc = table.docs.get(doc_id)
        if doc is None or not _has_placeholder(doc):
            continue
        if ts is None:
            ts = store.next_commit_ts()
        table.swap(doc, _resolved(doc, ts), table.sizes[doc_id])


class Vars:
    """`ctx.db.vars`: `commit_ts` (alias `commitTs`), resolved when the mutation commits."""

    __slots__ = ("_store",)

    def __init__(self, store: "Store") -> None:
        self._store = store

    @property
    def commit_ts(self) -> Any:
        store = self._store
        undo = store.undo
        if undo is not None:
            store.after_commit(lambda: resolve_commit_ts(store, undo))
        return COMMIT_TS

    commitTs = commit_ts
