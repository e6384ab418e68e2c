"""A vector index kept in step with its table on every write: unit vectors in one float32 matrix.

Convex scores by cosine similarity (qdrant's `Distance::Cosine`: both vectors
scaled to length 1, then a dot product), returns the best `limit`, ties broken
by document id (higher first, as its `VectorSearchQueryResult` ordering does).
Only a document whose vector field is an array of exactly `dimensions` numbers
is indexed; any other document is skipped, as Convex skips it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convex_py._search_indexes import VectorIndexDefinition

from ._fields import filter_key, getter

__all__ = ["VectorIndex", "normalize"]

_COMPACT_AFTER = 1024
_EPSILON = np.finfo(np.float32).eps


def normalize(vector: np.ndarray) -> np.ndarray:
    """qdrant's CosineMetric::preprocess: scale to length 1, unless (nearly) 0 or 1 already."""
    length = np.float32(np.dot(vector, vector))
    if length < _EPSILON or abs(length - np.float32(1.0)) <= 1e-6:
        return vector
    return vector / np.sqrt(length)


def _dot(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Each row's dot product with `vector`, in one thread (BLAS would start threads for a
    matrix-vector product, which costs more than it saves on a busy machine)."""
    return np.einsum("ij,j->i", matrix, vector)


class VectorIndex:
    """One `vector_index` of one table, maintained through the store's index protocol."""

    __slots__ = ("name", "table_name", "definition", "live", "keys", "key_of", "dimensions", "_vectors", "_ids",
                 "_alive", "_slot_of", "_used", "_filters", "_dead")

    def __init__(self, table_name: str, definition: VectorIndexDefinition) -> None:
        self.name = definition.name
        self.table_name = table_name
        self.definition = definition
        self.dimensions = definition.dimensions
        self.live = True
        self.keys = self
        dims = definition.dimensions
        get_vector = getter(definition.vector_field)
        filter_getters = tuple(getter(f) for f in definition.filter_fields)

        def key_of(doc: dict[str, Any]) -> tuple[Any, ...]:
            vector = get_vector(doc)
            if type(vector) is not list or len(vector) != dims:
                vector = None
            return (doc["_id"], vector, tuple(filter_key(get(doc)) for get in filter_getters))

        self.key_of = key_of
        self._vectors = np.zeros((16, dims), dtype=np.float32)
        self._ids: list[Any] = []
        self._alive = np.zeros(16, dtype=np.bool_)
        self._slot_of: dict[Any, int] = {}
        self._used = 0
        self._filters: list[dict[Any, set[int]]] = [{} for _ in definition.filter_fields]
        self._dead = 0

    def __len__(self) -> int:
        return len(self._slot_of)

    # --- writes ----------------------------------------------------------------------------------------

    def add(self, key: tuple[Any, ...]) -> None:
        doc_id, vector, fkeys = key
        if vector is None:
            return
        for x in vector:
            if type(x) is not float and type(x) is not int:
                return  # not an array of numbers: not indexed
        slot = self._used
        if slot == len(self._alive):
            self._grow(2 * slot)
        self._vectors[slot] = normalize(np.array(vector, dtype=np.float32))
        self._alive[slot] = True
        self._ids.append(doc_id)
        self._slot_of[doc_id] = slot
        self._used = slot + 1
        for i, fkey in enumerate(fkeys):
            self._filters[i].setdefault(fkey, set()).add(slot)

    def remove(self, key: tuple[Any, ...]) -> None:
        doc_id, _vector, fkeys = key
        slot = self._slot_of.pop(doc_id, None)
        if slot is None:
            return
        self._alive[slot] = False
        self._ids[slot] = None
        for i, fkey in enumerate(fkeys):
            slots = self._filters[i][fkey]
            slots.discard(slot)
            if not slots:
                del self._filters[i][fkey]
        self._dead += 1
        if self._dead > _COMPACT_AFTER and self._dead * 2 > self._used:
            self._compact()

    def _grow(self, capacity: int) -> None:
        vectors = np.zeros((capacity, self.dimensions), dtype=np.float32)
        vectors[: self._used] = self._vectors[: self._used]
        alive = np.zeros(capacity, dtype=np.bool_)
        alive[: self._used] = self._alive[: self._used]
        self._vectors, self._alive = vectors, alive

    def _compact(self) -> None:
        live = np.flatnonzero(self._alive[: self._used])
        renumber = {int(old): new for new, old in enumerate(live)}
        capacity = max(16, 2 * len(live))
        vectors = np.zeros((capacity, self.dimensions), dtype=np.float32)
        vectors[: len(live)] = self._vectors[live]
        alive = np.zeros(capacity, dtype=np.bool_)
        alive[: len(live)] = True
        self._vectors, self._alive = vectors, alive
        self._ids = [self._ids[i] for i in live.tolist()]
        self._slot_of = {doc_id: slot for slot, doc_id in enumerate(self._ids)}
        self._filters = [{k: {renumber[s] for s in v} for k, v in f.items()} for f in self._filters]
        self._used = len(live)
        self._dead = 0

    # --- queries ----------------------------------------------------------------------------------------

    def search(self, vector: list[float], limit: int, filters: dict[int, list[Any]]) -> list[tuple[float, Any]]:
        """The `limit` most similar documents, best first, as (score, id). `filters` maps a filter
        field position to the value keys it may take; a document matching any of them qualifies."""
        query = normalize(np.array(vector, dtype=np.float32))
        used = self._used
        if filters:
            chosen: set[int] = set()
            for position, fkeys in filters.items():
                values = self._filters[position]
                for fkey in fkeys:
                    chosen |= values.get(fkey, set())
            candidates = np.array(sorted(chosen), dtype=np.int64)
            scores = _dot(self._vectors[candidates], query)
        else:
            candidates = np.flatnonzero(self._alive[:used])
            scores = _dot(self._vectors[:used], query)[candidates]
        if not len(candidates):
            return []
        if len(candidates) > limit:
            cut = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= cut
            candidates, scores = candidates[keep], scores[keep]
        ids = self._ids
        ranked = sorted(zip(scores.tolist(), (ids[s] for s in candidates.tolist())), reverse=True)
        return ranked[:limit]
