"""The query builder: `ctx.db.query(table).with_index(...).order(...).filter(...).collect()`.

Index ranges follow Convex's rules (equalities on an index prefix, then at most
one lower and one upper bound on the next field) and become a single bisected
walk of the sorted index. Filters are expressions built with `q.field(...)`,
compared with Convex's ordering across types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import takewhile
from typing import TYPE_CHECKING, Any

from convex_py._ready import Ready
from convex_py._values import Id, clone_doc, sort_key
from convex_py.errors import InvalidQueryError, InvalidValueError, NotUniqueError

from ._filters import passes
from .pagination import paginate
from .search import text_search
from .store import MAX, Index, field_value

if TYPE_CHECKING:
    from ._transaction import Transaction


# --- Numbers: Python ints against v.number() fields ---------------------------------


def float_field(validator: Any, path: str) -> bool:
    """True if the schema stores this field as a float64 (`v.number()`) and never as an int64.

    Python writes `1` where JavaScript writes a float, so a query comparing such a
    field with an int means the number, not Convex's distinct int64 type.
    """
    from convex_py._validators import (
        AnyValidator,
        Int64Validator,
        NumberValidator,
        ObjectValidator,
        OptionalValidator,
        concrete_validators,
    )

    node = validator
    for part in path.split("."):
        while isinstance(node, OptionalValidator):
            node = node.inner
        if not isinstance(node, ObjectValidator) or part not in node.fields:
            return False
        node = node.fields[part]
    kinds = concrete_validators(node)
    return any(isinstance(k, NumberValidator) for k in kinds) and not any(
        isinstance(k, (Int64Validator, AnyValidator)) for k in kinds
    )


def as_number(value: Any, is_float_field: bool) -> Any:
    return float(value) if is_float_field and type(value) is int else value


# --- Index ranges --------------------------------------------------------------


class IndexRangeBuilder:
    """The `q` of `with_index(name, lambda q: q.eq(...).gt(...))`."""

    __slots__ = ("_index_name", "_fields", "_eqs", "_lower", "_upper", "_bound_field", "_validator")

    def __init__(self, index_name: str, fields: tuple[str, ...], validator: Any = None) -> None:
        self._index_name = index_name
        self._fields = fields
        self._validator = validator
        self._eqs: list[Any] = []
        self._lower: tuple[str, Any] | None = None
        self._upper: tuple[str, Any] | None = None
        self._bound_field: str | None = None

    def _expect_next(self, op: str, field: str) -> None:
        position = len(self._eqs)
        if position >= len(self._fields):
            raise InvalidQueryError(
                f"Index range on {self._index_name}: `{op}(\"{field}\")` comes after every field of the index "
                f"({', '.join(self._fields)}) already has an equality."
            )
        expected = self._fields[position]
        if field != expected:
            if field in self._fields:
                raise InvalidQueryError(
                    f"Index range on {self._index_name}: `{op}(\"{field}\")` is out of order; the next field "
                    f"of the index is \"{expected}\" (fields: {', '.join(self._fields)}). "
                    "Equalities must cover a prefix of the index fields, in order, before any range bound."
                )
            raise InvalidQueryError(
                f"Index range on {self._index_name}: \"{field}\" is not a field of the index "
                f"(fields: {', '.join(self._fields)})."
            )

    def eq(self, field: str, value: Any) -> "IndexRangeBuilder":
        if self._lower is not None or self._upper is not None:
            raise InvalidQueryError(
                f"Index range on {self._index_name}: `eq(\"{field}\")` after a range bound; "
                "equalities must come before gt/gte/lt/lte."
            )
        self._expect_next("eq", field)
        _check_value(value, f"eq(\"{field}\")")
        self._eqs.append(self._number(field, value))
        return self

    def _bound(self, op: str, field: str, value: Any, lower: bool) -> "IndexRangeBuilder":
        if self._bound_field is None:
            self._expect_next(op, field)
            self._bound_field = field
        elif field != self._bound_field:
            raise InvalidQueryError(
                f"Index range on {self._index_name}: `{op}(\"{field}\")`; range bounds must all be on "
                f"the same field (\"{self._bound_field}\")."
            )
        if lower:
            if self._lower is not None:
                raise InvalidQueryError(f"Index range on {self._index_name}: only one lower bound (gt/gte) is allowed.")
            _check_value(value, f"{op}(\"{field}\")")
            self._lower = (op, self._number(field, value))
        else:
            if self._upper is not None:
                raise InvalidQueryError(f"Index range on {self._index_name}: only one upper bound (lt/lte) is allowed.")
            _check_value(value, f"{op}(\"{field}\")")
            self._upper = (op, self._number(field, value))
        return self

    def _number(self, field: str, value: Any) -> Any:
        if field == "_creationTime":
            return float(value) if type(value) is int else value
        if type(value) is int and self._validator is not None:
            return as_number(value, float_field(self._validator, field))
        return value

    def gt(self, field: str, value: Any) -> "IndexRangeBuilder":
        return self._bound("gt", field, value, True)

    def gte(self, field: str, value: Any) -> "IndexRangeBuilder":
        return self._bound("gte", field, value, True)

    def lt(self, field: str, value: Any) -> "IndexRangeBuilder":
        return self._bound("lt", field, value, False)

    def lte(self, field: str, value: Any) -> "IndexRangeBuilder":
        return self._bound("lte", field, value, False)

    def bounds(self, index: Index) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """(minimum, maximum) keys, both inclusive, for a walk of `index`."""
        prefix = index.range_prefix(self._eqs)
        position = len(self._eqs)
        if self._lower is None:
            minimum = prefix
        else:
            op, value = self._lower
            key = index.bound_key(value, position)
            minimum = prefix + (key,) if op == "gte" else prefix + (key, MAX)
        if self._upper is None:
            maximum = prefix + (MAX,)
        else:
            op, value = self._upper
            key = index.bound_key(value, position)
            maximum = prefix + (key, MAX) if op == "lte" else prefix + (key,)
        return minimum, maximum


def whole_count(value: Any, message: str) -> int:
    """A count given as Convex gives numbers (a whole-number float is fine) as an int, or raise."""
    if type(value) is float and value >= 0 and value.is_integer():
        return int(value)
    raise InvalidQueryError(f"{message}. Received `{value!r}`.")


def _check_value(value: Any, where: str) -> None:
    try:
        sort_key(value)
    except InvalidValueError as exc:
        raise InvalidQueryError(f"{where}: {exc}") from None


# --- Filter expressions ----------------------------------------------------------


class Expression:
    """A filter expression: evaluates against a document."""

    __slots__ = ("evaluate",)

    def __init__(self, evaluate: Callable[[dict[str, Any]], Any]) -> None:
        self.evaluate = evaluate

    def __bool__(self) -> bool:
        raise InvalidQueryError(
            "A filter expression cannot be used as a Python bool: combine expressions with "
            "q.and_(...), q.or_(...) and q.not_(...) instead of `and`, `or` and `not`."
        )


def _expr(value: Any) -> Callable[[dict[str, Any]], Any]:
    if isinstance(value, Expression):
        return value.evaluate
    _check_value(value, "filter")
    return lambda doc: value


def _numeric(name: str, op: Callable[[Any, Any], Any]) -> Callable[..., Expression]:
    def build(self: "FilterBuilder", left: Any, right: Any) -> Expression:
        a, b = _expr(left), _expr(right)

        def evaluate(doc: dict[str, Any]) -> Any:
            x, y = a(doc), b(doc)
            tx, ty = type(x), type(y)
            if tx is not ty or (tx is not int and tx is not float):
                if (tx is int or tx is float) and (ty is int or ty is float):
                    x, y = float(x), float(y)  # an int beside a float: both are JavaScript numbers
                else:
                    raise InvalidQueryError(f"q.{name}: both sides must be numbers, got {x!r} and {y!r}.")
            return op(x, y)

        return Expression(evaluate)

    build.__name__ = name
    return build


def _int_div(x: Any, y: Any) -> Any:
    if type(x) is int:
        if y == 0:
            raise InvalidQueryError("q.div: division by zero")
        quotient = abs(x) // abs(y)
        return quotient if (x >= 0) == (y >= 0) else -quotient
    return x / y if y != 0 else (float("nan") if x == 0 else float("inf") if x > 0 else float("-inf"))


def _mod(x: Any, y: Any) -> Any:
    if y == 0:
        if type(x) is int:
            raise InvalidQueryError("q.mod: division by zero")
        return float("nan")
    import math

    return math.fmod(x, y) if type(x) is float else (abs(x) % abs(y)) * (1 if x >= 0 else -1)


def _literal_keys(value: Any) -> tuple[Any, Any] | None:
    """For a literal number in a comparison: its sort key beside an int, and beside a float.

    Python writes `14` where JavaScript's 14 is a float, so where no schema types the
    other side, a literal compares with a number of either type as a number; other
    types keep Convex's order across types.
    """
    t = type(value)
    if t is int:
        return sort_key(value), sort_key(float(value))
    if t is float:
        return (2, value), sort_key(value)
    return None


def _comparison(name: str, test: Callable[[Any, Any], bool]) -> Callable[..., Expression]:
    def build(self: "FilterBuilder", left: Any, right: Any) -> Expression:
        if isinstance(left, FieldExpression) and left.is_float:
            right = as_number(right, True)
        if isinstance(right, FieldExpression) and right.is_float:
            left = as_number(left, True)
        a, b = _expr(left), _expr(right)
        if isinstance(left, Expression) and not isinstance(right, Expression) and not _typed(left):
            keys = _literal_keys(right)
            if keys is not None:
                int_key, float_key = keys

                def literal_right(doc: dict[str, Any]) -> bool:
                    x = a(doc)
                    return test(sort_key(x), float_key if type(x) is float else int_key)

                return Expression(literal_right)
        elif isinstance(right, Expression) and not isinstance(left, Expression) and not _typed(right):
            keys = _literal_keys(left)
            if keys is not None:
                int_key, float_key = keys

                def literal_left(doc: dict[str, Any]) -> bool:
                    y = b(doc)
                    return test(float_key if type(y) is float else int_key, sort_key(y))

                return Expression(literal_left)
        return Expression(lambda doc: test(sort_key(a(doc)), sort_key(b(doc))))

    build.__name__ = name
    return build


class FieldExpression(Expression):
    """`q.field(path)`: knows whether the schema types the field, and whether as a float."""

    __slots__ = ("is_float", "typed")

    def __init__(self, evaluate: Callable[[dict[str, Any]], Any], is_float: bool, typed: bool = False) -> None:
        super().__init__(evaluate)
        self.is_float = is_float
        self.typed = typed


def _typed(expr: Expression) -> bool:
    """True for a field the schema types (`v.int64()`, `v.any()`, ...): Convex's types stay distinct there."""
    return type(expr) is FieldExpression and expr.typed


class FilterBuilder:
    """The `q` of `.filter(lambda q: ...)`."""

    __slots__ = ("_validator",)

    def __init__(self, validator: Any = None) -> None:
        self._validator = validator

    def field(self, path: str) -> Expression:
        if not isinstance(path, str):
            raise InvalidQueryError(f"q.field expects a field path string, got {path!r}")
        typed = path == "_creationTime" or self._validator is not None
        is_float = path == "_creationTime" or (self._validator is not None and float_field(self._validator, path))
        return FieldExpression(lambda doc: field_value(doc, path), is_float, typed)

    eq = _comparison("eq", lambda x, y: x == y)
    neq = _comparison("neq", lambda x, y: x != y)
    lt = _comparison("lt", lambda x, y: x < y)
    lte = _comparison("lte", lambda x, y: x <= y)
    gt = _comparison("gt", lambda x, y: x > y)
    gte = _comparison("gte", lambda x, y: x >= y)

    def and_(self, *exprs: Any) -> Expression:
        parts = [_expr(e) for e in exprs]
        return Expression(lambda doc: all(p(doc) is True for p in parts))

    def or_(self, *exprs: Any) -> Expression:
        parts = [_expr(e) for e in exprs]
        return Expression(lambda doc: any(p(doc) is True for p in parts))

    def not_(self, expr: Any) -> Expression:
        part = _expr(expr)
        return Expression(lambda doc: part(doc) is not True)

    add = _numeric("add", lambda x, y: x + y)
    sub = _numeric("sub", lambda x, y: x - y)
    mul = _numeric("mul", lambda x, y: x * y)
    div = _numeric("div", _int_div)
    mod = _numeric("mod", _mod)

    def neg(self, expr: Any) -> Expression:
        part = _expr(expr)

        def evaluate(doc: dict[str, Any]) -> Any:
            x = part(doc)
            if type(x) not in (int, float):
                raise InvalidQueryError(f"q.neg: expected a number, got {x!r}.")
            return -x

        return Expression(evaluate)

    # Python keywords get a trailing underscore; accept Convex's spelling too where legal.
    and__ = and_




# --- The builder ------------------------------------------------------------------------


class QueryBuilder:
    """A lazily run query over one table."""

    __slots__ = ("_tx", "_table_name", "_table", "_index_name", "_range", "_order", "_filters", "_async", "_system",
                 "_search")

    def __init__(self, tx: "Transaction", table_name: str, table: Any, is_async: bool, system: bool) -> None:
        self._tx = tx
        self._table_name = table_name
        self._table = table
        self._index_name: str | None = None
        self._range: IndexRangeBuilder | None = None
        self._order = "asc"
        self._filters: list[Callable[[dict[str, Any]], Any]] = []
        self._async = is_async
        self._system = system
        self._search: Any = None  # a compiled text search (with_search_index), else None

    # builders
    def with_index(self, index_name: str, range_fn: Callable[[IndexRangeBuilder], Any] | None = None) -> "QueryBuilder":
        if self._index_name is not None:
            raise InvalidQueryError("with_index can only be called once per query.")
        if self._filters:
            raise InvalidQueryError("with_index must come before filter.")
        index = self._tx.store.index(self._table, self._table_name, index_name)
        fields = index.fields if index is not None else (("_creationTime",) if index_name == "by_creation_time" else ("_id",))
        if fields not in (("_creationTime",), ("_id",)):
            fields = fields + ("_creationTime",)  # every index ends with _creationTime
        builder = IndexRangeBuilder(f"{self._table_name}.{index_name}", fields, self._doc_validator())
        if range_fn is not None:
            result = range_fn(builder)
            if result is not builder:
                raise InvalidQueryError(
                    f"with_index(\"{index_name}\", ...): the range function must return the builder it was given "
                    "(e.g. `lambda q: q.eq(\"field\", value)`)."
                )
        self._index_name = index_name
        self._range = builder
        return self

    def full_table_scan(self) -> "QueryBuilder":
        """Read the whole table in `_creationTime` order, saying so (Convex's `fullTableScan()`)."""
        if self._index_name is not None or self._filters:
            raise InvalidQueryError("full_table_scan() comes first, right after ctx.db.query(table), "
                                    "instead of with_index.")
        self._index_name = "by_creation_time"
        return self

    def order(self, order: str) -> "QueryBuilder":
        if order not in ("asc", "desc"):
            raise InvalidQueryError(f"order must be \"asc\" or \"desc\", got {order!r}")
        if self._search is not None:
            raise InvalidQueryError(
                "A search query (with_search_index) always returns results in relevance order; it cannot be ordered."
            )
        self._order = order
        return self

    def filter(self, predicate: Callable[[FilterBuilder], Any]) -> "QueryBuilder":
        expr = predicate(FilterBuilder(self._doc_validator()))
        if isinstance(expr, Expression):
            self._filters.append(expr.evaluate)
        elif expr is True or expr is False:
            value = expr
            self._filters.append(lambda doc: value)
        else:
            raise InvalidQueryError(
                f"filter must return an expression built from q (e.g. q.eq(q.field(\"x\"), 1)), got {expr!r}"
            )
        return self

    def _doc_validator(self) -> Any:
        schema = self._tx.store.schema
        if schema is None or self._system:
            return None
        definition = schema.tables.get(self._table_name)
        return None if definition is None else definition.validator

    def with_search_index(self, index_name: str, search_fn: Callable[[Any], Any]) -> "QueryBuilder":
        """Query a search index: `lambda q: q.search(field, text).eq(filter_field, value)`; results
        come in relevance order (see emulator.search)."""
        if self._index_name is not None:
            raise InvalidQueryError("with_search_index cannot be combined with with_index or called twice.")
        if self._filters:
            raise InvalidQueryError("with_search_index must come before filter.")
        validator = self._doc_validator()

        def normalize(field: str, value: Any) -> Any:
            if type(value) is int and validator is not None:
                return as_number(value, float_field(validator, field))
            return value

        self._search = text_search(self._table, self._table_name, index_name, search_fn, normalize)
        self._index_name = index_name
        return self

    # running
    def _range_walk(
        self, start_after: tuple[Any, ...] | None = None, end_at: tuple[Any, ...] | None = None, batch: int = 16
    ) -> tuple[Any, Iterator[tuple[tuple[Any, ...], dict[str, Any]]]]:
        """(table, lazy walk of (key, stored document)) over this query's index range, unfiltered and
        not yet charged to the budget: after `start_after` (exclusive), up to `end_at` (inclusive)."""
        tx = self._tx
        tx.check_open()
        table = self._table
        if table is None:
            table = tx.store.tables.get(self._table_name)
            if table is None:
                if tx.reads is not None:  # a live query: the table's first insert concerns it
                    tx.reads.add_table(tx.store.live_prefix + self._table_name)
                return None, iter(())
        if self._search is not None:  # relevance order, after `start_after`, up to `end_at`
            tx.range_read()
            if tx.reads is not None:  # a live search: any write to the table may change its hits
                tx.reads.add_table(table.live_key)
            items = self._search.walk(table.docs, start_after)
            if end_at is not None:
                items = takewhile(lambda item: item[0] <= end_at, items)
            return table, items
        index_name = self._index_name or "by_creation_time"
        index = table.use_index(index_name)
        if self._range is not None:
            minimum, maximum = self._range.bounds(index)
        else:
            minimum, maximum = (), (MAX,)
        inclusive = (True, True)
        reverse = self._order == "desc"
        if start_after is not None:
            if reverse:
                if start_after < maximum:
                    maximum, inclusive = start_after, (True, False)
            elif start_after > minimum:
                minimum, inclusive = start_after, (False, True)
        if end_at is not None:
            if reverse:
                if end_at > minimum:
                    minimum, inclusive = end_at, (True, inclusive[1])
            elif end_at < maximum:
                maximum, inclusive = end_at, (inclusive[0], True)
        tx.range_read()
        items = tx.store.scan(index, table.docs, minimum, maximum, inclusive, reverse, batch)
        if tx.reads is not None:  # a live query: the range it walks, up to the last key it reaches
            items = tx.reads.recorded(table.live_key, index_name, minimum, maximum, inclusive, reverse, items)
        return table, items

    def _walk(
        self, start_after: tuple[Any, ...] | None = None, limit: int | None = None
    ) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
        filters = self._filters
        batch = 16 if limit is None or filters else min(limit + 1, 1024)
        table, items = self._range_walk(start_after, None, batch)
        if table is None:
            return
        budget = self._tx
        sizes = table.sizes
        for key, doc in items:
            budget.read(sizes[doc["_id"]])
            if filters and not passes(filters, doc):
                continue
            yield key, doc

    def _docs(self, limit: int | None = None) -> list[dict[str, Any]]:
        out = []
        if limit is not None and limit <= 0:
            return out
        for _key, doc in self._walk(None, limit):
            out.append(clone_doc(doc))
            if limit is not None and len(out) >= limit:
                break
        return out

    def _ret(self, value: Any) -> Any:
        return Ready(value) if self._async else value

    def collect(self) -> Any:
        return self._ret(self._docs())

    def take(self, n: int) -> Any:
        if type(n) is not int or n < 0:
            n = whole_count(n, "Arg 1 `n` to `take` must be a non-negative integer")
        return self._ret(self._docs(n))

    def first(self) -> Any:
        docs = self._docs(1)
        return self._ret(docs[0] if docs else None)

    def unique(self) -> Any:
        docs = self._docs(2)
        if len(docs) > 1:
            raise NotUniqueError(
                f"unique() query returned more than one result from table {self._table_name}: "
                f"{docs[0]['_id']}, {docs[1]['_id']}, ..."
            )
        return self._ret(docs[0] if docs else None)

    def count(self) -> Any:
        """The number of documents in the table, as a float (Convex's internal `count()` of a table,
        answered from the table's size; it counts no documents read)."""
        if self._index_name is not None or self._filters or self._search is not None or self._order != "asc":
            raise InvalidQueryError(
                "count() counts a whole table: call it right after ctx.db.query(table), "
                "before with_index, filter or order."
            )
        tx = self._tx
        tx.check_open()
        tx.range_read()
        table = self._table if self._table is not None else tx.store.tables.get(self._table_name)
        return self._ret(float(len(table.docs)) if table is not None else 0.0)

    def paginate(self, options: dict[str, Any]) -> Any:
        """One page: `{"page", "isDone", "continueCursor"}` (+ `pageStatus`, `splitCursor` when split)."""
        return self._ret(paginate(self, options))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for _key, doc in self._walk():
            yield clone_doc(doc)

    def __aiter__(self) -> Any:
        return _AsyncIter(iter(self))

    # camelCase aliases
    withIndex = with_index
    withSearchIndex = with_search_index
    fullTableScan = full_table_scan


class _AsyncIter:
    __slots__ = ("_it",)

    def __init__(self, it: Iterator[Any]) -> None:
        self._it = it

    def __aiter__(self) -> "_AsyncIter":
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None


__all__ = ["QueryBuilder", "FilterBuilder", "IndexRangeBuilder", "Expression", "Id"]
