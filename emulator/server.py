"""The dev server: Convex's HTTP API on loopback, on the real clock, for real Convex clients.

`POST /api/query|mutation|action` with `{"path", "args", "format"}` (the
JavaScript client sends `args` as a one-element array, the Python client as an
object), and `POST /api/run/{module}/{function}`. Values travel in Convex's JSON
encoding. A function's error is `{"status": "error", ...}`: with status 560 as
Convex answers, or 200 for the Python client, which treats any non-2xx status
as a transport failure. A background thread keeps the emulator's clock on real
time, so scheduled functions and crons run when due.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from convex_py.errors import ConvexError, ConvexPyError, FunctionNotFoundError, InvalidValueError

from . import convex_json
from ._emulator import ConvexEmulator
from .runtime import make_identity
from .scheduler import error_text

MAX_BODY_BYTES = 20 * 1024 * 1024  # Convex's 16 MiB argument limit, plus JSON overhead
UDF_FAILED = 560
_KINDS = ("query", "mutation", "action")
_PROFILE_CLAIMS = ("name", "given_name", "family_name", "nickname", "preferred_username", "profile_url",
                   "picture_url", "email", "email_verified", "gender", "birthday", "timezone", "language",
                   "phone_number", "phone_number_verified", "address", "updated_at")


class _LogCapture:
    """A stdout that keeps what each request's thread prints, for the response's `logLines`.

    Other threads (the clock's scheduled functions and crons) print through to the real stdout.
    """

    def __init__(self, real: Any) -> None:
        self.real = real
        self.local = threading.local()

    def start(self) -> None:
        self.local.lines = []
        self.local.partial = ""

    def finish(self) -> list[str]:
        lines = getattr(self.local, "lines", None) or []
        if getattr(self.local, "partial", ""):
            lines.append(self.local.partial)
        self.local.lines = None
        self.local.partial = ""
        return lines

    def write(self, text: str) -> int:
        lines = getattr(self.local, "lines", None)
        if lines is None:
            return self.real.write(text)
        pieces = (self.local.partial + text).split("\n")
        self.local.partial = pieces.pop()
        lines.extend(f"[LOG] {piece}" for piece in pieces)
        return len(text)

    def flush(self) -> None:
        self.real.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class RequestError(Exception):
    """A malformed request: answered with a 4xx status and a JSON body, never a crash."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class TokenVerifier:
    """Checks a JWT's signature against a JWKS file, and its issuer (`--auth-issuer`, `--jwks`)."""

    def __init__(self, jwks_path: str, issuer: str | None) -> None:
        import jwt

        try:
            self.keys = jwt.PyJWKSet.from_json(open(jwks_path).read())
        except (OSError, ValueError, jwt.PyJWTError) as exc:
            raise ConvexPyError(f"Cannot read the JWKS file {jwks_path!r}: {exc}") from None
        self.issuer = issuer

    def claims(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            candidates = [k for k in self.keys.keys if header.get("kid") in (None, k.key_id)] or self.keys.keys
            last: Exception | None = None
            for key in candidates:
                try:
                    return jwt.decode(token, key.key, algorithms=[header.get("alg", "RS256")], issuer=self.issuer,
                                      options={"verify_aud": False, "require": ["iss", "sub"]})
                except jwt.InvalidSignatureError as exc:
                    last = exc
            raise last or jwt.InvalidSignatureError("no key matches")
        except jwt.PyJWTError as exc:
            raise RequestError(401, "InvalidAuthHeader", f"Could not verify the JWT: {exc}") from None


def identity_from_token(header: str | None, verifier: TokenVerifier | None = None) -> dict[str, Any] | None:
    """The identity in a `Bearer <JWT>` header's claims, checked by `verifier` when there is one."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        raise RequestError(401, "InvalidAuthHeader", "Authorization must be 'Bearer <JWT>'")
    if verifier is not None:
        claims = verifier.claims(token)
    else:
        payload = token.split(".")[1]
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (ValueError, TypeError):
            raise RequestError(401, "InvalidAuthHeader", "The JWT's payload is not base64url-encoded JSON") from None
    if not isinstance(claims, dict) or "sub" not in claims or "iss" not in claims:
        raise RequestError(401, "InvalidAuthHeader", "The JWT needs `iss` and `sub` claims")
    identity: dict[str, Any] = {"subject": str(claims["sub"]), "issuer": str(claims["iss"])}
    identity["tokenIdentifier"] = f"{identity['issuer']}|{identity['subject']}"
    for claim in _PROFILE_CLAIMS:
        if claim in claims:
            identity[_camel(claim)] = claims[claim]
    return make_identity(identity)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class DevServer:
    """An emulator served over HTTP, its clock following real time."""

    def __init__(self, emulator: ConvexEmulator, host: str = "127.0.0.1", port: int = 3210,
                 tick_seconds: float = 0.05, db: str | None = None, jwks: str | None = None,
                 auth_issuer: str | None = None) -> None:
        self.emulator = emulator
        self.verifier = TokenVerifier(jwks, auth_issuer) if jwks is not None else None
        self.lock = emulator._runtime.lock
        self.persistence: Any = None
        self.restored = 0
        if db is not None:
            from .persistence import Persistence

            self.persistence = Persistence(db, emulator, log=lambda line: print(f"convex-py dev: {line}", flush=True))
            self.restored = self.persistence.load()
        self.tick_seconds = tick_seconds
        self._stop = threading.Event()
        handler = type("Handler", (_Handler,), {"dev": self})
        self.httpd = _Server((host, port), handler)
        self._ticker = threading.Thread(target=self._tick, name="convex-py-clock", daemon=True)
        self.logs: _LogCapture | None = None

    def _capture_logs(self) -> None:
        """Route prints through the capture (again, if someone else, e.g. pytest, swapped stdout since)."""
        import sys

        if self.logs is None or sys.stdout is not self.logs:
            self.logs = _LogCapture(sys.stdout)
            sys.stdout = self.logs

    def _release_logs(self) -> None:
        import sys

        if self.logs is not None and sys.stdout is self.logs:
            sys.stdout = self.logs.real
        self.logs = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def sync_clock(self) -> None:
        """Move the virtual clock to real time, running whatever fell due."""
        with self.lock:
            real = time.time() * 1000
            if real > self.emulator.now:
                self.emulator.advance_to(real)
            self.save()

    def save(self) -> None:
        """Write what changed to the --db file, if there is one."""
        if self.persistence is not None:
            with self.lock:
                self.persistence.save()

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            try:
                self.sync_clock()
            except Exception as exc:  # a runaway loop in the app must not kill the clock thread
                print(f"convex-py dev: scheduler error: {exc}", flush=True)

    _background = False

    def start(self) -> "DevServer":
        """Serve from background threads (tests, embedding); `stop()` ends it."""
        self._capture_logs()
        self._ticker.start()
        self._background = True
        threading.Thread(target=self.httpd.serve_forever, name="convex-py-http", daemon=True).start()
        return self

    def serve_forever(self) -> None:
        self._capture_logs()
        self._ticker.start()
        try:
            self.httpd.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._background:  # in serve_forever's own thread the loop has already ended
            self.httpd.shutdown()
        self.httpd.server_close()
        if self._ticker.is_alive():
            self._ticker.join(timeout=5)
        self.save()
        if self.persistence is not None:
            self.persistence.close()
        self._release_logs()
        self.emulator.close()

    def call(self, kind: str | None, path: Any, args: Any, identity: dict[str, Any] | None) -> Any:
        """Run a public function for a client; internal ones answer as if they did not exist."""
        if not isinstance(path, str) or not path:
            raise RequestError(400, "BadJsonBody", "The request needs a `path` string, e.g. \"messages:list\"")
        app = self.emulator.app
        try:
            resolved, fn = app.resolve(path)
        except FunctionNotFoundError:
            fn = None
            resolved = path
        if fn is None or fn.visibility != "public":
            raise FunctionNotFoundError(f"Could not find public function for '{resolved}'")
        if kind is not None and fn.kind != kind:
            raise FunctionNotFoundError(f"Could not find public {kind} for '{resolved}' (it is a {fn.kind})")
        self.sync_clock()
        caller = self.emulator.with_identity(identity) if identity is not None else self.emulator
        try:
            return getattr(caller, fn.kind)(resolved, args)
        finally:
            self.save()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connecting at once must not wait for a retry


class _Handler(BaseHTTPRequestHandler):
    dev: DevServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart
    timeout = 30  # a slow client loses its connection, not the server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the start-up line says enough
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(data)

    def do_OPTIONS(self) -> None:
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Authorization, Convex-Client")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if self.path in ("/", "/version", "/instance_version"):
            self._send(200, {"status": "ok", "server": "convex-py"})
        else:
            self._send(404, {"code": "NotFound", "message": f"No route for GET {self.path}"})

    def _body(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise RequestError(411, "LengthRequired", "The request needs a Content-Length")
        if int(length) > MAX_BODY_BYTES:
            self._discard(int(length))
            raise RequestError(413, "RequestTooLarge", f"The body is larger than {MAX_BODY_BYTES} bytes")
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            raise RequestError(400, "BadJsonBody", "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise RequestError(400, "BadJsonBody", "The request body must be a JSON object")
        return body

    def _discard(self, length: int) -> None:
        """Read and drop an oversized body (up to 4x the limit) so the client reads our answer."""
        if length > 4 * MAX_BODY_BYTES:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def do_POST(self) -> None:
        self.dev._capture_logs()
        logs = self.dev.logs
        if logs is not None:
            logs.start()
        try:
            self._post()
        finally:
            if logs is not None:
                logs.finish()

    def _log_lines(self) -> list[str]:
        logs = self.dev.logs
        return logs.finish() if logs is not None else []

    def _post(self) -> None:
        python_client = self.headers.get("Convex-Client", "").startswith("python")
        try:
            kind, path = self._route()
            body = self._body()
            if path is None:
                path = body.get("path")
            args = body.get("args", {})
            if isinstance(args, list):
                if len(args) > 1:
                    raise RequestError(400, "BadJsonBody", "`args` must be an object or a one-element array")
                args = args[0] if args else {}
            try:
                args = convex_json.decode(args)
            except InvalidValueError as exc:
                raise RequestError(400, "BadConvexValue", str(exc)) from None
            identity = identity_from_token(self.headers.get("Authorization"), self.dev.verifier)
            result = self.dev.call(kind, path, args, identity)
            self._send(200, {"status": "success", "value": convex_json.encode(result), "logLines": self._log_lines()})
        except RequestError as exc:
            self._send(exc.status, {"code": exc.code, "message": str(exc)})
        except ConvexError as exc:
            self._send(200 if python_client else UDF_FAILED, {
                "status": "error", "errorMessage": error_text(exc), "errorData": convex_json.encode(exc.data),
                "logLines": self._log_lines(),
            })
        except Exception as exc:  # the app's error, or a ConvexPyError: the client sees it, the server goes on
            message = str(exc) if isinstance(exc, ConvexPyError) else error_text(exc)
            self._send(200 if python_client else UDF_FAILED,
                       {"status": "error", "errorMessage": message, "logLines": self._log_lines()})

    def _route(self) -> tuple[str | None, str | None]:
        route = self.path.split("?", 1)[0].rstrip("/")
        for kind in _KINDS:
            if route == f"/api/{kind}":
                return kind, None
        if route.startswith("/api/run/"):
            parts = [p for p in route[len("/api/run/"):].split("/") if p]
            if len(parts) >= 2:
                return None, "/".join(parts[:-1]) + ":" + parts[-1]
        raise RequestError(404, "NotFound", f"No route for POST {self.path}")


def startup_line(server: DevServer, app: str) -> str:
    emulator = server.emulator
    public = sum(1 for fn in emulator.app.functions.values() if fn.visibility == "public")
    crons = len(emulator.app.crons.jobs) if emulator.app.crons is not None else 0
    stored = (f"; state in {server.persistence.path} ({server.restored} documents restored)"
              if server.persistence is not None else "; state in memory")
    if server.verifier is None:
        auth = "Auth tokens are NOT verified: their claims are trusted as given."
    else:
        issuer = f" from issuer {server.verifier.issuer}" if server.verifier.issuer else ""
        auth = f"Auth tokens are verified against the JWKS{issuer}."
    return (f"convex-py dev: serving {app} at {server.url} ({len(emulator.app.functions)} functions, "
            f"{public} public; {crons} crons{stored}). {auth}")
