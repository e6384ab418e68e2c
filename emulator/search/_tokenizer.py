"""Convex's text analyzer, run by tantivy itself: SimpleTokenizer, then RemoveLongFilter(32), then LowerCaser.

Convex builds the same chain (`convex_en()` in crates/search/src/constants.rs), so
splitting (on anything that is not alphanumeric in Unicode's sense), the length
limit and lowercasing are exactly Convex's.
"""

from __future__ import annotations

from ._constants import MAX_TEXT_TERM_LENGTH

_analyze = None


def _analyzer():  # type: ignore[no-untyped-def]
    global _analyze
    import tantivy

    analyzer = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(MAX_TEXT_TERM_LENGTH))
        .filter(tantivy.Filter.lowercase())
        .build()
    )
    _analyze = analyzer.analyze
    return _analyze


def tokenize(text: str) -> list[str]:
    """The terms of `text`, in order, as Convex indexes and queries them."""
    analyze = _analyze or _analyzer()
    return analyze(text)
