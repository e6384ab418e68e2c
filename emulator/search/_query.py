"""Search queries as a function writes them: `q.search(field, text).eq(field, value)` for text,
`{"vector", "limit", "filter": lambda q: q.or_(q.eq(...), ...)}` for vectors; checked with Convex's
error texts (crates/search/src/lib.rs `compile`, crates/vector/src/qdrant_index.rs `compile`,
npm convex's search_filter_builder_impl.ts and vector_search_impl.ts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from convex_py._values import UNSET, Id
from convex_py.errors import IndexNotFoundError, InvalidQueryError, LimitExceededError

from ._constants import (
    DEFAULT_VECTOR_LIMIT,
    MAX_CANDIDATE_REVISIONS,
    MAX_FILTER_CONDITIONS,
    MAX_QUERY_TERMS,
    MAX_VECTOR_FILTER_LENGTH,
    MAX_VECTOR_RESULTS,
)
from ._fields import filter_key
from ._tokenizer import tokenize

__all__ = ["SearchFilterBuilder", "TextSearch", "VectorFilterBuilder", "search_index_of", "vector_search"]

Normalize = Callable[[str, Any], Any]


def _plain(_field: str, value: Any) -> Any:
    return value


# --- finding the index --------------------------------------------------------------------------------


def _staged(printable: str) -> IndexNotFoundError:
    return IndexNotFoundError(
        f"Index {printable} is currently staged and not available to query until it is enabled."
    )


def search_index_of(table: Any, table_name: str, index_name: str, kind: str) -> Any:
    """The text (`kind="search"`) or vector index `index_name` of a table, or Convex's error."""
    printable = f"{table_name}.{index_name}"
    index = None if table is None else table.search_indexes.get(index_name)
    if index is None:
        if table is not None and index_name in table.indexes:
            raise InvalidQueryError(f"Index {printable} is not a {kind} index")
        raise IndexNotFoundError(f"Index {printable} not found.")
    definition = index if not hasattr(index, "definition") else index.definition
    is_vector = hasattr(definition, "vector_field")
    if is_vector != (kind == "vector"):
        raise InvalidQueryError(f"Index {printable} is not a {kind} index")
    if definition.staged:
        raise _staged(printable)
    return index


# --- text search ------------------------------------------------------------------------------------


class SearchFilterBuilder:
    """The `q` of `with_search_index(name, lambda q: q.search(field, text).eq(field, value))`.

    As in Convex's JavaScript, each builder is used once: every call returns a new one.
    """

    __slots__ = ("_filters", "_consumed", "_normalize")

    def __init__(self, filters: tuple[tuple[str, str, Any], ...] = (), normalize: Normalize = _plain) -> None:
        self._filters = filters
        self._consumed = False
        self._normalize = normalize

    def _consume(self) -> None:
        if self._consumed:
            raise InvalidQueryError(
                "SearchFilterBuilder has already been used! Chain your method calls like "
                "`q => q.search(...).eq(...)`."
            )
        self._consumed = True

    def search(self, field_name: str, query: str) -> "SearchFilterBuilder":
        """Search `field_name` (the index's `searchField`) for the terms of `query`."""
        if not isinstance(field_name, str):
            raise InvalidQueryError(f"q.search: the field name must be a string, got {field_name!r}")
        if not isinstance(query, str):
            raise InvalidQueryError(f"q.search: the query must be a string, got {query!r}")
        self._consume()
        return SearchFilterBuilder(self._filters + (("search", field_name, query),), self._normalize)

    def eq(self, field_name: str, value: Any = UNSET) -> "SearchFilterBuilder":
        """Keep documents whose filter field equals `value` (`UNSET`, or no value: the field is missing)."""
        if not isinstance(field_name, str):
            raise InvalidQueryError(f"q.eq: the field name must be a string, got {field_name!r}")
        try:
            key = filter_key(self._normalize(field_name, value))
        except Exception as exc:  # not a Convex value
            raise InvalidQueryError(f"q.eq(\"{field_name}\", ...): {exc}") from None
        self._consume()
        return SearchFilterBuilder(self._filters + (("eq", field_name, key),), self._normalize)

    def export(self) -> tuple[tuple[str, str, Any], ...]:
        self._consume()
        return self._filters


class TextSearch:
    """A compiled text search against one index: its terms and its equality filters."""

    __slots__ = ("index", "tokens", "filters")

    def __init__(self, index: Any, table_name: str, filters: tuple[tuple[str, str, Any], ...]) -> None:
        definition = index.definition
        printable = f"{table_name}.{definition.name}"
        text: str | None = None
        conditions: list[tuple[int, Any]] = []
        for kind, field, value in filters:
            if kind == "search":
                if field != definition.search_field:
                    raise InvalidQueryError(
                        f"Search query against {printable} contains a search filter against \"{field}\", which "
                        f"doesn't match the indexed `searchField` \"{definition.search_field}\"."
                    )
                if text is not None:
                    raise InvalidQueryError(
                        f"Search query against {printable} contains multiple search filters against \"{field}\". "
                        "Only one is allowed."
                    )
                text = value
            else:
                if field not in definition.filter_fields:
                    raise InvalidQueryError(
                        f"Search query against {printable} contains an equality filter on \"{field}\" but that "
                        "field isn't indexed for filtering in `filterFields`."
                    )
                conditions.append((definition.filter_fields.index(field), value))
        if text is None:
            raise InvalidQueryError(
                f"Search query against {printable} does not contain any search filters. You must include a "
                f"search filter like `q.search(\"{definition.search_field}\", searchText)`."
            )
        if len(conditions) > MAX_FILTER_CONDITIONS:
            raise InvalidQueryError(
                f"Search query against {printable} has too many filter conditions. Max: {MAX_FILTER_CONDITIONS} "
                f"Actual: {len(conditions)}"
            )
        self.index = index
        self.tokens = tokenize(text)[:MAX_QUERY_TERMS]
        self.filters = conditions

    def walk(self, docs: dict[Any, dict[str, Any]], start_after: tuple[Any, ...] | None
             ) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
        """(key, stored document) in relevance order, after `start_after` (a key) if given.

        Like Convex's SearchResultIterator, asking for a result past the 1024th is an error.
        """
        results = self.index.search(self.tokens, self.filters)
        consumed = 0
        for key, doc_id in results:
            if start_after is not None and key <= start_after:
                continue
            if consumed == MAX_CANDIDATE_REVISIONS:
                break
            consumed += 1
            doc = docs.get(doc_id)
            if doc is not None:
                yield key, doc
        if consumed == MAX_CANDIDATE_REVISIONS:
            raise LimitExceededError(
                f"Search query scanned too many documents (fetched {MAX_CANDIDATE_REVISIONS}). Consider using a "
                "smaller limit, paginating the query, or using a filter field to limit the number of documents "
                "pulled from the search index."
            )


# --- vector search ------------------------------------------------------------------------------------


class _Eq:
    __slots__ = ("field", "value")

    def __init__(self, field: Any, value: Any) -> None:
        self.field = field
        self.value = value


class _Or:
    __slots__ = ("parts",)

    def __init__(self, parts: tuple[Any, ...]) -> None:
        self.parts = parts


class VectorFilterBuilder:
    """The `q` of a vector search's `filter`: `q.eq(field, value)` and `q.or_(...)`."""

    __slots__ = ()

    def eq(self, field_name: str, value: Any = UNSET) -> _Eq:
        if not isinstance(field_name, str):
            raise InvalidQueryError("The first argument to `q.eq` must be a field name.")
        return _Eq(field_name, value)

    def or_(self, *exprs: Any) -> _Or:
        return _Or(exprs)


setattr(VectorFilterBuilder, "or", VectorFilterBuilder.or_)  # Convex's spelling, a keyword in Python


def _filter_map(expr: Any, out: dict[str, list[Any]]) -> None:
    if isinstance(expr, _Eq):
        out.setdefault(expr.field, []).append(expr.value)
    elif isinstance(expr, _Or):
        for part in expr.parts:
            _filter_map(part, out)
    else:
        raise InvalidQueryError("Filters should be a combination of `q.eq` and `q.or`.")


def vector_search(store: Any, table_name: Any, index_name: Any, query: Any, normalize: Normalize = _plain
                  ) -> list[dict[str, Any]]:
    """`ctx.vector_search(table, index, {"vector", "limit", "filter"})`: [{"_id", "_score"}], best first."""
    for position, (name, value) in enumerate((("tableName", table_name), ("indexName", index_name)), 1):
        if not isinstance(value, str):
            raise InvalidQueryError(f"vectorSearch: argument {position} (`{name}`) must be a string, got {value!r}")
    if not isinstance(query, dict):
        raise InvalidQueryError(f"vectorSearch: argument 3 (`query`) must be a dict, got {query!r}")
    unknown = sorted(set(query) - {"vector", "limit", "filter"})
    if unknown:
        raise InvalidQueryError(f"vectorSearch: unknown option(s) {unknown}; the options are vector, limit, filter.")
    vector = query.get("vector")
    if not isinstance(vector, (list, tuple)) or not vector:
        raise InvalidQueryError("`vector` must be a non-empty Array in vectorSearch")
    if not all(type(x) in (int, float) for x in vector):
        raise InvalidQueryError("vectorSearch: `vector` must be a list of numbers.")
    limit = query.get("limit", DEFAULT_VECTOR_LIMIT)
    if limit is None:
        limit = DEFAULT_VECTOR_LIMIT
    if type(limit) is float and limit.is_integer():
        limit = int(limit)
    if type(limit) is not int or limit < 1:
        raise InvalidQueryError(f"vectorSearch: `limit` must be a whole number from 1 to {MAX_VECTOR_RESULTS}, got {limit!r}")
    table = store.tables.get(table_name)
    index = search_index_of(table, table_name, index_name, "vector")
    printable = f"{table_name}.{index_name}"
    if limit > MAX_VECTOR_RESULTS:
        raise InvalidQueryError(f"Vector queries can fetch at most {MAX_VECTOR_RESULTS} results, requested {limit}.")
    definition = index.definition
    filters: dict[int, list[Any]] = {}
    build = query.get("filter")
    if build is not None:
        expr = build(VectorFilterBuilder())
        fields: dict[str, list[Any]] = {}
        _filter_map(expr, fields)
        length = 0
        for field, values in fields.items():
            if field not in definition.filter_fields:
                raise InvalidQueryError(
                    f"Vector query against {printable} contains a filter on \"{field}\" but that field isn't "
                    "indexed for filtering in `filterFields`."
                )
            try:
                keys = list(dict.fromkeys(filter_key(normalize(field, v)) for v in values))
            except Exception as exc:  # not a Convex value
                raise InvalidQueryError(f"q.eq(\"{field}\", ...): {exc}") from None
            filters[definition.filter_fields.index(field)] = keys
            length += len(keys)
        if length > MAX_VECTOR_FILTER_LENGTH:
            raise InvalidQueryError(
                f"Vector query against {printable} has too many conditions. Max: {MAX_VECTOR_FILTER_LENGTH} "
                f"Actual: {length}"
            )
    if len(vector) != index.dimensions:
        raise InvalidQueryError(f"Expected a vector with dimensions {index.dimensions}, received {len(vector)}.")
    return [{"_id": str.__new__(Id, doc_id), "_score": score} for score, doc_id in index.search(list(vector), limit, filters)]
