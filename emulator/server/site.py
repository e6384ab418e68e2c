"""The site port (Convex's 3211): every method and path goes to the app's HTTP actions.

The body streams in up to Convex's 20 MiB limit (a 413 JSON answer past it);
the caller's identity comes from `Authorization: Bearer <JWT>` when that is a
Convex token, and is simply absent otherwise, as in Convex. No CORS is added:
an app answers preflights with its own `OPTIONS` routes, as on Convex.
"""

from __future__ import annotations

from typing import Any

from convex_py._http import Headers, Response

from ..http_actions import MAX_BODY_BYTES, too_large
from . import logs
from .auth import identity_from_token
from .errors import RequestError


_FRAMING_HEADERS = ("content-length", "transfer-encoding", "connection", "keep-alive")


class TooLarge(Exception):
    """A body past the limit; the rest of it has been read and dropped."""


async def read_stream(receive: Any, declared_length: str | None, limit: int | None) -> bytes:
    """A request body, read as it streams in (the API's JSON and the site's bodies alike).

    Past `limit` (or a declared length past it) the rest is drained, up to 4x the limit so the
    client reads the answer rather than a reset, and TooLarge is raised; a client that goes
    away mid-body raises ConnectionResetError.
    """
    too_large = (limit is not None and declared_length is not None and declared_length.isdigit()
                 and int(declared_length) > limit)
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionResetError("the client went away")
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        size += len(chunk)
        if limit is not None and size > limit:
            too_large = True
        if too_large:
            if size > 4 * limit:  # type: ignore[operator]  # too_large implies a limit
                break
        else:
            chunks.append(chunk)
    if too_large:
        raise TooLarge()
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_body(receive: Any, headers: Headers, limit: int | None) -> bytes:
    """The request body of a site or storage request (see `read_stream`)."""
    return await read_stream(receive, headers.get("content-length"), limit)


async def send_response(send: Any, response: Response, *, close: bool = False) -> None:
    """Send a fetch-like Response: its headers as given (repeated ones too), framed by us."""
    body = response.body or b""
    raw = [(name.encode("latin-1"), value.encode("utf-8")) for name, value in response.headers.raw()
           if name not in _FRAMING_HEADERS]
    if response.status in (204, 304):  # no body, and no Content-Length (RFC 9110 8.6)
        body = b""
    else:
        raw.append((b"content-length", str(len(body)).encode()))
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def request_headers(scope: Any) -> Headers:
    headers = Headers()
    for name, value in scope["headers"]:
        try:
            headers.append(name.decode("latin-1"), value.decode("utf-8", errors="replace"))
        except (ValueError, TypeError):
            continue  # a header fetch would not accept; Convex's router drops what it cannot parse too
    return headers


class SiteApp:
    """The ASGI app of the site port."""

    def __init__(self, server: Any) -> None:
        self.server = server

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = request_headers(scope)
        method = scope["method"]
        try:
            body = await read_body(receive, headers, MAX_BODY_BYTES)
        except TooLarge:
            await send_response(send, too_large("The request body"), close=True)
            return
        except ConnectionResetError:
            return
        target = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        try:
            identity = identity_from_token(headers.get("authorization"), self.server.verifier)
        except RequestError:
            identity = None  # not a Convex token: the action runs without identity, as in Convex
        host = headers.get("host") or f"{self.server.site_address[0]}:{self.server.site_address[1]}"
        token = logs.use(logs.FunctionLogs(f"{method} {target.split('?', 1)[0]}", self.server.log))
        try:
            response = await self.server.http_action(method, target, headers, body or None, identity,
                                                     site_url=f"http://{host}")
        finally:
            logs.reset(token)
        await send_response(send, response)


__all__ = ["SiteApp", "TooLarge", "read_body", "read_stream", "request_headers", "send_response"]
