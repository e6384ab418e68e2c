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
from collections.abc import Iterator
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
# Results ranked up front; the rest of the best 1024 are ranked when a reader gets that far.
_FIRST_PAGE = 64
# Term frequencies up to this are scored through a per-query table; higher ones one by one.
_TABLE_TF = 64


class TextIndex:
    """One `search_index` of one table. Maintained through the store's index protocol:
    `key_of(doc)` gives what the index depends on, `keys.add(key)` / `keys.remove(key)` apply it."""

    __slots__ = ("name", "table_name", "definition", "live", "keys", "key_of", "_ids", "_ctimes",
                 "_alive", "_slot_of", "_postings", "_vocab", "_filters", "num_docs", "total_tokens", "_dead",
                 "_cache_for")

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
        self._alive = bytearray()  # slot -> 1 while the document exists
        self._slot_of: dict[Any, int] = {}
        # term -> [slots 'i', codes 'I', documents containing it, highest frequency seen]. A code is
        # the term's frequency in the document << 8 | the document's tantivy fieldnorm id, so one
        # lookup in a small per-query table gives its BM25 factor. A term leaves with its last document.
        self._postings: dict[str, list[Any]] = {}
        self._vocab = SortedList()  # the terms of _postings, for prefix lookups in term order
        # per filter field: value key -> [slots 'i', live documents with that value]
        self._filters: list[dict[Any, list[Any]]] = [{} for _ in definition.filter_fields]
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
            norm = n if n < 40 else _bm25.fieldnorm_id(n)
            counts: dict[str, int] = {}
            for term in tokens:
                counts[term] = counts.get(term, 0) + 1
            postings = self._postings
            for term, tf in counts.items():
                entry = postings.get(term)
                if entry is None:
                    postings[term] = [array("i", (slot,)), array("I", (tf << 8 | norm,)), 1, tf]
                    self._vocab.add(term)
                    continue
                entry[0].append(slot)
                entry[1].append(tf << 8 | norm)
                entry[2] += 1
                if tf > entry[3]:
                    entry[3] = tf
        for i, fkey in enumerate(fkeys):
            entry = self._filters[i].get(fkey)
            if entry is None:
                self._filters[i][fkey] = [array("i", (slot,)), 1]
            else:
                entry[0].append(slot)
                entry[1] += 1
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
            postings = self._postings
            for term in set(tokens):
                entry = postings[term]
                entry[2] -= 1
                if not entry[2]:
                    del postings[term]
                    self._vocab.remove(term)
        for i, fkey in enumerate(fkeys):
            entry = self._filters[i][fkey]
            entry[1] -= 1
            if not entry[1]:
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
        for entry in self._postings.values():
            s = np.frombuffer(entry[0], dtype=np.int32)
            keep = alive[s]
            codes = np.frombuffer(entry[1], dtype=np.uint32)[keep]
            del s
            entry[0] = array("i", renumber[np.frombuffer(entry[0], dtype=np.int32)[keep]].tobytes())
            entry[1] = array("I", codes.tobytes())
        for filters in self._filters:
            for entry in filters.values():
                s = np.frombuffer(entry[0], dtype=np.int32)
                entry[0] = array("i", renumber[s[alive[s]]].tobytes())
        live = np.flatnonzero(alive)
        self._ids = [self._ids[i] for i in live.tolist()]
        self._ctimes = array("d", np.frombuffer(self._ctimes, dtype=np.float64)[live].tobytes())
        self._alive = bytearray(b"\x01" * len(self._ids))
        self._slot_of = {doc_id: slot for slot, doc_id in enumerate(self._ids)}
        self._dead = 0

    # --- queries -------------------------------------------------------------------------------------

    def _terms(self, tokens: list[str], filter_terms: int) -> list[tuple[str, float]]:
        """The index terms a query touches, with their boosts: Convex's TokenMatchAggregator keeps the
        64 best by (prefix?, term), so every exact match first, then prefix expansions in term order."""
        postings = self._postings
        exact = sorted({t for t in tokens if t in postings})
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

    def search(self, tokens: list[str], filters: list[tuple[int, Any]]) -> Iterator[tuple[tuple[float, float], Any]]:
        """The best documents for a compiled query, best first: ((-score, -creationTime), id), ...

        `tokens` are the query's terms (the last one also matches as a prefix); `filters` are
        (filter field position, value key) pairs that must all hold. Everything is scored at once;
        the ranking is done for the first few results, and for up to 1024 only if they are read.
        """
        if not tokens:
            return iter(())
        for position, fkey in filters:
            if fkey not in self._filters[position]:
                return iter(())
        if len(set(filters)) < len(filters):
            # Convex counts the distinct filter terms it found against the number of `eq` clauses,
            # so the same clause twice matches nothing (crates/search/src/lib.rs, step 2).
            return iter(())
        terms = self._terms(tokens, len(filters))
        if not terms:
            return iter(())
        return self._ranked(*self._score(terms, filters))

    def _score(self, terms: list[tuple[str, float]], filters: list[tuple[int, Any]]) -> tuple[Any, ...]:
        """(candidate slots, their scores, their creation times, the slot -> id list)."""
        n = len(self._ids)
        num_docs = self.num_docs
        cache = self._tf_cache()
        entries = [(term, boost, self._postings[term]) for term, boost in sorted(terms)]
        top_tf = min(max(entry[3] for _, _, entry in entries), _TABLE_TF)
        # factors[tf << 8 | norm] = tf / (tf + cache[norm]), tantivy's tf factor, for every code in use.
        tf_column = np.arange(top_tf + 1, dtype=np.float32)[:, None]
        factors = (tf_column / (tf_column + cache[None, :])).ravel()
        scores = np.zeros(n, dtype=np.float32)
        for _term, boost, (slots_array, codes_array, doc_freq, max_tf) in entries:
            slots = np.frombuffer(slots_array, dtype=np.int32)
            codes = np.frombuffer(codes_array, dtype=np.uint32)
            weight = _bm25.term_weight(doc_freq, num_docs, boost)
            if max_tf <= _TABLE_TF:
                contributions = np.take(weight * factors[: (max_tf + 1) << 8], codes)
            else:  # a term repeated very often in some document: compute each factor
                tfs = (codes >> 8).astype(np.float32)
                contributions = _bm25.scores(weight, tfs, cache[codes & 0xFF])
            running = np.take(scores, slots)
            running += contributions  # float32, term after term in term order
            scores[slots] = running
            del slots, codes  # views of growable arrays: release them at once
        mask = np.frombuffer(self._alive, dtype=np.bool_) & (scores > 0)
        for position, fkey in filters:
            allowed = np.zeros(n, dtype=np.bool_)
            allowed[np.frombuffer(self._filters[position][fkey][0], dtype=np.int32)] = True
            mask &= allowed
        candidates = np.flatnonzero(mask)
        ctimes = np.frombuffer(self._ctimes, dtype=np.float64)[candidates]
        return candidates, scores[candidates], ctimes, self._ids

    @staticmethod
    def _ranked(candidates: np.ndarray, scores: np.ndarray, ctimes: np.ndarray, ids: list[Any]
                ) -> Iterator[tuple[tuple[float, float], Any]]:
        # `ids` is the slot list as it was: later deletes blank entries (skipped by the reader), a
        # compaction replaces the list, so the slots here keep their meaning.
        shown = 0
        for limit in (_FIRST_PAGE, MAX_CANDIDATE_REVISIONS):
            best, created, slots = scores, ctimes, candidates
            if len(slots) > limit:
                cut = np.partition(best, len(best) - limit)[len(best) - limit]
                keep = best >= cut
                slots, best, created = slots[keep], best[keep], created[keep]
            order = np.lexsort((-created, -best))[shown:limit]
            for score, ctime, slot in zip((-best[order]).tolist(), (-created[order]).tolist(),
                                          slots[order].tolist()):
                yield (score, ctime), ids[slot]
            shown = limit
            if len(candidates) <= limit:
                return
