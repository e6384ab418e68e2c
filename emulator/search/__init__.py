"""Text search and vector search: indexes kept in step with their tables, and the queries over them.

`attach_indexes` gives a store's table the search and vector indexes its schema
declares; the store then keeps them current on every write and undo. The text
index ranks as Convex does on Tantivy (its tokenizer, BM25 and limits); the
vector index scores by cosine similarity with numpy. numpy and tantivy are
loaded only when an app declares such an index.
"""

from __future__ import annotations

from typing import Any

from ._constants import (
    DEFAULT_VECTOR_LIMIT,
    MAX_CANDIDATE_REVISIONS,
    MAX_FILTER_CONDITIONS,
    MAX_QUERY_TERMS,
    MAX_TEXT_TERM_LENGTH,
    MAX_VECTOR_RESULTS,
)

__all__ = [
    "DEFAULT_VECTOR_LIMIT",
    "MAX_CANDIDATE_REVISIONS",
    "MAX_FILTER_CONDITIONS",
    "MAX_QUERY_TERMS",
    "MAX_TEXT_TERM_LENGTH",
    "MAX_VECTOR_RESULTS",
    "attach_indexes",
    "text_search",
    "tokenize",
    "vector_search",
]


def attach_indexes(table: Any, definition: Any) -> None:
    """Create the search and vector indexes `definition` (a TableDefinition) declares on `table`.

    Staged indexes are recorded but not built: Convex does not let a query use them.
    """
    if not definition.search_indexes and not definition.vector_indexes:
        return
    for name, spec in definition.search_indexes.items():
        if spec.staged:
            table.search_indexes[name] = spec
            continue
        from ._text_index import TextIndex

        table.add_derived_index(name, TextIndex(table.name, spec))
    for name, spec in definition.vector_indexes.items():
        if spec.staged:
            table.search_indexes[name] = spec
            continue
        from ._vector_index import VectorIndex

        table.add_derived_index(name, VectorIndex(table.name, spec))


def text_search(table: Any, table_name: str, index_name: str, build: Any, normalize: Any) -> Any:
    """Compile `with_search_index(index_name, build)` into a TextSearch (its `walk` yields results)."""
    from ._query import SearchFilterBuilder, TextSearch, search_index_of

    index = search_index_of(table, table_name, index_name, "search")
    builder = SearchFilterBuilder(normalize=normalize)
    result = build(builder)
    if not isinstance(result, SearchFilterBuilder):
        from convex_py.errors import InvalidQueryError

        raise InvalidQueryError(
            f"with_search_index(\"{index_name}\", ...): the search filter function must return the builder "
            "(e.g. `lambda q: q.search(\"body\", text).eq(\"channel\", c)`), got " + repr(result)
        )
    return TextSearch(index, table_name, result.export())


def vector_search(store: Any, table_name: Any, index_name: Any, query: Any, normalize: Any = None) -> Any:
    """`ctx.vector_search(...)`: [{"_id", "_score"}, ...], most similar first."""
    from ._query import _plain, vector_search as run

    return run(store, table_name, index_name, query, normalize or _plain)


def tokenize(text: str) -> list[str]:
    """The terms Convex's search would index for `text` (lowercased, split, long terms dropped)."""
    from ._tokenizer import tokenize as run

    return run(text)
