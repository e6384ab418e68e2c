"""Convex's limits as settings, defaulting to Convex's documented values."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1 << 20


@dataclass
class Limits:
    """Per-execution limits the emulator enforces; change one to model another deployment."""

    max_documents_read: int = 32_000
    max_bytes_read: int = 16 * MiB
    max_index_ranges: int = 4_096
    max_documents_written: int = 16_000
    max_bytes_written: int = 16 * MiB
    max_args_bytes: int = 16 * MiB
    max_return_bytes: int = 16 * MiB
    max_functions_scheduled: int = 1_000
    max_scheduled_args_bytes: int = 8 * MiB
    # Seconds of user code per query/mutation and per action; None = no limit (the test default).
    query_mutation_timeout: float | None = None
    action_timeout: float | None = None
