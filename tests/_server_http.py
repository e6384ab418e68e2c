"""Raw HTTP over real sockets for the dev server tests: requests as bytes, answers parsed by http.client."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit


def address(server: Any) -> tuple[str, int]:
    parts = urlsplit(server.url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def post(server: Any, route: str, body: object, headers: dict | None = None, raw: bytes | None = None,
         method: str = "POST", timeout: float = 10) -> tuple[int, Any]:
    """One request through urllib; (status, decoded JSON body or None when there is no body)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(server.url + route, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
            status, content_type = response.status, response.headers.get("Content-Type")
    except urllib.error.HTTPError as error:
        payload = error.read()
        status, content_type = error.code, error.headers.get("Content-Type")
    assert content_type == "application/json", (status, content_type, payload[:200])
    return status, json.loads(payload) if payload else None


def request_bytes(method: str, route: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    head = [f"{method} {route} HTTP/1.1", "Host: test", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def connect(server: Any, timeout: float = 10) -> socket.socket:
    return socket.create_connection(address(server), timeout=timeout)


def read_answer(sock: socket.socket, method: str = "POST") -> tuple[int, dict[str, str], bytes]:
    """Read one response from a raw socket: (status, headers, body)."""
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    body = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def wait_for(condition: Callable[[], Any], seconds: float = 10, what: str = "the condition") -> Any:
    """Poll until `condition()` is truthy; fail with `what` when it never is."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)
