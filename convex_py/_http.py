"""HTTP actions: `http_router()`, `@http_action`, and fetch-like `Request`, `Response`, `Headers`.

`convex/http.py` exports `http = http_router()`; `http.route(...)` maps a method
and a path (or a path prefix) to an `@http_action`, with Convex's routing rules.
Nothing here runs a handler: that is the emulator's job.
"""

from __future__ import annotations

import inspect
import json as _json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ._ready import Ready
from .errors import HttpRouteError

__all__ = [
    "ROUTABLE_HTTP_METHODS",
    "Blob",
    "Headers",
    "HttpAction",
    "HttpRouter",
    "Request",
    "Response",
    "http_action",
    "http_router",
]

ROUTABLE_HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH")
"""The methods a route may name, as in Convex (HEAD is served by the GET route, without a body)."""

_NULL_BODY_STATUSES = (101, 103, 204, 205, 304)
_REDIRECT_STATUSES = (301, 302, 303, 307, 308)
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


# --- Headers -------------------------------------------------------------------------


def _header_name(name: Any) -> str:
    if not isinstance(name, str) or not name or not set(name) <= _TOKEN_CHARS:
        raise ValueError(f"Invalid header name {name!r}: a header name is a non-empty token of letters, digits and !#$%&'*+-.^_`|~")
    return name.lower()


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"Header {name!r} must have a str value, got {type(value).__name__}: {value!r}")
    value = value.strip(" \t")
    if "\r" in value or "\n" in value or "\0" in value:
        raise ValueError(f"Invalid value for header {name!r}: it contains a line break or NUL")
    return value


class Headers:
    """Fetch's `Headers`: case-insensitive names (kept lowercase), several values per name allowed.

    `get` joins repeated values with ", " as fetch does; `items()` lists names sorted, as fetch iterates.
    """

    __slots__ = ("_pairs",)

    def __init__(self, init: Any = None) -> None:
        self._pairs: list[tuple[str, str]] = []
        if init is None:
            return
        if isinstance(init, Headers):
            self._pairs = list(init._pairs)
            return
        if isinstance(init, Mapping):
            pairs = list(init.items())
        elif isinstance(init, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in init):
            pairs = list(init)
        else:
            raise TypeError(f"Headers take a dict or a list of (name, value) pairs, got {init!r}")
        for name, value in pairs:
            self.append(name, value)

    def append(self, name: str, value: str) -> None:
        """Add a value for `name`, keeping the ones it has."""
        key = _header_name(name)
        self._pairs.append((key, _header_value(key, value)))

    def set(self, name: str, value: str) -> None:
        """Make `value` the only value of `name`."""
        key = _header_name(name)
        value = _header_value(key, value)
        self._pairs = [(k, v) for k, v in self._pairs if k != key]
        self._pairs.append((key, value))

    def delete(self, name: str) -> None:
        key = _header_name(name)
        self._pairs = [(k, v) for k, v in self._pairs if k != key]

    def get(self, name: str, default: Any = None) -> Any:
        """The value of `name` (repeated values joined with ", "), or `default`."""
        key = name.lower() if isinstance(name, str) else name
        values = [v for k, v in self._pairs if k == key]
        return ", ".join(values) if values else default

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in the order given (e.g. several `set-cookie`)."""
        key = name.lower() if isinstance(name, str) else name
        return [v for k, v in self._pairs if k == key]

    def has(self, name: str) -> bool:
        key = name.lower() if isinstance(name, str) else name
        return any(k == key for k, _ in self._pairs)

    def raw(self) -> list[tuple[str, str]]:
        """The (name, value) pairs as they go on the wire."""
        return list(self._pairs)

    def keys(self) -> list[str]:
        return sorted({k for k, _ in self._pairs})

    def items(self) -> list[tuple[str, str]]:
        return [(k, self.get(k)) for k in self.keys()]

    def values(self) -> list[str]:
        return [value for _, value in self.items()]

    entries = items

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: str) -> None:
        self.set(name, value)

    def __delitem__(self, name: str) -> None:
        if not self.has(name):
            raise KeyError(name)
        self.delete(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.has(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self.items() == other.items()
        if isinstance(other, Mapping):
            return dict(self.items()) == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


# --- Request and Response --------------------------------------------------------------


class Blob(bytes):
    """fetch's Blob: bytes that know their content `type` ("" when unknown). `await request.blob()`
    gives one, `ctx.storage.store(blob)` keeps its type, `ctx.storage.get(id)` returns one, and
    `Response(blob)` sends it with that type, as in Convex."""

    type: str

    def __new__(cls, data: Any = b"", type: str = "") -> "Blob":
        blob = super().__new__(cls, data)
        blob.type = type.lower() if type.isascii() else ""
        return blob

    @property
    def size(self) -> int:
        return len(self)


def _body_bytes(body: Any, what: str) -> tuple[bytes | None, str | None]:
    """A body as bytes, and the content type fetch gives it (text for a str, a Blob's own type)."""
    if body is None:
        return None, None
    if isinstance(body, str):
        return body.encode(), "text/plain;charset=UTF-8"
    if isinstance(body, Blob):
        return bytes(body), body.type or None
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body), None
    raise TypeError(
        f"{what} body must be str or bytes (or None), got {type(body).__name__}"
        + (": send JSON with Response.json(data)" if what == "Response" else "")
    )


class _Body:
    """What a Request and a Response share: a body read at most once, as fetch reads it."""

    __slots__ = ()

    _body: bytes | None
    _used: bool
    _awaitable: bool

    @property
    def body_used(self) -> bool:
        """True once the body has been read (fetch's `bodyUsed`): a body reads only once."""
        return self._used

    def _consume(self) -> bytes:
        if self._used:
            raise TypeError("Body is unusable: the body has already been read (a body reads only once)")
        self._used = True
        return self._body or b""

    def _give(self, value: Any) -> Any:
        return Ready(value) if self._awaitable else value

    def bytes(self) -> Any:
        """The body as bytes (awaitable in an `async def` handler)."""
        return self._give(self._consume())

    def array_buffer(self) -> Any:
        """The body as bytes: fetch's `arrayBuffer()`."""
        return self.bytes()

    def blob(self) -> Any:
        """The body as a `Blob` typed with the `Content-Type` header (awaitable in an `async def` handler)."""
        return self._give(Blob(self._consume(), self.headers.get("content-type") or ""))

    def text(self) -> Any:
        """The body decoded as UTF-8 (awaitable in an `async def` handler)."""
        return self._give(self._consume().decode("utf-8", errors="replace"))

    def json(self) -> Any:
        """The body parsed as JSON (awaitable in an `async def` handler); bad JSON raises ValueError."""
        data = self._consume().decode("utf-8", errors="replace")
        return self._give(_json.loads(data))

    arrayBuffer = array_buffer
    bodyUsed = body_used


class Request(_Body):
    """A fetch-like request: `.method`, `.url`, `.headers`, and the body through `await request.json()`,
    `.text()`, `.bytes()` (read once). In a plain `def` handler the reads return their values directly."""

    __slots__ = ("method", "url", "headers", "_body", "_used", "_awaitable")

    def __init__(self, url: str, *, method: str = "GET", headers: Any = None, body: Any = None) -> None:
        if not isinstance(url, str):
            raise TypeError(f"Request url must be a str, got {url!r}")
        if not isinstance(method, str) or not method or not set(method) <= _TOKEN_CHARS:
            raise TypeError(f"Invalid request method {method!r}")
        self.method = method.upper()
        self.url = url
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        data, content_type = _body_bytes(body, "Request")
        if data is not None and self.method in ("GET", "HEAD"):
            raise TypeError("Request with GET/HEAD method cannot have body.")
        if content_type is not None and "content-type" not in self.headers:
            self.headers.set("content-type", content_type)
        self._body = data
        self._used = False
        self._awaitable = True

    @property
    def path(self) -> str:
        """The URL's path (without the query string): what routes match against."""
        from urllib.parse import urlsplit

        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> dict[str, str]:
        """The URL's query parameters (the first value of each): `new URL(request.url).searchParams`."""
        from urllib.parse import parse_qsl, urlsplit

        params: dict[str, str] = {}
        for key, value in parse_qsl(urlsplit(self.url).query, keep_blank_values=True):
            params.setdefault(key, value)
        return params

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url}>"


class Response(_Body):
    """A fetch-like response: `Response(body=None, *, status=200, headers=None)`, body `str` or `bytes`.

    A `str` body is sent as `text/plain;charset=UTF-8` unless the headers say otherwise;
    `Response.json(data)` sends JSON.
    """

    __slots__ = ("status", "status_text", "headers", "_body", "_used", "_awaitable")

    def __init__(self, body: Any = None, *, status: int = 200, headers: Any = None, status_text: str = "") -> None:
        if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
            raise ValueError(f'init["status"] must be in the range of 200 to 599, inclusive (got {status!r}).')
        data, content_type = _body_bytes(body, "Response")
        if data is not None and status in _NULL_BODY_STATUSES:
            raise TypeError(f"Response with null body status cannot have body (status {status}).")
        self.status = status
        self.status_text = status_text
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        if content_type is not None and "content-type" not in self.headers:
            self.headers.set("content-type", content_type)
        self._body = data
        self._used = False
        self._awaitable = False

    @property
    def body(self) -> bytes | None:
        """The body's bytes (None for no body)."""
        return self._body

    @property
    def ok(self) -> bool:
        return 200 <= self.status <= 299

    @classmethod
    def _from_json(cls, data: Any, *, status: int = 200, headers: Any = None) -> "Response":
        """A response whose body is `data` as JSON, with `content-type: application/json`."""
        merged = Headers(headers)
        if "content-type" not in merged:
            merged.set("content-type", "application/json")
        return cls(_json.dumps(data, separators=(",", ":")), status=status, headers=merged)

    @classmethod
    def redirect(cls, url: str, status: int = 302) -> "Response":
        """A redirect to `url` (status 301, 302, 303, 307 or 308)."""
        if status not in _REDIRECT_STATUSES:
            raise ValueError(f"Invalid redirect status {status!r}: use 301, 302, 303, 307 or 308.")
        return cls(None, status=status, headers={"location": url})

    def __repr__(self) -> str:
        return f"<Response [{self.status}]>"


class _JsonMethod:
    """`Response.json(data)` makes a JSON response (fetch's static method); `response.json()` reads one."""

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        if obj is None:
            return cls._from_json
        return obj._read_json


Response._read_json = _Body.json  # type: ignore[attr-defined]
Response.json = _JsonMethod()  # type: ignore[assignment,method-assign]


# --- HTTP actions and the router -------------------------------------------------------------


class HttpAction:
    """An `@http_action` handler `(ctx, request) -> Response`, with an action's ctx."""

    __slots__ = ("handler", "is_async", "__dict__")

    def __init__(self, handler: Callable[..., Any]) -> None:
        if not callable(handler) or isinstance(handler, HttpAction):
            raise TypeError(f"@http_action needs a function (ctx, request) -> Response, got {handler!r}")
        self.handler = handler
        self.is_async = inspect.iscoroutinefunction(handler)
        self.__name__ = getattr(handler, "__name__", "handler")
        self.__qualname__ = getattr(handler, "__qualname__", self.__name__)
        self.__module__ = getattr(handler, "__module__", __name__)
        self.__doc__ = getattr(handler, "__doc__", None)

    def __repr__(self) -> str:
        return f"<http_action {self.__module__}.{self.__name__}>"


def http_action(handler: Callable[..., Any]) -> HttpAction:
    """Declare an HTTP action: `@http_action` on `async def handler(ctx, request) -> Response`."""
    return HttpAction(handler)


class HttpRouter:
    """Routes of `convex/http.py`: an exact `path`, or a `path_prefix` ending in "/", per method.

    An exact path wins over any prefix, and among prefixes the longest wins (Convex refuses a
    prefix or path that an earlier, shorter prefix would shadow).
    """

    def __init__(self) -> None:
        self.exact_routes: dict[str, dict[str, HttpAction]] = {}
        self.prefix_routes: dict[str, dict[str, HttpAction]] = {}
        self._prefixes_longest_first: dict[str, list[str]] = {}

    def route(self, spec: Mapping[str, Any] | None = None, /, *, path: str | None = None,
              path_prefix: str | None = None, method: str | None = None, handler: Any = None,
              **convex_names: Any) -> None:
        """Route `method` requests for `path` (exact) or `path_prefix` (ends with "/") to `handler`.

        Convex's spelling works too: `http.route({"path": ..., "method": ..., "handler": ...})`
        or `pathPrefix=`.
        """
        given = dict(spec or {})
        unknown = set(convex_names) - {"pathPrefix"} | set(given) - {"path", "pathPrefix", "path_prefix", "method", "handler"}
        if unknown:
            raise TypeError(f"http.route got unexpected arguments: {', '.join(sorted(unknown))}")
        path = given.get("path", path)
        path_prefix = given.get("pathPrefix", given.get("path_prefix", convex_names.get("pathPrefix", path_prefix)))
        method = given.get("method", method)
        handler = given.get("handler", handler)
        if not handler:
            raise HttpRouteError("route requires handler")
        if not method:
            raise HttpRouteError("route requires method")
        if method not in ROUTABLE_HTTP_METHODS:
            raise HttpRouteError(f"'{method}' is not an allowed HTTP method (like GET, POST, PUT etc.)")
        if (path is None) == (path_prefix is None):
            raise HttpRouteError("route takes exactly one of path= (an exact path) or path_prefix= (a prefix ending in /)")
        where = path if path is not None else path_prefix
        if not isinstance(handler, HttpAction):
            raise HttpRouteError(
                f"The handler of {method} {where} must be an @http_action function, got {handler!r}; "
                "decorate it with @http_action."
            )
        if not isinstance(where, str) or not where.startswith("/"):
            raise HttpRouteError(f"path '{where}' does not start with a /")
        prefixes = self.prefix_routes.get(method, {})
        if path is not None:
            for prefix in prefixes:
                if path.startswith(prefix):
                    raise HttpRouteError(f"{method} path {path} is shadowed by pathPrefix {prefix}")
            methods = self.exact_routes.setdefault(path, {})
            if method in methods:
                raise HttpRouteError(f"Path '{path}' for method {method} already in use")
            methods[method] = handler
            return
        assert path_prefix is not None
        if not path_prefix.endswith("/"):
            raise HttpRouteError(f"pathPrefix {path_prefix} must end with a /")
        for prefix in prefixes:
            if path_prefix.startswith(prefix):
                raise HttpRouteError(f"{method} pathPrefix {path_prefix} is shadowed by pathPrefix {prefix}")
        self.prefix_routes.setdefault(method, {})[path_prefix] = handler
        self._prefixes_longest_first[method] = sorted(self.prefix_routes[method], key=len, reverse=True)

    def get_routes(self) -> list[tuple[str, str, HttpAction]]:
        """Every route as (path, method, handler); a prefix route's path is "<prefix>*"."""
        exact = [(path, method, self.exact_routes[path][method])
                 for path in sorted(self.exact_routes) for method in sorted(self.exact_routes[path])]
        prefixed = [(f"{prefix}*", method, self.prefix_routes[method][prefix])
                    for method in sorted(self.prefix_routes) for prefix in sorted(self.prefix_routes[method])]
        return exact + prefixed

    def lookup(self, path: str, method: str) -> tuple[HttpAction, str, str] | None:
        """(handler, method, routed path) for a request, or None; HEAD is routed as GET."""
        if method == "HEAD":
            method = "GET"
        exact = self.exact_routes.get(path)
        if exact is not None and method in exact:
            return exact[method], method, path
        for prefix in self._prefixes_longest_first.get(method, ()):
            if path.startswith(prefix):
                return self.prefix_routes[method][prefix], method, f"{prefix}*"
        return None

    getRoutes = get_routes

    def __repr__(self) -> str:
        return f"<HttpRouter {len(self.get_routes())} routes>"


def http_router() -> HttpRouter:
    """A new router for `convex/http.py`: `http = http_router()`, then `http.route(...)`."""
    return HttpRouter()
