"""Function log lines (Convex's `console.log`), routed by a context variable.

While a request runs a function, `print(...)` and `logging` calls made in its
context (its asyncio task, or a worker thread started with a copy of it) land
in that request's `logLines`; in a scheduled function or cron they go to the
server's log with the function's path. Outside those contexts nothing changes:
`print` writes to whatever `sys.stdout` is, and logging records go to the
handlers they always went to. `sys.stdout` itself is never replaced.
"""

from __future__ import annotations

import builtins
import contextvars
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

_sink: contextvars.ContextVar["LogSink | None"] = contextvars.ContextVar("convex_py_log_sink", default=None)

_LEVELS = {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN", logging.ERROR: "ERROR",
           logging.CRITICAL: "ERROR"}


class LogSink:
    """Where the log lines of one function execution go."""

    def add(self, level: str, text: str) -> None:
        raise NotImplementedError


class RequestLogs(LogSink):
    """A request's lines, returned to the client as `logLines` (`[LOG] text`)."""

    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, level: str, text: str) -> None:
        self.lines.append(f"[{level}] {text}")


class FunctionLogs(LogSink):
    """A scheduled function's lines, written to the server's log with its path."""

    __slots__ = ("path", "write")

    def __init__(self, path: str, write: Callable[[str], Any]) -> None:
        self.path = path
        self.write = write

    def add(self, level: str, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.write(f"[{self.path}] [{level}] {line}")


def current() -> LogSink | None:
    return _sink.get()


def use(sink: LogSink | None) -> contextvars.Token[Any]:
    """Route this context's log lines to `sink` (undo with `reset(token)`)."""
    return _sink.set(sink)


def reset(token: contextvars.Token[Any]) -> None:
    _sink.reset(token)


# --- the print and logging taps (installed while a dev server runs) -------------------

_original_print = builtins.print
_installed = 0
_install_lock = threading.Lock()


def _print(*values: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False) -> None:
    sink = _sink.get()
    if sink is None or (file is not None and file is not sys.stdout and file is not sys.stderr):
        return _original_print(*values, sep=sep, end=end, file=file, flush=flush)
    text = (" " if sep is None else sep).join(map(str, values)) + ("\n" if end is None else end)
    sink.add("ERROR" if file is not None and file is sys.stderr else "LOG", text[:-1] if text.endswith("\n") else text)


class _Handler(logging.Handler):
    """On the root logger: a record made inside a function's context goes to its sink."""

    def emit(self, record: logging.LogRecord) -> None:
        sink = _sink.get()
        if sink is None:
            root = logging.getLogger()
            if root.handlers == [self] and logging.lastResort is not None and record.levelno >= logging.lastResort.level:
                logging.lastResort.handle(record)  # as if this handler were not there
            return
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in the app's own call
            message = str(record.msg)
        sink.add(_LEVELS.get(record.levelno, "LOG"), message)


_handler = _Handler()


def install() -> None:
    """Start routing (counted: each server that starts calls it once, `uninstall` when it stops)."""
    global _installed
    with _install_lock:
        _installed += 1
        if _installed == 1:
            builtins.print = _print
            logging.getLogger().addHandler(_handler)


def uninstall() -> None:
    global _installed
    with _install_lock:
        if _installed == 0:
            return
        _installed -= 1
        if _installed == 0:
            if builtins.print is _print:
                builtins.print = _original_print
            logging.getLogger().removeHandler(_handler)


__all__ = ["FunctionLogs", "LogSink", "RequestLogs", "current", "install", "reset", "uninstall", "use"]
