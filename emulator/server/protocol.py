"""uvicorn's HTTP protocols, answering requests they cannot parse with JSON instead of plain text.

httptools (llhttp, uvicorn's fast parser) or h11 does the HTTP parsing (chunked
bodies, Content-Length, keep-alive); this only changes the body of the 400 sent
for a request that breaks the protocol, naming what was wrong, and hands each
response to the socket in one write (status line, headers and body together).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is a dependency; h11 serves without it
    httptools = None
    HttpToolsProtocol = None


class JsonH11Protocol(H11Protocol):
    """H11Protocol whose protocol-error answers are `{"code": "BadRequest", "message": ...}`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._protocol_error = ""
        next_event = self.conn.next_event

        def checked_next_event() -> Any:
            try:
                return next_event()
            except h11.RemoteProtocolError as exc:
                self._protocol_error = str(exc)
                raise

        self.conn.next_event = checked_next_event  # type: ignore[method-assign]

    def handle_events(self) -> None:
        try:
            super().handle_events()
        except UnicodeDecodeError:  # a request target that is not ASCII
            if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                self._protocol_error = "the request target is not ASCII"
                self.send_400_response("Invalid HTTP request received.")
            else:
                self.transport.close()

    def send_400_response(self, msg: str) -> None:
        detail = f"{msg.rstrip('.')}: {self._protocol_error}" if self._protocol_error else msg
        body = json.dumps({"code": "BadRequest", "message": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        try:
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                          h11.Data(data=body), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:  # a response had already started: just close
            pass
        self.transport.close()


MAX_HEAD_BYTES = 64 * 1024  # a request's line and headers


class _CoalescingTransport:
    """A socket transport that sends a response's head together with the body write that follows it.

    uvicorn writes a response's status line and headers, then its body: two sends,
    two packets, two wake-ups of the client. Here a head is held until the next
    write and both go out in one send; a head with no body after it (HEAD, 204)
    goes out at the end of the loop's turn, or before closing.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + data)
        elif data.startswith(b"HTTP/1.1 ") and data.endswith(b"\r\n\r\n") and len(data) <= MAX_HEAD_BYTES:
            self._head = data
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def _flush(self) -> None:
        head = self._head
        if head is not None:
            self._head = None
            if not self._transport.is_closing():
                self._transport.write(head)

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._head = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return len(self._head or b"") + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading, set_protocol, ...
        return getattr(self._transport, name)


def _json_400(detail: str) -> bytes:
    body = json.dumps({"code": "BadRequest", "message": detail}).encode()
    return (b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: "
            + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)


if HttpToolsProtocol is not None:
    class _HeadTooLong(Exception):
        pass

    class JsonHttpToolsProtocol(HttpToolsProtocol):
        """HttpToolsProtocol whose protocol-error answers are `{"code": "BadRequest", "message": ...}`.

        llhttp sets no bound on a request's head: this one refuses heads past MAX_HEAD_BYTES, as h11 does.
        """

        _head_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(_CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

        def on_message_begin(self) -> None:
            self._head_bytes = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count_head(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count_head(len(name) + len(value) + 4)
            super().on_header(name, value)

        def _count_head(self, size: int) -> None:
            self._head_bytes += size
            if self._head_bytes > MAX_HEAD_BYTES:
                raise _HeadTooLong(f"the request line and headers are longer than {MAX_HEAD_BYTES} bytes")

        def data_received(self, data: bytes) -> None:
            self._unset_keepalive_if_required()
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:  # as uvicorn does
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
            except httptools.HttpParserError as exc:
                cause = exc.__cause__ or exc.__context__
                if isinstance(cause, _HeadTooLong):
                    detail = str(cause)
                elif isinstance(cause, UnicodeDecodeError):
                    detail = "the request target is not ASCII"
                else:
                    detail = str(exc) or type(exc).__name__
                self.transport.write(_json_400(f"Invalid HTTP request received: {detail}"))
                self.transport.close()

    PROTOCOL: Any = JsonHttpToolsProtocol
else:  # pragma: no cover
    PROTOCOL = JsonH11Protocol


__all__ = ["PROTOCOL", "JsonH11Protocol"]
