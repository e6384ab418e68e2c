"""The official sync clients (npm `convex` under Node, PyPI `convex`) as subprocesses driven line by line.

Each driver (tests/sync_clients/) reads JSON commands on stdin and prints JSON lines:
an update of a subscription `{"sub", "value"|"error", "data"}`, the answer of a call
`{"seq", "value"|"error", "data"}`. `SyncClient` sends commands and waits for lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

DRIVERS = Path(__file__).resolve().parent / "sync_clients"


class SyncClient:
    """One official client in its own process, connected to `url`."""

    def __init__(self, kind: str, url: str, node_modules: Path | None = None) -> None:
        if kind == "js":
            assert node_modules is not None
            script = node_modules / "sync_driver.cjs"  # beside node_modules, so `require` finds convex
            script.write_text((DRIVERS / "driver.cjs").read_text())
            command = ["node", str(script), url]
        else:
            command = [sys.executable, str(DRIVERS / "driver.py"), url]
        self.kind = kind
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        self.updates: dict[str, list[dict[str, Any]]] = {}
        self.answers: dict[int, dict[str, Any]] = {}
        self.changed = threading.Condition()
        self.seq = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            with self.changed:
                if "sub" in message:
                    self.updates.setdefault(message["sub"], []).append(message)
                else:
                    self.answers[message["seq"]] = message
                self.changed.notify_all()

    def _wait(self, ready: Any, what: str, timeout: float) -> Any:
        with self.changed:
            if not self.changed.wait_for(ready, timeout=timeout):
                stderr = ""
                if self.process.poll() is not None and self.process.stderr is not None:
                    stderr = ": " + self.process.stderr.read()[-2000:]
                raise AssertionError(f"the {self.kind} client did not report {what} within {timeout} s{stderr}")
            return ready()

    def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def subscribe(self, sub_id: str, path: str, args: dict[str, Any] | None = None) -> None:
        self.send(op="subscribe", id=sub_id, path=path, args=args or {})

    def unsubscribe(self, sub_id: str) -> None:
        self.send(op="unsubscribe", id=sub_id)

    def values(self, sub_id: str, count: int, timeout: float = 20) -> list[Any]:
        """The first `count` updates of a subscription (values, or {"error", "data"} for failures)."""
        def ready() -> Any:
            updates = self.updates.get(sub_id, [])
            return updates[:count] if len(updates) >= count else None

        updates = self._wait(ready, f"{count} updates of {sub_id}", timeout)
        return [u["value"] if "value" in u else {"error": u["error"], "data": u["data"]} for u in updates]

    def update_count(self, sub_id: str) -> int:
        with self.changed:
            return len(self.updates.get(sub_id, []))

    def start(self, op: str, path: str, args: dict[str, Any] | None = None) -> int:
        """Start a call (query, mutation or action); `answer(seq)` waits for its answer."""
        self.seq += 1
        self.send(op=op, path=path, args=args or {}, seq=self.seq)
        return self.seq

    def answer(self, seq: int, timeout: float = 20) -> dict[str, Any]:
        """{"value": ...} or {"error": message, "data": ConvexError data or None}."""
        message = self._wait(lambda: self.answers.get(seq), f"the answer of call {seq}", timeout)
        return {k: v for k, v in message.items() if k != "seq"}

    def call(self, op: str, path: str, args: dict[str, Any] | None = None, timeout: float = 20) -> dict[str, Any]:
        return self.answer(self.start(op, path, args), timeout)

    def set_auth(self, token: str | None) -> None:
        self.send(op="auth", token=token)

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send(op="exit")
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


__all__ = ["SyncClient"]
