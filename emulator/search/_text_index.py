"""A full text search index kept in step with its table on every write, ranked as Convex ranks.

The store applies a transaction's writes in place (and undoes them on rollback),
calling `add`/`remove` here for each; so a search always sees exactly the
documents the running function sees: its own inserts, never rolled-back writes.
Postings are compact append-only arrays per term (a document's slot and its term
frequency); a deleted document leaves a dead slot behind until a compaction.
A query runs Convex's algorithm (crates/search/src/lib.rs `search`): exact terms,
prefix expansions of the last term in term order up to 64 index terms in all,
BM25 with tantivy's float32 arithmetic and quantized lengths (prefix matches at
half weight), equality filters as an intersection, then the best 1024 by score,
ties going to the newest document.
"""

from __future__ import annotations

from array import array
from collections import Counter
from typing import Any

import numpy as np
from sortedcontainers import SortedList

from convex_py._search_indexes import SearchIndexDefinition

from . import _bm25
from ._constants import MAX_CANDIDATE_REVISIONS, MAX_UNIQUE_QUERY_TERMS, PREFIX_BOOST
from ._fields import filter_key, getter
from ._tokenizer import tokenize

__all__ = ["TextIndex"]

# Dead slots tolerated before the arrays are rebuilt without them.
_COMPACT_AFTER = 1024


class TextIndex:
    """One `search_index` of one table. Maintained through the store's index protocol:
    `key_of(doc)` gives what the index depends on, `keys.add(key)` / `keys.remove(key)` apply it."""

    __slots__ = ("name", "table_name", "definition", "live", "keys", "key_of", "_ids", "_ctimes", "_norms",
                 "_alive", "_slot_of", "_postings", "_df", "_vocab", "_filters", "_filter_counts",
                 "num_docs", "total_tokens", "_dead", "_cache_for")

    def __init__(self, table_name: str, definition: SearchIndexDefinition) -> None:
        self.name = definition.name
        self.table_name = table_name
        self.definition = definition
        self.live = True
        self.keys = self
        get_text = getter(definition.search_field)
        filter_getters = tuple(getter(f) for f in definition.filter_fields)

        def key_of(doc: dict[str, Any]) -> tuple[Any, ...]:
            text = get_text(doc)
            return (doc["_id"], doc["_creationTime"], text if type(text) is str else None,
                    tuple(filter_key(get(doc)) for get in filter_getters))

        self.key_of = key_of
        self._ids: list[Any] = []  # slot -> document id (None once deleted)
        self._ctimes = array("d")  # slot -> _creationTime
        self._norms = array("B")  # slot -> tantivy fieldnorm id of its token count
        self._alive = bytearray()  # slot -> 1 while the document exists
        self._slot_of: dict[Any, int] = {}
        self._postings: dict[str, tuple[array, array]] = {}  # term -> (slots 'i', term frequencies 'f')
        self._df: dict[str, int] = {}  # term -> how many live documents contain it
        self._vocab = SortedList()  # terms with _df > 0, for prefix lookups in term order
        self._filters: list[dict[Any, array]] = [{} for _ in definition.filter_fields]  # value key -> slots
        self._filter_counts: list[dict[Any, int]] = [{} for _ in definition.filter_fields]
        self.num_docs = 0
        self.total_tokens = 0
        self._dead = 0
        self._cache_for: tuple[Any, ...] = (None, None)

    def __len__(self) -> int:
        return self.num_docs

    # --- writes ------------------------------------------------------------------------------------

    def add(self, key: tuple[Any, ...]) -> None:
        doc_id, creation_time, text, fkeys = key
        slot = len(self._ids)
        self._ids.append(doc_id)
        self._ctimes.append(creation_time)
        self._alive.append(1)
        self._slot_of[doc_id] = slot
        n = 0
        if text:
            tokens = tokenize(text)
            n = len(tokens)
            postings = self._postings
            df = self._df
            for term, tf in Counter(tokens).items():
                entry = postings.get(term)
                if entry is None:
                    entry = postings[term] = (array("i"), array("f"))
                    self._vocab.add(term)
                    df[term] = 1
                else:
                    df[term] += 1
                entry[0].append(slot)
                entry[1].append(tf)
        self._norms.append(n if n < 40 else _bm25.fieldnorm_id(n))
        for i, fkey in enumerate(fkeys):
            slots = self._filters[i].get(fkey)
            if slots is None:
                self._filters[i][fkey] = array("i", (slot,))
                self._filter_counts[i][fkey] = 1
            else:
                slots.append(slot)
                self._filter_counts[i][fkey] += 1
        self.num_docs += 1
        self.total_tokens += n

    def remove(self, key: tuple[Any, ...]) -> None:
        doc_id, _creation_time, text, fkeys = key
        slot = self._slot_of.pop(doc_id)
        self._ids[slot] = None
        self._alive[slot] = 0
        n = 0
        if text:
            tokens = tokenize(text)
            n = len(tokens)
            df = self._df
            for term in set(tokens):
                left = df[term] - 1
                if left:
                    df[term] = left
                else:
                    del df[term]
                    del self._postings[term]
                    self._vocab.remove(term)
        for i, fkey in enumerate(fkeys):
            counts = self._filter_counts[i]
            left = counts[fkey] - 1
            if left:
                counts[fkey] = left
            else:
                del counts[fkey]
                del self._filters[i][fkey]
        self.num_docs -= 1
        self.total_tokens -= n
        self._dead += 1
        if self._dead > _COMPACT_AFTER and self._dead * 2 > len(self._ids):
            self._compact()

    def _compact(self) -> None:
        """Drop dead slots: renumber the live ones in order and rewrite every posting list."""
        alive = np.frombuffer(self._alive, dtype=np.bool_).copy()
        renumber = (np.cumsum(alive, dtype=np.int64) - 1).astype(np.int32)
        for term, (slots, tfs) in list(self._postings.items()):
            s = np.frombuffer(slots, dtype=np.int32)
            keep = alive[s]
            self._postings[term] = (array("i", renumber[s[keep]].tobytes()),
                                    array("f", np.frombuffer(tfs, dtype=np.float32)[keep].tobytes()))
        for filters in self._filters:
            for fkey, slots in list(filters.items()):
                s = np.frombuffer(slots, dtype=np.int32)
                filters[fkey] = array("i", renumber[s[alive[s]]].tobytes())
        live = np.flatnonzero(alive)
        self._ids = [self._ids[i] for i in live.tolist()]
        self._ctimes = array("d", np.frombuffer(self._ctimes, dtype=np.float64)[live].tobytes())
        self._norms = array("B", np.frombuffer(self._norms, dtype=np.uint8)[live].tobytes())
        self._alive = bytearray(b"\x01" * len(self._ids))
        self._slot_of = {doc_id: slot for slot, doc_id in enumerate(self._ids)}
        self._dead = 0

    # --- queries -------------------------------------------------------------------------------------

    def has_filter_value(self, position: int, fkey: Any) -> bool:
        return fkey in self._filter_counts[position]

    def _terms(self, tokens: list[str], filter_terms: int) -> list[tuple[str, float]]:
        """The index terms a query touches, with their boosts: Convex's TokenMatchAggregator keeps the
        64 best by (prefix?, term), so every exact match first, then prefix expansions in term order."""
        df = self._df
        exact = sorted({t for t in tokens if t in df})
        chosen = [(term, 1.0) for term in exact]
        room = MAX_UNIQUE_QUERY_TERMS - len(exact) - filter_terms
        prefix = tokens[-1]
        if room > 0:
            taken = set(exact)
            for term in self._vocab.irange(minimum=prefix):
                if not term.startswith(prefix):
                    break
                if term in taken:
                    continue
                chosen.append((term, PREFIX_BOOST))
                room -= 1
                if room == 0:
                    break
        return chosen

    def _tf_cache(self) -> np.ndarray:
        stats = (self.total_tokens, self.num_docs)
        if self._cache_for[0] != stats:
            avg = _bm25.average_fieldnorm(self.total_tokens, max(self.num_docs, 1))
            self._cache_for = (stats, _bm25.tf_cache(avg))
        return self._cache_for[1]

    def search(self, tokens: list[str], filters: list[tuple[int, Any]]) -> list[tuple[tuple[float, float], Any]]:
        """The best documents for a compiled query, best first: [((-score, -creationTime), id), ...].

        `tokens` are the query's terms (the last one also matches as a prefix); `filters` are
        (filter field position, value key) pairs that must all hold.
        """
        if not tokens:
            return []
        counts = self._filter_counts
        for position, fkey in filters:
            if fkey not in counts[position]:
                return []
        if len(set(filters)) < len(filters):
            # Convex counts the distinct filter terms it found against the number of `eq` clauses,
            # so the same clause twice matches nothing (crates/search/src/lib.rs, step 2).
            return []
        terms = self._terms(tokens, len(filters))
        if not terms:
            return []
        n = len(self._ids)
        num_docs = self.num_docs
        cache = self._tf_cache()
        norms = np.frombuffer(self._norms, dtype=np.uint8)
        scores = np.zeros(n, dtype=np.float32)
        df = self._df
        postings = self._postings
        for term, boost in sorted(terms):
            slots_array, tfs_array = postings[term]
            slots = np.frombuffer(slots_array, dtype=np.int32)
            tfs = np.frombuffer(tfs_array, dtype=np.float32)
            weight = _bm25.term_weight(df[term], num_docs, boost)
            scores[slots] += _bm25.scores(weight, tfs, cache[norms[slots]])
            del slots, tfs  # views of growable arrays: release them at once
        mask = np.frombuffer(self._alive, dtype=np.bool_) & (scores > 0)
        for position, fkey in filters:
            allowed = np.zeros(n, dtype=np.bool_)
            allowed[np.frombuffer(self._filters[position][fkey], dtype=np.int32)] = True
            mask &= allowed
        candidates = np.flatnonzero(mask)
        if not len(candidates):
            return []
        best = scores[candidates]
        ctimes = np.frombuffer(self._ctimes, dtype=np.float64)[candidates]
        limit = MAX_CANDIDATE_REVISIONS
        if len(candidates) > limit:
            cut = np.partition(best, len(best) - limit)[len(best) - limit]
            keep = best >= cut
            candidates, best, ctimes = candidates[keep], best[keep], ctimes[keep]
        order = np.lexsort((-ctimes, -best))[:limit]
        ids = self._ids
        neg_scores = (-best[order]).tolist()
        neg_ctimes = (-ctimes[order]).tolist()
        return [((s, c), ids[slot]) for s, c, slot in zip(neg_scores, neg_ctimes, candidates[order].tolist())]

    def term_document_frequency(self, term: str) -> int:
        """How many documents contain `term` (for tests and debugging)."""
        return self._df.get(term, 0)
