"""Formatting the log of executions (scheduled functions and crons) for people."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any


def format_time(ms: float) -> str:
    """A virtual time as UTC ISO-8601 with milliseconds."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_timeline(entries: Iterable[dict[str, Any]], now: float | None = None) -> str:
    """One line per execution: time, source, function, outcome (and error)."""
    lines = []
    for entry in entries:
        line = f"{format_time(entry['time'])}  {entry['source']:<9}  {entry['kind']:<8}  {entry['function']}  {entry['outcome']}"
        if entry.get("error"):
            first = str(entry["error"]).splitlines()[0] if str(entry["error"]) else ""
            line += f"  ({first})"
        lines.append(line)
    if not lines:
        lines.append("(no scheduled function or cron has run)")
    if now is not None:
        lines.append(f"virtual time now: {format_time(now)}")
    return "\n".join(lines)
