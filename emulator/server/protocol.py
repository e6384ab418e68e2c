"""uvicorn's h11 protocol, answering requests it cannot parse with JSON instead of plain text.

h11 does the HTTP parsing (chunked bodies, Content-Length, keep-alive); this only
changes the body of the 400 it sends for a request that breaks the protocol, and
names what was wrong.
"""

from __future__ import annotations

import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


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


__all__ = ["JsonH11Protocol"]
