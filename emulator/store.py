"""The document store: tables, sorted indexes, and transactions with an undo log.

Writes apply in place and record how to undo them; a transaction that fails
replays its undo log backwards. Only one transaction writes at a time (the
runtime serializes them), so readers inside it see its own writes for free and
every index stays a single sorted structure: a range read is O(log n + k).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from itertools import islice
from operator import itemgetter
from typing import Any

from sortedcontainers import SortedList

from convex_py._schema import RESERVED_INDEXES, SchemaDefinition, check_table_name
from convex_py._validators import ObjectValidator
from convex_py._values import (
    MAX_DOCUMENT_SIZE,
    MAX_NESTING,
    SYSTEM_FIELD_CREATION_TIME_SIZE,
    SYSTEM_FIELD_ID_SIZE,
    UNSET,
    Id,
    clone_doc,
    copy_value,
    decode_id,
    flat_size,
    id_text,
    sort_key,
    table_number,
)
from convex_py.errors import (
    DocumentNotFoundError,
    IndexNotFoundError,
    InvalidQueryError,
    InvalidTableError,
    InvalidValueError,
    LimitExceededError,
    SchemaDefinitionError,
    SchemaValidationError,
    ValidationError,
)

from .limits import Limits
from .search import attach_indexes

SYSTEM_TABLES = ("_scheduled_functions", "_crons", "_storage")
JOBS = "_scheduled_functions"
_PENDING_STATE: dict[str, Any] = {"kind": "pending"}  # shared by new job rows (rows never change in place)

# What `_id` (a 32-character id) and `_creationTime` add to a document's size, as Convex counts it.
SYSTEM_FIELDS_SIZE = SYSTEM_FIELD_ID_SIZE + SYSTEM_FIELD_CREATION_TIME_SIZE


class _Max:
    """Sorts after every index key part: the open upper end of a range."""

    __slots__ = ()

    def __lt__(self, other: Any) -> bool:
        return False

    def __gt__(self, other: Any) -> bool:
        return other is not self

    def __le__(self, other: Any) -> bool:
        return other is self

    def __ge__(self, other: Any) -> bool:
        return True

    def __eq__(self, other: Any) -> bool:
        return other is self

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "MAX"


MAX = _Max()


def field_value(doc: dict[str, Any], path: str) -> Any:
    """The value at a dotted field path of a document, or UNSET if absent."""
    if "." not in path:
        return doc.get(path, UNSET)
    value: Any = doc
    for part in path.split("."):
        if type(value) is not dict:
            return UNSET
        value = value.get(part, UNSET)
    return value


class CreationOrderKeys:
    """The keys of a `by_creation_time` index: a plain list, appended to in creation order.

    `_creationTime` only grows within a deployment, so a new document's key always
    sorts last and an insert is an append. Deleting the oldest key (the usual case:
    retention deletes in creation order) blanks it to `()`, which sorts first and
    holds nothing; readers start after the blanks. Any other delete leaves its key
    behind (readers skip keys whose document is gone). The list is compacted when
    blanks or leftovers pass an eighth of it: every operation is O(1) amortized,
    memory stays within an eighth of the live keys, and a range is found by
    bisection, O(log n). Keys that do arrive out of order (restored documents)
    are inserted in place.
    """

    __slots__ = ("_keys", "_docs", "_dead", "_head")

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self._keys: list[tuple[Any, ...]] = []
        self._docs = docs
        self._dead = 0  # leftover keys of deleted documents, past the blanks
        self._head = 0  # blanked keys at the front

    def __len__(self) -> int:
        """How many keys the list holds, including those of deleted documents."""
        return len(self._keys)

    def add(self, key: tuple[Any, ...]) -> None:
        keys = self._keys
        if not keys or key > keys[-1]:
            keys.append(key)
            return
        position = bisect_left(keys, key)
        if position < len(keys) and keys[position] == key:
            self._dead -= 1  # the key of a deleted document, back again (a rolled-back delete)
        else:
            keys.insert(position, key)

    def remove(self, key: tuple[Any, ...]) -> None:
        keys = self._keys
        if keys and keys[-1] == key:
            keys.pop()
            return
        head = self._head
        if head < len(keys) and keys[head] == key:
            keys[head] = ()
            head += 1
            docs = self._docs
            while self._dead and head < len(keys) and keys[head][-1] not in docs:  # leftovers now at the front
                keys[head] = ()
                head += 1
                self._dead -= 1
            self._head = head
            if head > 32 and head * 8 > len(keys):
                del keys[:head]
                self._head = 0
            return
        self._dead += 1
        if self._dead > 32 and self._dead * 8 > len(keys):
            docs = self._docs
            keys[:] = [k for k in keys[self._head:] if k[-1] in docs]  # in place: Table.creation_keys is it
            self._dead = self._head = 0

    def chunk(self, minimum: Any, maximum: Any, inclusive: tuple[bool, bool], reverse: bool,
              size: int) -> list[tuple[Any, ...]]:
        """Up to `size` keys of the range, from its start (its end when `reverse`)."""
        keys = self._keys
        low = 0 if minimum is None else (bisect_left if inclusive[0] else bisect_right)(keys, minimum)
        if low < self._head:  # the blanks of deleted keys (a minimum of `()` finds them too)
            low = self._head
        high = len(keys) if maximum is None else (bisect_right if inclusive[1] else bisect_left)(keys, maximum)
        if reverse:
            part = keys[max(low, high - size):high]
            part.reverse()
            return part
        return keys[low:min(high, low + size)]


class SortedKeys(SortedList):
    """The keys of any other index: a SortedList, O(log n) for every change."""

    def chunk(self, minimum: Any, maximum: Any, inclusive: tuple[bool, bool], reverse: bool,
              size: int) -> list[tuple[Any, ...]]:
        """Up to `size` keys of the range, from its start (its end when `reverse`)."""
        return list(islice(self.irange(minimum, maximum, inclusive, reverse), size))


def _key_of(fields: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """The function making an index's key from a document: (field sort keys..., _creationTime, _id)."""
    key_of: Callable[[dict[str, Any]], tuple[Any, ...]]
    if fields == ("_creationTime",):
        # (d["_creationTime"], d["_id"]), built in C: this runs at every insert.
        key_of = itemgetter("_creationTime", "_id")
    elif fields == ("_id",):
        def key_of(d: dict[str, Any]) -> tuple[Any, ...]:
            return (d["_id"],)
    elif len(fields) == 1 and "." not in fields[0]:
        f = fields[0]

        def key_of(d: dict[str, Any]) -> tuple[Any, ...]:
            return (sort_key(d.get(f, UNSET)), d["_creationTime"], d["_id"])
    else:
        def key_of(d: dict[str, Any]) -> tuple[Any, ...]:
            return tuple(sort_key(field_value(d, f)) for f in fields) + (d["_creationTime"], d["_id"])
    if type(fields) is tuple and len(_KEY_OF) < 4096:
        _KEY_OF[fields] = key_of  # a pure function of the fields: every table's index on them shares it
    return key_of


_KEY_OF: dict[tuple[str, ...], Callable[[dict[str, Any]], tuple[Any, ...]]] = {}


class Index:
    """One sorted index: keys are (field sort keys..., _creationTime, _id)."""

    __slots__ = ("name", "fields", "keys", "key_of", "live")

    def __init__(self, name: str, fields: tuple[str, ...], live: bool = True,
                 docs: dict[str, dict[str, Any]] | None = None) -> None:
        self.name = name
        self.fields = fields
        # An index not maintained yet has no keys: Table.use_index sorts them at its first use.
        self.keys: Any = CreationOrderKeys(docs) if docs is not None else SortedKeys() if live else None
        self.live = live  # False: not maintained until first used (see Table.use_index)
        try:
            self.key_of = _KEY_OF[fields]
        except (KeyError, TypeError):
            self.key_of = _key_of(fields)

    def _part(self, position: int, value: Any) -> Any:
        """The key part at `position`: a sort key for indexed fields, raw for _creationTime and _id."""
        if self.fields == ("_creationTime",) or self.fields == ("_id",) or position >= len(self.fields):
            return value
        return sort_key(value)

    def range_prefix(self, values: list[Any]) -> tuple[Any, ...]:
        """Key prefix for equality on the first len(values) fields (then _creationTime)."""
        return tuple(self._part(i, v) for i, v in enumerate(values))

    def bound_key(self, value: Any, position: int) -> Any:
        """The key part for a range bound on the field at `position`."""
        return self._part(position, value)


def _system_field_mismatch(key: str, value: Any, old: dict[str, Any]) -> InvalidValueError:
    """Convex's error for a patch or replace whose `_id` / `_creationTime` is not the document's own."""
    if key == "_id":
        return InvalidValueError(f'Provided `_id` field value "{value}" does not match the document ID "{old["_id"]}"')
    def number(x: Any) -> Any:  # as JavaScript prints a number: 1700000000000, not 1700000000000.0
        return int(x) if type(x) is float and x.is_integer() else x

    return InvalidValueError(
        f"Provided `_creationTime` field value {number(value)!r} does not match the document's creation time "
        f"{number(old['_creationTime'])!r}"
    )


_BY_CREATION_TIME = ("_creationTime",)
_BY_ID = ("_id",)


class Table:
    """A table's documents (by id) and its indexes."""

    __slots__ = ("name", "number", "docs", "sizes", "indexes", "index_list", "changing_indexes", "validator",
                 "is_system", "dirty", "search_indexes", "live_key", "creation_keys", "other_indexes")

    def __init__(self, name: str, indexes: dict[str, tuple[str, ...]] | None = None, validator: Any = None,
                 live_key: str | None = None) -> None:
        self.name = name
        # What live queries know it by: its name, qualified by its component's path in a component
        # ("counter/counters"), so the app's and a component's tables of one name stay apart.
        self.live_key = name if live_key is None else live_key
        self.number = table_number(name)
        docs: dict[str, dict[str, Any]] = {}
        self.docs = docs
        self.sizes: dict[str, int] = {}
        by_creation_time = Index("by_creation_time", _BY_CREATION_TIME, docs=docs)
        self.indexes: dict[str, Index] = {
            "by_creation_time": by_creation_time,
            # Rarely queried: built on first use, so writes do not pay for it until then.
            "by_id": Index("by_id", _BY_ID, live=False),
        }
        if indexes:
            for index_name, fields in indexes.items():
                self.indexes[index_name] = Index(index_name, fields)
            self.index_list = [index for index in self.indexes.values() if index.live]
            # Indexes whose key can change when a document is replaced (not _creationTime's, not _id's).
            self.changing_indexes = [index for index in self.index_list if index.name != "by_creation_time"]
        else:
            self.index_list = [by_creation_time]
            self.changing_indexes = []
        # The creation-order keys (a new document's key is appended: see add_new), and every other
        # index maintained on insert.
        self.creation_keys: list[tuple[Any, ...]] = by_creation_time.keys._keys
        self.other_indexes = self.index_list[1:]
        self.dirty: set[tuple[str, str]] | None = None  # (table, id) written since the last save, when persisted
        self.validator = validator
        self.is_system = name[:1] == "_"
        self.search_indexes: dict[str, Any] = {}  # search and vector indexes, by name (see emulator.search)

    def add_derived_index(self, name: str, index: Any) -> None:
        """Keep `index` (a search or vector index) current on every write and undo, as the sorted
        indexes are: `index.keys.add(index.key_of(doc))` on insert, `.remove(...)` on delete, both
        when a replace changes the key. Documents already in the table are added now."""
        self.search_indexes[name] = index
        for doc in self.in_creation_order():
            index.keys.add(index.key_of(doc))
        self.index_list.append(index)
        self.other_indexes.append(index)
        self.changing_indexes.append(index)

    def use_index(self, name: str) -> Index:
        """The index called `name`, built now if it was not maintained yet."""
        index = self.indexes[name]
        if not index.live:
            index.keys = SortedKeys(index.key_of(doc) for doc in self.docs.values())
            index.live = True
            self.index_list.append(index)
            self.other_indexes.append(index)
        return index

    def in_creation_order(self) -> list[dict[str, Any]]:
        """Every document of the table, oldest first."""
        docs = self.docs
        keys = self.indexes["by_creation_time"].keys
        keys = keys.chunk(None, None, (True, True), False, len(keys))
        return [docs[key[-1]] for key in keys if key[-1] in docs]

    def add(self, doc: dict[str, Any], size: int) -> None:
        doc_id = doc["_id"]
        if self.dirty is not None:
            self.dirty.add((self.name, doc_id))
        self.docs[doc_id] = doc
        self.sizes[doc_id] = size
        for index in self.index_list:
            index.keys.add(index.key_of(doc))

    def add_new(self, doc_id: str, doc: dict[str, Any], size: int, created: float) -> None:
        """`add` for a document just created (`doc_id` and `created` are its `_id` and
        `_creationTime`): its creation-order key is appended when it is the newest, as it usually is."""
        if self.dirty is not None:
            self.dirty.add((self.name, doc_id))
        self.docs[doc_id] = doc
        self.sizes[doc_id] = size
        keys = self.creation_keys
        key = (created, doc_id)
        if not keys or keys[-1] < key:  # (the last key may be a blank, `()`: it sorts first)
            keys.append(key)
        else:
            self.indexes["by_creation_time"].keys.add(key)
        for index in self.other_indexes:
            index.keys.add(index.key_of(doc))

    def remove(self, doc_id: str) -> None:
        if self.dirty is not None:
            self.dirty.add((self.name, doc_id))
        doc = self.docs.pop(doc_id)
        del self.sizes[doc_id]
        for index in self.index_list:
            index.keys.remove(index.key_of(doc))

    def swap(self, old: dict[str, Any], new: dict[str, Any], size: int) -> None:
        doc_id = new["_id"]
        if self.dirty is not None:
            self.dirty.add((self.name, doc_id))
        self.docs[doc_id] = new
        self.sizes[doc_id] = size
        for index in self.changing_indexes:
            old_key = index.key_of(old)
            new_key = index.key_of(new)
            if old_key != new_key:
                index.keys.remove(old_key)
                index.keys.add(new_key)


class Budget:
    """What one function execution (one transaction) has read, written and scheduled."""

    __slots__ = ("limits", "docs_read", "bytes_read", "index_ranges", "docs_written", "bytes_written",
                 "functions_scheduled", "scheduled_args_bytes", "reads")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        # A live query's read set (emulator.live.ReadSet) while one records, else None: reads
        # note what they touched in it (see Store.get, QueryBuilder._walk).
        self.reads: Any = None
        self.docs_read = 0
        self.bytes_read = 0
        self.index_ranges = 0
        self.docs_written = 0
        self.bytes_written = 0
        self.functions_scheduled = 0
        self.scheduled_args_bytes = 0

    def read(self, size: int) -> None:
        self.docs_read += 1
        self.bytes_read += size
        limits = self.limits
        if self.docs_read > limits.max_documents_read:
            raise LimitExceededError(
                f"Too many documents read in a single function execution (limit: {limits.max_documents_read}). "
                "Consider using smaller limits in your queries, paginating your queries, or using indexed "
                "queries with a selective index range expressions."
            )
        if self.bytes_read > limits.max_bytes_read:
            raise LimitExceededError(
                f"Too many bytes read in a single function execution (limit: {limits.max_bytes_read} bytes). "
                "Consider using smaller limits in your queries, paginating your queries, or using indexed "
                "queries with a selective index range expressions."
            )

    def range_read(self) -> None:
        self.index_ranges += 1
        if self.index_ranges > self.limits.max_index_ranges:
            raise LimitExceededError(
                f"Too many reads in a single function execution (limit: {self.limits.max_index_ranges}). "
                "Consider using smaller limits in your queries, paginating your queries, or using indexed "
                "queries with a selective index range expressions."
            )

    def write(self, size: int) -> None:
        self.docs_written += 1
        self.bytes_written += size
        limits = self.limits
        if self.docs_written > limits.max_documents_written:
            raise LimitExceededError(
                f"Too many writes in a single function execution (limit: {limits.max_documents_written})"
            )
        if self.bytes_written > limits.max_bytes_written:
            raise LimitExceededError(
                f"Too many bytes written in a single function execution (limit: {limits.max_bytes_written} bytes)"
            )


def written(undo: list[tuple[Any, ...]]) -> list[tuple[Table, Any, Any]]:
    """What a transaction's undo log wrote: (table, document before, document after) per
    document, None for absent, read after the writes (an insert then a delete is no write)."""
    first: dict[str, tuple[Table, Any]] = {}
    for entry in undo:
        if entry[0] == "insert":
            doc_id, before = entry[2], None
        else:
            doc_id, before = entry[2]["_id"], entry[2]
        if doc_id not in first:
            first[doc_id] = (entry[1], before)
    out = []
    for doc_id, (table, before) in first.items():
        after = table.docs.get(doc_id)
        if before is not None or after is not None:
            out.append((table, before, after))
    return out


class Store:
    """All tables of a deployment, and the undo log of the transaction under way."""

    # Put before each table's name in its `live_key`: "" in the app, "path/" in a component.
    live_prefix = ""

    def __init__(self, schema: SchemaDefinition | None, limits: Limits, clock: Any) -> None:
        self.schema = schema
        self.limits = limits
        self.clock = clock
        self.tables: dict[str, Table] = {}
        self.tables_by_number: dict[int, Table] = {}
        self._sequence = 0
        self._last_creation_time = -math.inf
        self.dirty: set[tuple[str, str]] | None = None  # set by persistence: what to save next
        self.undo: list[tuple[Any, ...]] | None = None
        # (jobs scheduled before it, hook): run on commit, in the order they were added.
        self.on_commit: list[tuple[int, Callable[[], None]]] = []
        self.on_rollback: list[Callable[[], None]] = []
        # Jobs scheduled by the transaction under way, as (due time, job id or its text): handed to
        # `jobs_committed` on commit, forgotten with their savepoint on rollback.
        self.new_jobs: list[tuple[float, str]] = []
        self.jobs_committed: Callable[[list[tuple[float, str]]], None] | None = None
        # Rows of jobs scheduled by the transaction under way, not in their table yet, as
        # (id text, _creationTime, name, args, scheduledTime): written in one batch when the
        # table is first read in the transaction, at a savepoint, or before it commits.
        self.pending_rows: list[tuple[str, float, str, Any, float]] = []
        self.rows_read = False  # the transaction read `_scheduled_functions`: rows go in at once
        # Live queries (emulator.live) set this while anyone subscribes: it is handed what each
        # commit wrote, as (table, old document or None, new document or None) triples.
        self.write_observer: Callable[[list[tuple[Table, Any, Any]]], None] | None = None
        self.last_commit_ts = 0  # the last commit timestamp handed out (ctx.db.vars.commit_ts), ns
        if schema is not None:
            numbers: dict[int, str] = {}
            for name, definition in schema.tables.items():
                table = self._create_table(
                    name, definition.indexes, definition.validator if schema.schema_validation else None
                )
                attach_indexes(table, definition)
                if table.number in numbers:
                    raise SchemaDefinitionError(f"Tables {numbers[table.number]!r} and {name!r} collide; rename one.")
                numbers[table.number] = name
        for name in SYSTEM_TABLES:
            self._create_table(name, {}, None)
        self._jobs_number = self.tables[JOBS].number

    # --- tables --------------------------------------------------------------

    def _create_table(self, name: str, indexes: dict[str, tuple[str, ...]], validator: Any) -> Table:
        table = Table(name, indexes, validator, self.live_prefix + name if self.live_prefix else None)
        table.dirty = self.dirty
        self.tables[name] = table
        self.tables_by_number[table.number] = table
        return table

    def table(self, name: Any, *, for_write: bool = False) -> Table | None:
        """The table called `name`; None for an unknown table that may still be created."""
        table = self.tables.get(name)
        if table is not None:
            return table
        if type(name) is not str or name.startswith("_"):
            if type(name) is str and name.startswith("_"):
                raise InvalidTableError(f"Table {name!r} is not a system table: user table names cannot start with '_'.")
            raise InvalidTableError(f"Table name must be a string, got {name!r}.")
        # A table the schema does not declare is still writable (strictTableNameTypes is TypeScript-only).
        try:
            check_table_name(name)
        except SchemaDefinitionError as exc:
            raise InvalidTableError(str(exc)) from None
        if not for_write:
            return None
        return self._create_table(name, {}, None)

    def table_of_id(self, doc_id: str) -> Table | None:
        if type(doc_id) is Id:
            return self.tables.get(doc_id.table)
        decoded = decode_id(doc_id) if isinstance(doc_id, str) else None
        if decoded is None:
            return None
        return self.tables_by_number.get(decoded[0])

    def index(self, table: Table | None, table_name: str, index_name: str) -> Index | None:
        if table is None:
            if index_name in RESERVED_INDEXES:
                return None
            raise IndexNotFoundError(f"Index {table_name}.{index_name} not found.")
        index = table.indexes.get(index_name)
        if index is None:
            if index_name in table.search_indexes:
                raise InvalidQueryError(f"Index {table_name}.{index_name} is not a database index")
            definition = self.schema.tables.get(table_name) if self.schema is not None else None
            if definition is not None and index_name in definition.staged_indexes:
                raise IndexNotFoundError(
                    f"Index {table_name}.{index_name} is currently staged and not available to query until it is "
                    "enabled."
                )
            available = ", ".join(table.indexes)
            raise IndexNotFoundError(f"Index {table_name}.{index_name} not found (indexes: {available}).")
        return index

    # --- commit timestamps (ctx.db.vars.commit_ts, ctx.meta.get_snapshot_ts) ------------

    def snapshot_ts(self) -> int:
        """The timestamp a transaction reads at: at or after every commit timestamp handed out,
        before the one its own commit will get (nanoseconds since the epoch)."""
        return max(self.last_commit_ts, self._now_ns() - 1)

    def next_commit_ts(self) -> int:
        """A commit timestamp for the transaction committing now: later than every earlier one."""
        ts = max(self.last_commit_ts + 1, self._now_ns())
        self.last_commit_ts = ts
        return ts

    def _now_ns(self) -> int:
        now = self.clock.now
        whole = int(now)
        return whole * 1_000_000 + round((now - whole) * 1_000_000)

    # --- transactions ----------------------------------------------------------

    def begin(self) -> None:
        # Outside a transaction on_commit, on_rollback, new_jobs and pending_rows are empty lists
        # (commit and rollback leave them so): only the undo log is new.
        self.undo = []
        self.rows_read = False

    def savepoint(self) -> tuple[int, int, int, int]:
        assert self.undo is not None
        if self.pending_rows:
            self.write_pending_rows()  # so a rollback to this point drops exactly the rows after it
        return (len(self.undo), len(self.on_commit), len(self.on_rollback), len(self.new_jobs))

    def rollback_to(self, point: tuple[int, int, int, int]) -> None:
        undo = self.undo
        assert undo is not None
        mark, commit_mark, rollback_mark, jobs_mark = point
        while len(undo) > mark:
            entry = undo.pop()
            kind, table = entry[0], entry[1]
            if kind == "insert":
                table.remove(entry[2])
            elif kind == "update":
                current = table.docs[entry[2]["_id"]]
                table.swap(current, entry[2], entry[3])
            else:  # delete
                table.add(entry[2], entry[3])
        del self.on_commit[commit_mark:]
        del self.new_jobs[jobs_mark:]
        self.pending_rows = []  # all scheduled after the newest savepoint, so after this one
        hooks = self.on_rollback[rollback_mark:]
        del self.on_rollback[rollback_mark:]
        for hook in reversed(hooks):
            hook()

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` if the transaction under way commits (dropped with its savepoint otherwise);
        at once when no transaction is under way (what it follows is already done)."""
        if self.undo is None:
            hook()
            return
        self.on_commit.append((len(self.new_jobs), hook))

    def commit(self) -> None:
        """End the transaction: hand over its jobs and run its hooks, in the order they came."""
        if self.pending_rows:
            self.write_pending_rows()
        undo = self.undo
        self.undo = None
        if self.on_rollback:
            self.on_rollback = []
        hooks = self.on_commit
        if hooks:
            self.on_commit = []
        jobs = self.new_jobs
        if jobs:
            self.new_jobs = []
        # Jobs are handed over in order with the hooks: each hook sees the jobs scheduled before it.
        handover = self.jobs_committed if jobs else None
        handed = 0
        for jobs_before, hook in hooks:
            if handover is not None and jobs_before > handed:
                handover(jobs[handed:jobs_before])
                handed = jobs_before
            hook()
        if handover is not None and len(jobs) > handed:
            handover(jobs[handed:] if handed else jobs)
        if self.write_observer is not None and undo:
            self.write_observer(written(undo))

    def rollback(self) -> None:
        if self.undo is not None:
            self.rollback_to((0, 0, 0, 0))
        self.undo = None
        self.on_commit = []
        self.on_rollback = []
        self.new_jobs = []
        self.pending_rows = []

    # --- writes ------------------------------------------------------------------

    def _new_key(self, table_name: str, number: int) -> str:
        """A new document's id text; its `_creationTime` is `_last_creation_time` then: the clock's
        time, or a thousandth of a millisecond after the last one handed out (they only grow)."""
        self._sequence += 1
        now = float(self.clock.now)
        last = self._last_creation_time
        if now <= last:
            now = last + 0.001
            if now <= last:  # float precision at this magnitude
                now = float.__add__(last, max(abs(last) * 2.3e-16, 1e-9))
        self._last_creation_time = now
        return id_text(table_name, self._sequence, number)

    def _checked(self, table: Table, value: Any, what: str) -> tuple[dict[str, Any], int]:
        """Validate a document body against the schema and Convex's value rules; return (copy, size)."""
        if type(value) is not dict:
            raise InvalidValueError(f"{what} into table {table.name!r} expects a dict document, got {type(value).__name__}.")
        validator = table.validator
        if validator is not None:
            if type(validator) is ObjectValidator:
                checked = validator.sized(value)  # validated, copied and sized in one pass
                if checked is not None and checked[1] <= MAX_DOCUMENT_SIZE:
                    return checked
            try:
                value = validator.validate(value)
            except ValidationError as exc:
                raise SchemaValidationError(
                    f"Failed to insert or update a document in table \"{table.name}\" because it does not match "
                    f"the schema: {exc}",
                    path=exc.path, value=exc.value, expected=exc.expected,
                ) from None
            if type(validator) is ObjectValidator:
                # Its result is a new dict: when flat (known field names, scalars) it is the copy.
                size = flat_size(value)
                if 0 <= size <= MAX_DOCUMENT_SIZE:
                    return value, size
        else:
            size = flat_size(value)  # a flat dict: sized in one pass, copied shallowly
            if 0 <= size <= MAX_DOCUMENT_SIZE:
                return dict(value), size
        body, size = copy_value(value, "", 0, True, MAX_NESTING)
        if size > MAX_DOCUMENT_SIZE:
            raise InvalidValueError(
                f"Value is too large ({size} bytes > maximum size {MAX_DOCUMENT_SIZE} bytes) "
                f"for a document in table {table.name!r}."
            )
        return body, size

    def insert(self, table: Table, value: Any, budget: Budget) -> Id:
        body, size = self._checked(table, value, "insert")
        body["_id"] = key = self._new_key(table.name, table.number)  # a plain str: see clone_doc
        body["_creationTime"] = now = self._last_creation_time
        size += SYSTEM_FIELDS_SIZE
        budget.write(size)
        table.add_new(key, body, size, now)
        self.undo.append(("insert", table, key))  # type: ignore[union-attr]  # (in a transaction)
        return str.__new__(Id, key)

    def insert_system(self, table_name: str, body: dict[str, Any]) -> Id:
        """Insert into a system table (no schema, no budget): job and cron rows, in the
        transaction under way if there is one."""
        table = self.tables[table_name]
        body["_id"] = key = self._new_key(table_name, table.number)
        body["_creationTime"] = now = self._last_creation_time
        table.add_new(key, body, 100, now)
        if self.undo is not None:
            self.undo.append(("insert", table, key))
        elif self.write_observer is not None:
            self.write_observer([(table, None, body)])
        return str.__new__(Id, key)

    def insert_job(self, name: str, args: Any, when: float) -> Id:
        """A pending job's row in `_scheduled_functions`, in the transaction under way; returns its Id.

        Its id and `_creationTime` are taken now; the row itself waits in `pending_rows` (a
        mutation scheduling many jobs writes them in one batch) unless the table was read. The
        job goes to `new_jobs`, handed to the scheduler on commit.
        """
        key = self._new_key(JOBS, self._jobs_number)
        now = self._last_creation_time
        self.pending_rows.append((key, now, name, args, when))
        if self.rows_read:
            self.write_pending_rows()
        # The queue holds the plain id text (an Id is made again when the job runs): the garbage
        # collector stops tracking (due time, text) pairs, and the caller's Id may die with its value.
        self.new_jobs.append((when, key))
        return str.__new__(Id, key)

    def write_pending_rows(self) -> None:
        """Put the pending job rows into their table (undoable, as any insert of the transaction)."""
        rows = self.pending_rows
        self.pending_rows = []
        table = self.tables[JOBS]
        undo: Any = self.undo  # (in a transaction)
        add = table.add_new
        for key, created, name, args, when in rows:
            add(key, {"name": name, "args": [args], "scheduledTime": when, "state": _PENDING_STATE,
                      "_id": key, "_creationTime": created}, 100, created)
            undo.append(("insert", table, key))

    def read_jobs(self) -> None:
        """The transaction reads `_scheduled_functions`: its pending rows go in, and later ones at once."""
        if self.undo is not None:
            self.rows_read = True
            if self.pending_rows:
                self.write_pending_rows()

    def update_system(self, table_name: str, doc_id: str, changes: dict[str, Any]) -> None:
        table = self.tables[table_name]
        old = table.docs[doc_id]
        new = dict(old)
        new.update(changes)
        table.swap(old, new, 100)
        if self.undo is not None:
            self.undo.append(("update", table, old, 100))
        elif self.write_observer is not None:
            self.write_observer([(table, old, new)])

    def delete_system(self, table_name: str, doc_id: str) -> None:
        table = self.tables[table_name]
        old = table.docs.get(doc_id)
        if old is None:
            return
        table.remove(doc_id)
        if self.undo is not None:
            self.undo.append(("delete", table, old, 100))
        elif self.write_observer is not None:
            self.write_observer([(table, old, None)])

    def _existing(self, table: Table, doc_id: str, what: str) -> dict[str, Any]:
        doc = table.docs.get(doc_id)
        if doc is None:
            raise DocumentNotFoundError(f"{what} on nonexistent document ID {doc_id}")
        return doc

    def patch(self, table: Table, doc_id: str, fields: Any, budget: Budget) -> None:
        old = self._existing(table, doc_id, "Patch")
        if type(fields) is not dict:
            raise InvalidValueError(f"patch expects a dict of fields, got {type(fields).__name__}.")
        merged = {k: v for k, v in old.items() if k != "_id" and k != "_creationTime"}
        for key, value in fields.items():
            if key == "_id" or key == "_creationTime":
                if value is UNSET or value == old[key]:
                    continue
                raise _system_field_mismatch(key, value, old)
            if value is UNSET:
                merged.pop(key, None)
            else:
                merged[key] = value
        self._write_over(table, old, merged, budget, "patch")

    def replace(self, table: Table, doc_id: str, value: Any, budget: Budget) -> None:
        old = self._existing(table, doc_id, "Replace")
        if type(value) is not dict:
            raise InvalidValueError(f"replace expects a dict document, got {type(value).__name__}.")
        body = {}
        for key, item in value.items():
            if key == "_id" or key == "_creationTime":
                if item is UNSET or item == old[key]:
                    continue
                raise _system_field_mismatch(key, item, old)
            body[key] = item
        self._write_over(table, old, body, budget, "replace")

    def _write_over(self, table: Table, old: dict[str, Any], body: dict[str, Any], budget: Budget, what: str) -> None:
        new, size = self._checked(table, body, what)
        new["_id"] = old["_id"]
        new["_creationTime"] = old["_creationTime"]
        size += SYSTEM_FIELDS_SIZE
        budget.write(size)
        old_size = table.sizes[old["_id"]]
        table.swap(old, new, size)
        assert self.undo is not None
        self.undo.append(("update", table, old, old_size))

    def delete(self, table: Table, doc_id: str, budget: Budget) -> None:
        old = self._existing(table, doc_id, "Delete")
        size = table.sizes[doc_id]
        budget.write(size)
        table.remove(doc_id)
        assert self.undo is not None
        self.undo.append(("delete", table, old, size))

    # --- reads -----------------------------------------------------------------

    def get(self, table: Table, doc_id: str, budget: Budget) -> dict[str, Any] | None:
        budget.range_read()
        if budget.reads is not None:
            budget.reads.get(table.live_key, doc_id)
        doc = table.docs.get(doc_id)
        if doc is None:
            return None
        budget.read(table.sizes[doc_id])
        return clone_doc(doc)

    def scan(
        self,
        index: Index,
        docs: dict[str, dict[str, Any]],
        minimum: tuple[Any, ...] | None,
        maximum: tuple[Any, ...] | None,
        inclusive: tuple[bool, bool],
        reverse: bool,
        batch: int = 16,
    ) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Walk an index range lazily: (key, stored document) in index order.

        Keys are taken in small batches, each found again by bisection, so a caller
        may write to the table between steps without upsetting the walk.
        """
        keys = index.keys
        while True:
            chunk = keys.chunk(minimum, maximum, inclusive, reverse, batch)
            for key in chunk:
                doc = docs.get(key[-1])
                if doc is not None:
                    yield key, doc
            if len(chunk) < batch:
                return
            if reverse:
                maximum, inclusive = chunk[-1], (inclusive[0], False)
            else:
                minimum, inclusive = chunk[-1], (False, inclusive[1])
            batch = min(batch * 4, 1024)
