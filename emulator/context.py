"""The ctx objects handed to handlers: `ctx.db`, `ctx.auth`, `ctx.scheduler`, `ctx.run_*`.

One class per role, shared by sync and async handlers: with an `async def`
handler every method returns an awaitable (`Ready`), otherwise the value itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convex_py._ready import Ready
from convex_py._values import Id, as_id, decode_id
from convex_py.errors import DocumentNotFoundError, InvalidIdError, InvalidTableError, ReadOnlyError

from ._aliases import with_camel_case_aliases
from .meta import ActionMeta, QueryMeta
from .nested_limits import budgets, call_options, merged
from .query import QueryBuilder, as_number, float_field
from .search import vector_search
from .table_scope import TableReader, TableWriter, Vars

if TYPE_CHECKING:
    from ._transaction import Runner, Transaction


def _ret(is_async: bool, value: Any) -> Any:
    return Ready(value) if is_async else value


@with_camel_case_aliases
class Auth:
    """`ctx.auth`: who is calling."""

    __slots__ = ("_identity", "_async")

    def __init__(self, identity: dict[str, Any] | None, is_async: bool) -> None:
        self._identity = identity
        self._async = is_async

    def get_user_identity(self) -> Any:
        """The caller's identity (`subject`, `issuer`, `tokenIdentifier`, ...) or None."""
        identity = self._identity
        return _ret(self._async, None if identity is None else dict(identity))


@with_camel_case_aliases
class DatabaseReader:
    """`ctx.db` in a query: reads only."""

    __slots__ = ("_tx", "_async", "_system")

    _role = "a query"

    def __init__(self, tx: "Transaction", is_async: bool) -> None:
        self._tx = tx
        self._async = is_async
        self._system: SystemReader | None = None

    def _doc_table(self, args: tuple[Any, ...], method: str, system: bool = False) -> tuple[Any, str]:
        """Accept `(id)` or Convex's newer `(table, id)` form; return (table, id)."""
        if len(args) == 2:
            table_name, doc_id = args
            if not isinstance(doc_id, str):
                raise InvalidIdError(f"db.{method}: expected an Id, got {doc_id!r}")
            table = self._tx.store.table(table_name) if not system else self._tx.store.tables.get(table_name)
            if as_id(doc_id, table_name) is None:
                actual = self._tx.store.table_of_id(doc_id)
                if actual is None:
                    raise InvalidIdError(f"db.{method}: Invalid argument `id`, expected ID value but got '{doc_id}'")
                raise InvalidIdError(  # Convex's words
                    f"db.{method}: Invalid argument `id`, expected ID in table '{table_name}' "
                    f"but got ID in table '{actual.name}'"
                )
            return table, doc_id
        if len(args) != 1:
            raise TypeError(f"db.{method} takes an id (or a table name and an id), got {len(args)} arguments")
        doc_id = args[0]
        if not isinstance(doc_id, str):
            raise InvalidIdError(f"db.{method}: expected an Id, got {doc_id!r}")
        table = self._tx.store.table_of_id(doc_id)
        if table is None:
            if isinstance(doc_id, Id) or as_id(doc_id, "_scheduled_functions") is None and _looks_like_id(doc_id):
                return None, doc_id
            raise InvalidIdError(f"db.{method}: Unable to decode ID {doc_id!r}: not an ID of any table")
        if table.is_system != system:
            if system:
                raise InvalidIdError(f"db.system.{method}: {doc_id!r} is an ID of user table {table.name!r}; use ctx.db.{method}.")
            raise InvalidIdError(
                f"db.{method}: {doc_id!r} is an ID of the system table {table.name!r}; read it with ctx.db.system.{method}."
            )
        return table, doc_id

    def get(self, *args: Any) -> Any:
        """The document with this id, or None."""
        tx = self._tx
        tx.check_open()
        table, doc_id = self._doc_table(args, "get")
        doc = None if table is None else tx.store.get(table, doc_id, tx)
        return _ret(self._async, doc)

    def query(self, table_name: str) -> QueryBuilder:
        """A query over a table, in `_creationTime` order unless an index says otherwise."""
        tx = self._tx
        tx.check_open()
        if isinstance(table_name, str) and table_name.startswith("_"):
            raise InvalidTableError(f"{table_name!r} is a system table: query it with ctx.db.system.query.")
        table = tx.store.table(table_name)
        return QueryBuilder(tx, table_name, table, self._async, False)

    def normalize_id(self, table_name: str, id_string: str) -> Any:
        """`id_string` as an Id of `table_name`, or None if it is not one (not awaited: Convex's
        `normalizeId` is synchronous)."""
        self._tx.store.table(table_name)
        return as_id(id_string, table_name)

    def table(self, table_name: str) -> Any:
        """The database scoped to one table: `ctx.db.table("t").get(id)`, `.query()`, ..."""
        if isinstance(table_name, str) and table_name.startswith("_"):
            raise InvalidTableError(f"{table_name!r} is a system table: read it with ctx.db.system.")
        self._tx.store.table(table_name)  # checks the name
        return (TableWriter if isinstance(self, DatabaseWriter) else TableReader)(self, table_name)

    @property
    def system(self) -> "SystemReader":
        """Read-only access to system tables (`_scheduled_functions`, `_storage`)."""
        if self._system is None:
            self._system = SystemReader(self._tx, self._async)
        return self._system

    def _read_only(self, method: str) -> Any:
        raise ReadOnlyError(f"ctx.db.{method} is not allowed in {self._role}: queries are read-only; use a mutation to write.")

    def insert(self, table: str, value: Any) -> Any:
        return self._read_only("insert")

    def patch(self, *args: Any) -> Any:
        return self._read_only("patch")

    def replace(self, *args: Any) -> Any:
        return self._read_only("replace")

    def delete(self, *args: Any) -> Any:
        return self._read_only("delete")


def _looks_like_id(value: str) -> bool:
    return decode_id(value) is not None


@with_camel_case_aliases
class DatabaseWriter(DatabaseReader):
    """`ctx.db` in a mutation: reads and writes, all in the mutation's transaction."""

    __slots__ = ()

    def insert(self, table_name: str, value: Any) -> Any:
        """Insert a document; returns its new Id."""
        tx = self._tx
        if not tx.open or tx.deadline is not None:
            tx.check_open()
        if isinstance(table_name, str) and table_name.startswith("_"):
            raise InvalidTableError(f"Cannot write to system table {table_name!r}.")
        store = tx.store
        doc_id = store.insert(store.table(table_name, for_write=True), value, tx)
        return Ready(doc_id) if self._async else doc_id

    def _write_target(self, args: tuple[Any, ...], method: str) -> tuple[Any, str, Any]:
        if len(args) == 3:
            table, doc_id = self._doc_table(args[:2], method)
            value = args[2]
        elif len(args) == 2:
            table, doc_id = self._doc_table(args[:1], method)
            value = args[1]
        else:
            raise TypeError(f"db.{method} takes (id, value) or (table, id, value)")
        if table is None:
            raise DocumentNotFoundError(f"{method.capitalize()} on nonexistent document ID {doc_id}")
        return table, doc_id, value

    def patch(self, *args: Any) -> Any:
        """Merge top-level fields into a document (`UNSET` removes a field)."""
        tx = self._tx
        tx.check_open()
        table, doc_id, value = self._write_target(args, "patch")
        tx.store.patch(table, doc_id, value, tx)
        return _ret(self._async, None)

    def replace(self, *args: Any) -> Any:
        """Replace a document's fields, keeping `_id` and `_creationTime`."""
        tx = self._tx
        tx.check_open()
        table, doc_id, value = self._write_target(args, "replace")
        tx.store.replace(table, doc_id, value, tx)
        return _ret(self._async, None)

    def delete(self, *args: Any) -> Any:
        """Delete a document."""
        tx = self._tx
        tx.check_open()
        table, doc_id = self._doc_table(args, "delete")
        if table is None:
            raise DocumentNotFoundError(f"Delete on nonexistent document ID {doc_id}")
        tx.store.delete(table, doc_id, tx)
        return _ret(self._async, None)

    @property
    def vars(self) -> Vars:
        """Values known only when the mutation commits: `ctx.db.vars.commit_ts`."""
        tx = self._tx
        tx.check_open()
        return Vars(tx.store)


@with_camel_case_aliases
class SystemReader:
    """`ctx.db.system`: read-only access to system tables."""

    __slots__ = ("_tx", "_async")

    def __init__(self, tx: "Transaction", is_async: bool) -> None:
        self._tx = tx
        self._async = is_async

    def get(self, *args: Any) -> Any:
        tx = self._tx
        tx.check_open()
        tx.store.read_jobs()  # the jobs this transaction scheduled are in their table from now on
        table, doc_id = DatabaseReader._doc_table(self, args, "get", system=True)  # type: ignore[arg-type]
        doc = None if table is None else tx.store.get(table, doc_id, tx)
        return _ret(self._async, doc)

    def query(self, table_name: str) -> QueryBuilder:
        tx = self._tx
        tx.check_open()
        table = tx.store.tables.get(table_name) if isinstance(table_name, str) else None
        if table is None or not table.is_system:
            raise InvalidTableError(f"{table_name!r} is not a system table (system tables: _scheduled_functions, _storage).")
        tx.store.read_jobs()  # the jobs this transaction scheduled are in their table from now on
        return QueryBuilder(tx, table_name, table, self._async, True)

    def normalize_id(self, table_name: str, id_string: str) -> Any:
        return as_id(id_string, table_name)  # synchronous, as Convex's


@with_camel_case_aliases
class _TransactionCtx:
    """What the ctx of a query and of a mutation share: one transaction, `db`, made-on-use members."""

    __slots__ = ("db", "auth", "meta", "storage", "_runtime", "_tx", "_identity", "_async", "_scheduler")

    _db_class: Any = DatabaseReader
    _role = "a query"
    _writes = False  # a query run from a mutation shares its transaction, not its right to write

    def __init__(self, runtime: "Runner", tx: "Transaction", identity: Any, is_async: bool) -> None:
        self._runtime = runtime
        self._tx = tx
        self._identity = identity
        self._async = is_async
        self.db = self._db_class(tx, is_async)  # built here: nearly every function uses it
        self._scheduler: Any = None

    @property
    def _runtime_crons(self) -> Any:
        """The backend of `convex_py.crons.Crons` for this function."""
        return self._runtime.runtime_crons.backend(self._tx, self._writes)

    def _wrap_result(self, value: Any) -> Any:
        return _ret(self._async, value)

    def _run_directly(self, fn: Any, args: Any) -> Any:
        """A registered function called as `fn(ctx, args)`: its handler, in this same transaction."""
        ctx = self if fn.is_async == self._async else type(self)(self._runtime, self._tx, self._identity, fn.is_async)
        return _direct_result(self._async, fn, fn.handler(ctx, args))

    def __getattr__(self, name: str) -> Any:
        # Other members are made on first use, then kept in their slot.
        if name == "auth":
            self.auth = auth = Auth(self._identity, self._async)
            return auth
        if name == "storage":  # get_url in a query; also generate_upload_url and delete in a mutation
            self.storage = storage = self._runtime.storage.facade(self._tx, self._writes, self._async)
            return storage
        return self._member(name)

    def _member(self, name: str) -> Any:
        if name == "meta":  # function, transaction, deployment and request metadata
            path, fn = self._tx.function
            self.meta = meta = QueryMeta(path, fn, self._tx, self._async)
            return meta
        raise AttributeError(_missing_member(name, self._role))

    def run_query(self, ref: Any, args: Any = None, options: Any = None, *, transaction_limits: Any = None) -> Any:
        """Run a query in this same transaction (the same snapshot), as a function execution of its own.

        `transaction_limits={"documentsRead": 100, ...}` (or Convex's options
        `{"transactionLimits": {...}}`) caps what the query may use.
        """
        if options is not None:
            transaction_limits = call_options("ctx.run_query", options, transaction_limits, stale_allowed=self._writes)
        return _ret(self._async, self._runtime.nested_call("query", ref, args, self._identity, self._tx,
                                                           transaction_limits))


@with_camel_case_aliases
class QueryCtx(_TransactionCtx):
    """The ctx of a query: `db` (reads only), `auth`, `meta` and `run_query`."""

    __slots__ = ()


@with_camel_case_aliases
class MutationCtx(_TransactionCtx):
    """The ctx of a mutation: reads, writes and scheduling (`scheduler`), all in one transaction."""

    __slots__ = ()

    _db_class = DatabaseWriter
    _role = "a mutation"
    _writes = True

    @property
    def scheduler(self) -> Any:
        """Schedule functions; its jobs commit or vanish with this mutation."""
        scheduler = self._scheduler
        if scheduler is None:
            backend = self._runtime.scheduler
            if backend is None:  # a runtime without a scheduler: scheduler_for says so
                return self._runtime.scheduler_for(self._tx, None, self._async)
            scheduler = self._scheduler = backend.facade(self._tx, None, self._async)
        return scheduler

    def _member(self, name: str) -> Any:
        if name == "scheduler":  # only when `scheduler` failed (a runtime without one): its error
            return self._runtime.scheduler_for(self._tx, None, self._async)
        return super()._member(name)

    def run_mutation(self, ref: Any, args: Any = None, options: Any = None, *, transaction_limits: Any = None) -> Any:
        """Run a mutation nested in this transaction; if it raises, only its own writes roll back.

        `transaction_limits=` caps what it may read, write and schedule, as Convex's `transactionLimits`.
        """
        if options is not None:
            transaction_limits = call_options("ctx.run_mutation", options, transaction_limits, stale_allowed=False)
        return _ret(self._async, self._runtime.nested_call("mutation", ref, args, self._identity, self._tx,
                                                           transaction_limits))


@with_camel_case_aliases
class ActionCtx:
    """The ctx of an action: no database; each run_* call is its own transaction."""

    __slots__ = ("auth", "_runtime", "_identity", "_async", "_scheduler", "_job_id", "_function", "_limits",
                 "_request", "_meta", "_storage")

    def __init__(self, runtime: "Runner", identity: Any, is_async: bool, job_id: Any = None) -> None:
        self._runtime = runtime
        self._identity = identity
        self._async = is_async
        self.auth = Auth(identity, is_async)
        self._scheduler: Any = None
        self._job_id = job_id
        self._function: Any = None
        self._limits: dict[str, int] | None = None
        self._request: Any = None
        self._meta: Any = None
        self._storage: Any = None

    def _setup(self, path: str, fn: Any, limits: dict[str, int] | None, request: Any) -> None:
        """The running action (for ctx.meta), the limits its transactions inherit, its request."""
        self._function = (path, fn)
        self._limits = limits
        self._request = request

    def _request_info(self) -> Any:
        request = self._request
        if request is None:
            request = self._request = self._runtime.new_request(self._job_id)
        return request

    def _call_limits(self, method: str, options: Any, transaction_limits: Any) -> dict[str, int] | None:
        if options is not None:
            transaction_limits = call_options(method, options, transaction_limits, stale_allowed=False)
        if transaction_limits is None:
            return self._limits
        return merged(self._limits, budgets(method, transaction_limits))

    @property
    def meta(self) -> Any:
        """`ctx.meta`: function, deployment and request metadata."""
        if self._meta is None:
            path, fn = self._function
            self._meta = ActionMeta(path, fn, self._request_info, self._async)
        return self._meta

    @property
    def scheduler(self) -> Any:
        """Schedule functions at once (they survive the action failing)."""
        if self._scheduler is None:
            self._scheduler = self._runtime.scheduler_for(None, self._job_id, self._async)
        return self._scheduler

    @property
    def storage(self) -> Any:
        """Files: store, get, get_url, delete, generate_upload_url, each at once."""
        if self._storage is None:
            self._storage = self._runtime.storage.facade(None, True, self._async)
        return self._storage

    def run_query(self, ref: Any, args: Any = None, options: Any = None, *, transaction_limits: Any = None) -> Any:
        """Run a query in its own transaction (`transaction_limits=` caps it)."""
        limits = self._call_limits("ctx.run_query", options, transaction_limits)
        return _ret(self._async, self._runtime.call("query", ref, args, self._identity, limits, self._request_info()))

    def run_mutation(self, ref: Any, args: Any = None, options: Any = None, *, transaction_limits: Any = None) -> Any:
        """Run a mutation in its own transaction (`transaction_limits=` caps it)."""
        limits = self._call_limits("ctx.run_mutation", options, transaction_limits)
        return _ret(self._async, self._runtime.call("mutation", ref, args, self._identity, limits,
                                                    self._request_info()))

    def vector_search(self, table_name: str, index_name: str, query: dict[str, Any]) -> Any:
        """The documents nearest `query["vector"]` in a vector index: [{"_id", "_score"}], best first."""
        runtime = self._runtime
        schema = runtime.store.schema
        definition = schema.tables.get(table_name) if schema is not None and isinstance(table_name, str) else None
        validator = None if definition is None or not schema.schema_validation else definition.validator

        def normalize(field: str, value: Any) -> Any:
            if type(value) is int and validator is not None:
                return as_number(value, float_field(validator, field))
            return value

        with runtime.lock:  # a consistent snapshot: no mutation is halfway through its writes
            results = vector_search(runtime.store, table_name, index_name, query, normalize)
        return _ret(self._async, results)

    def run_action(self, ref: Any, args: Any = None, options: Any = None, *, transaction_limits: Any = None) -> Any:
        """Run another action (awaitable in an async action); `transaction_limits=` caps every
        query and mutation it runs."""
        limits = self._call_limits("ctx.run_action", options, transaction_limits)
        if self._async:
            return self._runtime.action_coroutine(ref, args, self._identity, limits, self._request_info())
        return self._runtime.call("action", ref, args, self._identity, limits, self._request_info())

    def _run_directly(self, fn: Any, args: Any) -> Any:
        """A registered function called as `fn(ctx, args)`: its handler, with this action's ctx."""
        ctx = self
        if fn.is_async != self._async:
            ctx = ActionCtx(self._runtime, self._identity, fn.is_async, self._job_id)
            ctx._setup(*self._function, self._limits, self._request_info())
        return _direct_result(self._async, fn, fn.handler(ctx, args))

    def __getattr__(self, name: str) -> Any:
        if name == "db":
            raise AttributeError(
                "ctx.db is not available in actions: read and write through ctx.run_query / ctx.run_mutation."
            )
        raise AttributeError(_missing_member(name, "an action"))


def _direct_result(caller_async: bool, fn: Any, result: Any) -> Any:
    """What a direct call returns: awaitable for an `async def` caller (or handler), else the value."""
    if caller_async and not fn.is_async:
        return Ready(result)
    return result


def _missing_member(name: str, role: str) -> str:
    return f"ctx.{name} is not available in {role}."
