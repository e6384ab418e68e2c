"""The HTTP API as a list of Starlette routes, and the JSON answers for every outcome.

`POST /api/query|mutation|action|function` take `{"path", "args", "format"}`
(the JavaScript client sends `args` as a one-element array, the Python client
as an object); `POST /api/run/{module}/{function}` names the function in the
URL. Values travel in Convex's JSON encoding. A function's error is
`{"status": "error", ...}` with status 560 as Convex answers, or 200 for the
Python client, which treats any non-2xx status as a transport failure. A bad
request is a 4xx `{"code", "message"}`; so are unknown routes and methods.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from convex_py.errors import ConvexError, ConvexPyError, InvalidValueError, PersistenceError

from ..scheduler import error_text
from . import convex_json, logs
from .auth import identity_from_token
from .errors import RequestError
from .site import TooLarge, read_stream
from .sync import SyncHub


MAX_BODY_BYTES = 20 * 1024 * 1024  # Convex's 16 MiB argument limit, plus JSON overhead
UDF_FAILED = 560
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_STATUS_CODES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                 405: "MethodNotAllowed", 413: "RequestTooLarge", 500: "InternalServerError"}


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """A JSON response; ASCII-escaped, so any string a function returns can be sent."""
    return Response(json.dumps(body), status_code=status, headers=headers, media_type="application/json")


async def read_json(receive: Receive, content_length: bytes | None) -> tuple[dict[str, Any], bool]:
    """The body as a JSON object, and whether its text escapes a surrogate (then strings need checking)."""
    declared = content_length.decode("latin-1") if content_length is not None else None
    try:
        raw = await read_stream(receive, declared, MAX_BODY_BYTES)
    except TooLarge:
        raise RequestError(413, "RequestTooLarge", f"The request body is larger than {MAX_BODY_BYTES} bytes") from None
    except ConnectionResetError:
        raise ClientDisconnect() from None
    try:
        body = json.loads(raw)
    except UnicodeDecodeError:
        raise RequestError(400, "BadJsonBody", "The request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RequestError(400, "BadJsonBody", f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise RequestError(400, "BadJsonBody", "The request body is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise RequestError(400, "BadJsonBody", f"The request body has a number out of range: {exc}") from None
    if not isinstance(body, dict):
        raise RequestError(400, "BadJsonBody", "The request body must be a JSON object")
    return body, _SURROGATE_ESCAPE.search(raw) is not None


def _arguments(body: dict[str, Any], check_text: bool) -> Any:
    args = body.get("args", {})
    if isinstance(args, list):
        if len(args) > 1:
            raise RequestError(400, "BadJsonBody", "`args` must be an object or a one-element array")
        args = args[0] if args else {}
    try:
        return convex_json.decode(args, check_text)
    except InvalidValueError as exc:
        raise RequestError(400, "BadConvexValue", f"Invalid arguments: {exc}") from None


def _function_error(exc: BaseException, python_client: bool, log_lines: list[str]) -> tuple[int, dict[str, Any]]:
    status = 200 if python_client else UDF_FAILED
    if isinstance(exc, ConvexError):
        body: dict[str, Any] = {"status": "error", "errorMessage": error_text(exc), "logLines": log_lines}
        try:
            body["errorData"] = convex_json.encode(exc.data)
        except InvalidValueError:
            body["errorMessage"] = f"{error_text(exc)} (its data is not a Convex value)"
        return status, body
    message = str(exc) if isinstance(exc, ConvexPyError) else error_text(exc)
    return status, {"status": "error", "errorMessage": message, "logLines": log_lines}


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    """A JSON answer as two ASGI messages (the hot path: no Response object)."""
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(data))]})
    await send({"type": "http.response.body", "body": data})


class _FunctionEndpoint:
    """An ASGI endpoint running the function a request names (Starlette passes a non-function endpoint
    the raw ASGI call: no Request object, no Response object, no per-request exception wrapper)."""

    def __init__(self, api: "Api", kind: str | None, in_url: bool = False) -> None:
        self.api = api
        self.kind = kind
        self.in_url = in_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str | None = None
        if self.in_url:
            parts = [p for p in scope["path_params"]["path"].split("/") if p]
            if len(parts) < 2:
                await _send_json(send, 404, {"code": "NotFound", "message": f"No route for POST {scope['path']}: "
                                             "use /api/run/<module>/<function>"})
                return
            path = "/".join(parts[:-1]) + ":" + parts[-1]
        status, body = await self.api.call(scope, receive, self.kind, path)
        if body is None:
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            await _send_json(send, status, body)


class Api:
    """The endpoints of Convex's HTTP API, over one DevServer."""

    def __init__(self, server: Any) -> None:
        self.server = server

    async def version(self, request: Request) -> Response:
        return answer(200, {"status": "ok", "server": "convex-py"})

    async def call(self, scope: Scope, receive: Receive, kind: str | None,
                   path: str | None) -> tuple[int, dict[str, Any] | None]:
        """Run the function a request names: (status, JSON body), or (400, None) when the client left."""
        content_length = authorization = None
        python_client = False
        client = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's Headers.get
            if name == b"content-length" and content_length is None:
                content_length = value
            elif name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"convex-client" and client is None:
                client = value
                python_client = value.startswith(b"python")
        sink = logs.RequestLogs()
        token = logs.use(sink)
        try:
            body, check_text = await read_json(receive, content_length)
            if path is None:
                path = body.get("path")
            if not isinstance(path, str) or not path:
                raise RequestError(400, "BadJsonBody", "The request needs a `path` string, e.g. \"messages:list\"")
            if check_text and not path.isascii():
                raise RequestError(400, "BadJsonBody", "The function `path` must be ASCII text")
            args = _arguments(body, check_text)
            identity = identity_from_token(authorization, self.server.verifier)
            result = await self.server.call(kind, path, args, identity)
            return 200, {"status": "success", "value": convex_json.encode(result), "logLines": sink.lines}
        except RequestError as exc:
            return exc.status, exc.body()
        except ClientDisconnect:
            return 400, None  # nobody is left to read it
        except PersistenceError as exc:  # nothing was applied: safe for the client to retry
            return 500, {"code": "InternalServerError", "message": str(exc)}
        except Exception as exc:  # the app's error, or a ConvexPyError: the client sees it, the server goes on
            return _function_error(exc, python_client, sink.lines)
        finally:
            logs.reset(token)


def routes(server: Any) -> list[BaseRoute]:
    """Every route of the API port, as data (a later WebSocket route or site app joins this list)."""
    api = Api(server)
    table: list[BaseRoute] = []
    for kind in ("query", "mutation", "action"):
        for path in (f"/api/{kind}", f"/api/{kind}/"):
            table.append(Route(path, _FunctionEndpoint(api, kind), methods=["POST"]))
    table += [
        Route("/api/function", _FunctionEndpoint(api, None), methods=["POST"]),
        Route("/api/run/{path:path}", _FunctionEndpoint(api, None, in_url=True), methods=["POST"]),
        Route("/", api.version, methods=["GET"]),
        Route("/version", api.version, methods=["GET"]),
        Route("/instance_version", api.version, methods=["GET"]),
    ]
    sync = SyncHub(server)  # Convex's sync protocol: npm `convex` names its version, the Rust client does not
    table += [WebSocketRoute("/api/{version}/sync", sync.endpoint), WebSocketRoute("/api/sync", sync.endpoint)]
    static = getattr(server, "static", None)
    if static is not None:  # `--static DIR`: its files at /, index.html for /; the API routes come first
        table = [route for route in table if getattr(route, "path", None) != "/"]
        table.append(Mount("/", app=StaticFiles(directory=static, html=True), name="static"))
    return table


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    code = _STATUS_CODES.get(status, "BadRequest" if status < 500 else "InternalServerError")
    if status == 404:
        message = f"No route for {request.method} {request.url.path}"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path} (allowed: {exc.headers.get('Allow', '') if exc.headers else ''})"
    else:
        message = str(exc.detail)
    return answer(status, {"code": code, "message": message}, headers=dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    return answer(500, {"code": "InternalServerError", "message": f"{type(exc).__name__}: {exc}"})


def build_app(route_table: list[BaseRoute]) -> Any:
    """The ASGI app: the routes, CORS for browsers, and JSON for every error."""
    app = Starlette(
        routes=route_table,
        middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.router.redirect_slashes = False
    return _Guard(app)


class _Guard:
    """Outermost ASGI layer: a bug that escapes Starlette is a JSON 500 and one log line, never a traceback."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = [name for name, _value in scope["headers"]]
        if b"transfer-encoding" in names and b"content-length" in names:
            # Framing two ways at once is how requests are smuggled past proxies (RFC 9112 6.1): refuse.
            response = answer(400, {"code": "BadRequest", "message": "A request cannot have both Transfer-Encoding "
                                    "and Content-Length"}, headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        started = False

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as exc:  # already answered by Starlette's handler, or answer now
            if not started:
                response = answer(500, {"code": "InternalServerError", "message": f"{type(exc).__name__}: {exc}"})
                try:
                    await response(scope, receive, send)
                except Exception:
                    pass
            logs._original_print(f"convex-py dev: internal error on {scope.get('method')} {scope.get('path')}: "
                                 f"{type(exc).__name__}: {exc}", flush=True)


__all__ = ["MAX_BODY_BYTES", "UDF_FAILED", "Api", "answer", "build_app", "routes"]
