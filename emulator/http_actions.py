"""Running HTTP actions: route a request through `convex/http.py`, run the handler with an
action's ctx, answer Convex's 404 and 500 responses, and log each run in the timeline.
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from convex_py._http import Headers, HttpAction, Request, Response
from convex_py.errors import ConvexError

from .context import ActionCtx
from .runtime import check_deadline, deadline_after, run_coroutine

if TYPE_CHECKING:
    from .runtime import Runtime

MAX_BODY_BYTES = 20 << 20  # Convex's HTTP_ACTION_BODY_LIMIT: 20 MiB, for requests and responses alike
DEFAULT_SITE_URL = "http://127.0.0.1:3211"  # where Convex's local backend serves HTTP actions
NOT_ENABLED = "This Convex deployment does not have HTTP actions enabled."
_BODYLESS_METHODS = ("GET", "HEAD", "OPTIONS")  # Convex hands these to the handler without a body
# What `ctx.meta.get_function_metadata()` reports in an HTTP action: a public action of the "http" module.
_HTTP_FUNCTION = SimpleNamespace(kind="action", visibility="public")
# Frames of these folders are not the app's: a 500's trace leaves them out.
_NOT_APP_DIRS = tuple(str(Path(__file__).resolve().parent.parent / name) for name in ("emulator", "convex_py")) + tuple(
    {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")})


def text_response(status: int, text: str) -> Response:
    return Response(text, status=status, headers={"content-type": "text/plain; charset=utf-8"})


def json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, headers={"content-type": "application/json"})


def too_large(what: str) -> Response:
    """The 413 answer for a body past Convex's 20 MiB limit."""
    return json_response(413, {
        "code": "PayloadTooLarge",
        "message": f"{what} is too large: HTTP actions accept bodies up to 20 MiB ({MAX_BODY_BYTES} bytes).",
    })


def _trace(exc: BaseException, message: str) -> str:
    """The error and the app's own frames, innermost last, as Convex shows a stack."""
    lines = [message]
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(_NOT_APP_DIRS):
            continue
        lines.append(f"    at {frame.name} ({frame.filename}:{frame.lineno})")
    return "\n".join(lines)


def _plain_json(value: Any) -> Any:
    """A Convex value as plain JSON (bytes as base64), as an error's `data` goes into a 500's body."""
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        import base64

        return base64.b64encode(bytes(value)).decode()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class HttpActions:
    """The HTTP actions of one deployment, run against its runtime."""

    def __init__(self, runtime: "Runtime", executions: list[dict[str, Any]], *,
                 site_url: str = DEFAULT_SITE_URL) -> None:
        self.runtime = runtime
        self.executions = executions  # the timeline shared with scheduled functions and crons
        self.site_url = site_url
        self._request_numbers = itertools.count(1)
        self.random_request_ids = False  # a 500's request id: numbered in tests, random in the dev server
        self.log: Callable[[str], None] | None = None  # where a failing handler's error is logged

    def _route(self, method: str, target: str, headers: Any, body: bytes | None,
               site_url: str | None) -> Response | tuple[HttpAction, Request, str]:
        """The handler, request and route for a request, or the response when there is none to run."""
        router = self.runtime.app.http
        if router is None:
            return text_response(404, NOT_ENABLED)
        if body is not None and len(body) > MAX_BODY_BYTES:
            return too_large("The request body")
        path = target.split("?", 1)[0].split("#", 1)[0] or "/"
        match = router.lookup(path, method)
        if match is None:
            return text_response(404, f"No HttpAction routed for {path}")
        action, routed_method, routed_path = match
        request = Request(f"{site_url or self.site_url}{target}", method=method, headers=Headers(headers),
                          body=None if method in _BODYLESS_METHODS else body)
        request._awaitable = action.is_async
        return action, request, f"{routed_method} {routed_path}"

    def handle(self, method: str, target: str, headers: Any, body: bytes | None,
               identity: dict[str, Any] | None, *, site_url: str | None = None) -> Response:
        """Answer one request for `target` (a path with its query string) on the site origin."""
        routed = self._route(method, target, headers, body, site_url)
        if isinstance(routed, Response):
            return routed
        action, request, route = routed
        return self._answer(method, self._run(action, request, identity, route))

    async def handle_async(self, method: str, target: str, headers: Any, body: bytes | None,
                           identity: dict[str, Any] | None, *, site_url: str | None = None,
                           in_thread: Callable[..., Any]) -> Response:
        """`handle` on an event loop: an async handler runs on it, a sync one through `in_thread`."""
        routed = self._route(method, target, headers, body, site_url)
        if isinstance(routed, Response):
            return routed
        action, request, route = routed
        if not action.is_async:
            return self._answer(method, await in_thread(self._run, action, request, identity, route))
        started = self.runtime.clock.now
        deadline = deadline_after(self.runtime.limits.action_timeout)
        try:
            result = await action.handler(self._ctx(identity, True), request)
            result = self._checked(result, route, deadline)
        except Exception as exc:
            return self._failed(exc, route, started)
        self._record(route, started, "success", None, result.status)
        return self._answer(method, result)

    @staticmethod
    def _answer(method: str, response: Response) -> Response:
        if method == "HEAD":  # the GET route's answer, without its body
            return Response(None, status=response.status, headers=response.headers)
        return response

    def _checked(self, result: Any, route: str, deadline: float | None) -> Response:
        check_deadline(deadline, self.runtime.limits.action_timeout)
        if not isinstance(result, Response):
            raise TypeError(
                f"The HTTP action for {route} returned {type(result).__name__}, not a Response: "
                "return Response(body, status=..., headers=...)"
            )
        if result.body is not None and len(result.body) > MAX_BODY_BYTES:
            raise ValueError(f"HttpResponseTooLarge: HTTP actions support responses up to 20 MiB ({MAX_BODY_BYTES} bytes)")
        return result

    def _ctx(self, identity: dict[str, Any] | None, is_async: bool) -> ActionCtx:
        """An action's ctx whose `meta.get_function_metadata()` names the router's module, "http"."""
        ctx = ActionCtx(self.runtime, identity, is_async)
        ctx._setup("http", _HTTP_FUNCTION, None, None)
        return ctx

    def _run(self, action: HttpAction, request: Request, identity: dict[str, Any] | None, route: str) -> Response:
        runtime = self.runtime
        started = runtime.clock.now
        ctx = self._ctx(identity, action.is_async)
        deadline = deadline_after(runtime.limits.action_timeout)
        try:
            result = action.handler(ctx, request)
            if inspect.iscoroutine(result):
                result = run_coroutine(result)
            result = self._checked(result, route, deadline)
        except Exception as exc:
            return self._failed(exc, route, started)
        self._record(route, started, "success", None, result.status)
        return result

    def request_id(self) -> str:
        """A request id of 16 hex digits, as Convex's."""
        if self.random_request_ids:
            return os.urandom(8).hex()
        return f"{next(self._request_numbers):016x}"

    def _failed(self, exc: Exception, route: str, started: float) -> Response:
        """Convex's 500: `{"code": "[Request ID: ...] Server Error: <message>", "trace": ..., "data"?}`."""
        from .scheduler import error_text

        message = error_text(exc)
        body: dict[str, Any] = {"code": f"[Request ID: {self.request_id()}] Server Error: {message}",
                                "trace": _trace(exc, message)}
        if isinstance(exc, ConvexError):
            body["data"] = _plain_json(exc.data)
        if self.log is not None:
            self.log(f"HTTP action {route} failed: {body['trace']}")
        self._record(route, started, "failed", message, 500)
        return json_response(500, body)

    def _record(self, route: str, started: float, outcome: str, error: str | None, status: int) -> None:
        self.executions.append({
            "time": started,
            "completedTime": self.runtime.clock.now,
            "function": route,
            "kind": "httpAction",
            "source": "http",
            "outcome": outcome,
            "error": error,
            "job_id": None,
            "status": status,
        })


__all__ = ["DEFAULT_SITE_URL", "HttpActions", "MAX_BODY_BYTES", "NOT_ENABLED"]
