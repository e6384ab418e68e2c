"""Convex's search limits, each with the convex-backend source it comes from."""

from __future__ import annotations

# crates/search/src/constants.rs
MAX_QUERY_TERMS = 16  # words of a search string kept; later ones are dropped silently
MAX_TEXT_TERM_LENGTH = 32  # a token of this many UTF-8 bytes or more is dropped (tantivy RemoveLongFilter)
MAX_CANDIDATE_REVISIONS = 1024  # results a search query can produce
MAX_FILTER_CONDITIONS = 8  # `.eq` clauses of a search query
MAX_UNIQUE_QUERY_TERMS = 64  # index terms a query may touch: exact ones, then prefix expansions

# crates/search/src/lib.rs (`search`, step 4): a term matched only as a prefix scores half.
PREFIX_BOOST = 0.5

# crates/vector/src/lib.rs
MAX_VECTOR_RESULTS = 256
DEFAULT_VECTOR_LIMIT = 10
MAX_VECTOR_FILTER_LENGTH = 64  # `q.eq` clauses of a vector search, counting each value of an `or`
