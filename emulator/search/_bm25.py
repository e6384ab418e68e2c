"""BM25 as tantivy computes it (and Convex through it): float32 arithmetic, K1 = 1.2, B = 0.75,
document lengths quantized to one byte by tantivy's fieldnorm table.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from bisect import bisect_right
from collections.abc import Callable

import numpy as np

K1 = np.float32(1.2)
B = np.float32(0.75)
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)


def _fieldnorm_table() -> list[int]:
    """tantivy's FIELD_NORMS_TABLE (Lucene's SmallFloat.byte4ToInt): lengths 0..39 exact, then
    buckets with 4 significant bits."""
    free = 24
    table = []
    for code in range(256):
        if code < free:
            table.append(code)
            continue
        i = code - free
        bits, shift = i & 0x07, (i >> 3) - 1
        table.append(free + (bits if shift == -1 else (bits | 0x08) << shift))
    return table


def _c_logf() -> Callable[[float], float]:
    """Rust's f32::ln is the C library's logf; use that very function where it can be found, so
    scores agree to the last bit (numpy's float32 log and a rounded float64 log can differ by one unit)."""
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        logf = libm.logf
    except (OSError, AttributeError):  # pragma: no cover - no C math library to load
        return lambda value: float(np.float32(math.log(value)))
    logf.restype = ctypes.c_float
    logf.argtypes = [ctypes.c_float]
    return logf


_logf = _c_logf()
FIELD_NORMS_TABLE = _fieldnorm_table()
_FIELDNORMS_F32 = np.array(FIELD_NORMS_TABLE, dtype=np.float32)


def fieldnorm_id(num_tokens: int) -> int:
    """The byte tantivy stores for a field of `num_tokens` tokens."""
    if num_tokens < 40:
        return num_tokens
    return bisect_right(FIELD_NORMS_TABLE, num_tokens) - 1


def idf(doc_freq: int, num_docs: int) -> np.float32:
    x = (np.float32(num_docs - doc_freq) + _HALF) / (np.float32(doc_freq) + _HALF)
    return np.float32(_logf(float(_ONE + x)))


def term_weight(doc_freq: int, num_docs: int, boost: float = 1.0) -> np.float32:
    """`Bm25Weight::for_one_term(...).boost_by(boost)`'s weight: idf * (1 + K1) * boost."""
    return idf(doc_freq, num_docs) * (_ONE + K1) * np.float32(boost)


def tf_cache(average_fieldnorm: np.float32) -> np.ndarray:
    """K1 * (1 - B + B * fieldnorm / average), for each of the 256 fieldnorm ids."""
    return K1 * (_ONE - B + B * _FIELDNORMS_F32 / average_fieldnorm)


def average_fieldnorm(total_tokens: int, num_docs: int) -> np.float32:
    return np.float32(total_tokens) / np.float32(num_docs)


def scores(weight: np.float32, term_freqs: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """weight * tf / (tf + cache[fieldnorm id]), for arrays of term frequencies (float32) and cache values."""
    return weight * (term_freqs / (term_freqs + norms))
