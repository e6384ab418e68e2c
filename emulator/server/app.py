"""`DevServer`: an emulator served by uvicorn on one asyncio loop, its clock following real time.

Queries and mutations run on the loop, one at a time under the runtime's lock
(they are short, and the lock serializes them anyway). Actions do not hold it:
an async action is a task of the loop and its awaits (network I/O, sleeps) end
when they end; a sync action runs in a worker thread, taking the lock only for
each `run_query`/`run_mutation` it makes. The clock moves to real time on a
tick and before each call, running what fell due; scheduled and cron actions
start on the loop in the same way. With `--db`, a mutation's answer waits until
its commit is on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from convex_py.errors import FunctionNotFoundError

from .._emulator import ConvexEmulator
from . import logs
from .auth import TokenVerifier
from .persistence import Persistence
from .protocol import MAX_HEAD_BYTES, PROTOCOL
from .routes import _Guard as _guard
from .routes import build_app, routes
from .site import SiteApp
from .storage_routes import ByPort, storage_routes


def _real_now() -> float:
    return time.time() * 1000


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said outright: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say it,
    # and uvicorn writes headers and body apart, which Nagle and delayed ACKs would hold 40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)  # many clients connecting at once must not wait for a retry
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn` in a daemon thread with this context (log routing included); await its result.

    Daemon threads, not an executor: an action blocked forever must not keep the process alive.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def target() -> None:
        try:
            result = context.run(fn, *args)
        except BaseException as exc:  # handed to the awaiting task
            _call_soon(loop, _set_exception, future, exc)
        else:
            _call_soon(loop, _set_result, future, result)

    threading.Thread(target=target, name="convex-py-action", daemon=True).start()
    return await future


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # the loop has closed: the server stopped meanwhile
        pass


def _set_result(future: "asyncio.Future[Any]", value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: "asyncio.Future[Any]", exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class DevServer:
    """An emulator served over HTTP on `host:port` (bound at construction), its clock on real time."""

    def __init__(self, emulator: ConvexEmulator, host: str = "127.0.0.1", port: int = 3210,
                 tick_seconds: float = 0.05, db: str | None = None, jwks: str | None = None,
                 auth_issuer: str | None = None, auth_audience: str | None = None,
                 clock: Callable[[], float] | None = None,
                 site_port: int | None = None, static: str | None = None) -> None:
        self.emulator = emulator
        # Where the virtual clock is pushed to, in ms: real time, or a fast clock for a soak test.
        self.real_now: Callable[[], float] = clock if clock is not None else _real_now
        self.static = static  # a folder served at / (e.g. a page using the convex browser bundle)
        self.runtime = emulator._runtime
        self.lock = self.runtime.lock
        self.verifier = TokenVerifier(jwks, auth_issuer, auth_audience) if jwks is not None else None
        self.tick_seconds = tick_seconds
        self.persistence: Persistence | None = None
        self.restored = 0
        self.files = self.runtime.storage
        self.files.secret = os.urandom(32)  # upload URLs of this run (a --db file keeps its own)
        self.http = emulator._http
        self.http.random_request_ids = True
        self.http.log = self.log
        if db is not None:
            self.persistence = Persistence(db, emulator, log=self.log)
            try:
                self.restored = self.persistence.load()
            except BaseException:
                self.persistence.close()
                raise
            self.runtime.commit_hook = self.persistence.commit
        try:
            self.socket = _bind(host, port)
        except BaseException:
            self._close_state()
            raise
        self.address: tuple[str, int] = self.socket.getsockname()[:2]
        try:  # HTTP actions on the next port, as Convex's local backend serves 3211 beside 3210
            self.site_socket = _bind(host, site_port if site_port is not None else port + 1 if port else 0)
        except BaseException:
            self.socket.close()
            self._close_state()
            raise
        self.site_address: tuple[str, int] = self.site_socket.getsockname()[:2]
        self.files.api_url = self.url
        self.http.site_url = self.site_url
        self.routes = routes(self) + storage_routes(self)
        self.app = build_app(self.routes)
        config = uvicorn.Config(
            ByPort(self.app, _guard(SiteApp(self)), self.site_address[1]), http=PROTOCOL, lifespan="off", log_config=None, access_log=False,
            server_header=False, date_header=False, proxy_headers=False, timeout_keep_alive=30,
            timeout_graceful_shutdown=2, h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        )
        self.uvicorn = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._on_ready: Callable[[], None] | None = None  # serve_forever: called once serving, Ctrl-C handled
        self._finished = threading.Event()
        self._failure: BaseException | None = None
        self._stopped = False
        self._stopping = False
        self._actions: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def site_url(self) -> str:
        """Where HTTP actions are served (Convex's `.convex.site` URL)."""
        host, port = self.site_address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def log(self, line: str) -> None:
        """A line of the server's own log (stdout), never captured as a function's log line."""
        logs._original_print(f"convex-py dev: {line}", flush=True)

    # --- running -------------------------------------------------------------------

    def start(self) -> "DevServer":
        """Serve from a background thread (tests, embedding); `stop()` ends it."""
        self._thread = threading.Thread(target=self._run, args=(False,), name="convex-py-dev", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=30)
        if self._failure is not None:
            raise self._failure
        return self

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in this thread until Ctrl-C (SIGINT) or SIGTERM, then stop.

        `on_ready` is called once the server accepts requests and Ctrl-C is handled (the CLI
        prints its start-up line then, so a Ctrl-C right after that line always stops cleanly).
        """
        self._on_ready = on_ready
        try:
            self._run(True)
        finally:
            self.stop()
        if self._failure is not None:
            raise self._failure

    def _run(self, signals: bool) -> None:
        try:
            asyncio.run(self._main(signals))
        except BaseException as exc:  # reported by start()/serve_forever(), not printed by the thread
            self._failure = exc
        finally:
            self._ready.set()
            self._finished.set()

    async def _main(self, signals: bool) -> None:
        loop = asyncio.get_running_loop()
        self.loop = loop
        self._stop_event = asyncio.Event()
        if signals:
            import signal

            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self._stop_event.set)
        scheduler = self.emulator._scheduler
        scheduler.action_runner = self._start_action
        self._cap_logs()
        scheduler.log_context = self._function_logs
        logs.install()
        server = self.uvicorn
        tick = loop.create_task(self._tick())
        try:
            server.config.load()
            server.lifespan = server.config.lifespan_class(server.config)
            await server.startup(sockets=[self.socket, self.site_socket])
            self._ready.set()
            on_ready = self._on_ready
            if on_ready is not None:
                on_ready()
            if not self._stopped:
                await self._stop_event.wait()
        finally:
            self._stopping = True
            tick.cancel()
            try:
                await server.shutdown(sockets=[self.socket, self.site_socket])
            finally:
                for task in list(self._actions):  # found inProgress at the next start, as after a crash
                    task.cancel()
                scheduler.action_runner = None
                scheduler.log_context = None
                logs.uninstall()

    def stop(self) -> None:
        """Stop serving, write what is pending to the --db file and release it."""
        if self._stopped:
            return
        self._stopped = True
        loop, event = self.loop, self._stop_event
        if loop is not None and event is not None and not self._finished.is_set():
            _call_soon(loop, event.set)
            if self._thread is not threading.current_thread():
                self._finished.wait(timeout=10)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.socket.close()
        self.site_socket.close()
        self._close_state()

    def _close_state(self) -> None:
        if self.persistence is not None:
            try:
                with self.lock:
                    self.persistence.save()
            except Exception as exc:  # reported, and the file keeps its last good state
                self.log(str(exc))
            self.runtime.commit_hook = None
            self.persistence.close()
        self.emulator.close()

    # --- the clock -------------------------------------------------------------------

    def sync_clock(self) -> None:
        """Move the virtual clock to real time, running whatever fell due, and save what changed."""
        with self.lock:
            self._advance()
            if self.persistence is not None:
                self.persistence.save()

    def _advance(self) -> None:
        real = self.real_now()
        if real > self.emulator.now:
            self.emulator.advance_to(real)

    def save(self) -> None:
        """Write what changed to the --db file, if there is one."""
        if self.persistence is not None:
            with self.lock:
                self.persistence.save()

    max_log_entries = 10_000  # of each execution and cron-run log: a server runs for days, memory stays flat

    def _cap_logs(self) -> None:
        """Keep only the newest `max_log_entries` of each log (a server shows no timeline)."""
        emulator = self.emulator
        logs_ = [emulator._scheduler.executions, emulator._crons.runs]
        runtime_crons = getattr(emulator._runtime, "runtime_crons", None)
        if runtime_crons is not None:
            logs_.append(runtime_crons.runs)
        tree = emulator._components
        if tree:
            logs_ += [node.crons.runs for path, node in tree.registry.items() if path]
        for log in logs_:
            log.cap = self.max_log_entries
            while len(log) > self.max_log_entries:
                log.popleft()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            if not self.lock.acquire(blocking=False):
                continue  # a worker thread is in a query or mutation: try at the next tick
            try:
                self._advance()
                if self.persistence is not None:
                    self.persistence.save()
                    self.persistence.kick()  # what scheduled work wrote reaches the disk within a tick
            except Exception as exc:  # a runaway loop in the app must not stop the clock
                self.log(f"scheduler error: {exc}")
            finally:
                self.lock.release()

    # --- scheduled and cron actions, on the server's loop --------------------------------

    @contextlib.contextmanager
    def _function_logs(self, path: str) -> Iterator[None]:
        token = logs.use(logs.FunctionLogs(path, self.log))
        try:
            yield
        finally:
            logs.reset(token)

    def _start_action(self, path: str, fn: Any, args: Any, job_id: Any,
                      on_done: Callable[[BaseException | None], None], runtime: Any = None) -> None:
        """The scheduler's hook: start a due action on the loop; `on_done` runs there when it ends.

        `runtime` is the one the action runs in: the app's, or the component's whose job or cron it is."""
        loop = self.loop
        assert loop is not None
        if runtime is None:
            runtime = self.runtime
        context = contextvars.copy_context()
        context.run(logs.use, logs.FunctionLogs(path, self.log))

        def done(error: BaseException | None) -> None:
            if self._stopping:
                return  # left inProgress: the next start fails it, as after a crash
            try:
                with self.lock:
                    on_done(error)
                    if self.persistence is not None:
                        self.persistence.save()
            except Exception as exc:
                self.log(f"scheduler error: {exc}")

        if fn.is_async:
            def begin() -> None:
                coroutine = runtime.action_coroutine_for(path, fn, args, None, job_id)
                task = loop.create_task(coroutine, context=context)
                self._actions.add(task)

                def finished(task: "asyncio.Task[Any]") -> None:
                    self._actions.discard(task)
                    done(asyncio.CancelledError() if task.cancelled() else task.exception())

                task.add_done_callback(finished)

            _call_soon(loop, begin)
            return

        def target() -> None:
            try:
                context.run(runtime.run_action, path, fn, args, None, job_id)
            except BaseException as exc:
                _call_soon(loop, done, exc)
            else:
                _call_soon(loop, done, None)

        threading.Thread(target=target, name=f"convex-py-action {path}", daemon=True).start()

    # --- calls from clients ------------------------------------------------------------

    def resolve_public(self, kind: str | None, path: str) -> tuple[str, Any]:
        """A public function for a client; internal ones answer as if they did not exist."""
        try:
            resolved, fn = self.emulator.app.resolve(path)
        except FunctionNotFoundError:
            fn = None
            resolved = path
        if fn is None or fn.visibility != "public":
            raise FunctionNotFoundError(f"Could not find public function for '{resolved}'")
        if kind is not None and fn.kind != kind:
            raise FunctionNotFoundError(f"Could not find public {kind} for '{resolved}' (it is a {fn.kind})")
        return resolved, fn

    async def call(self, kind: str | None, path: str, args: Any, identity: dict[str, Any] | None) -> Any:
        """Run a public function for a client; with --db, answer once what it wrote is on disk."""
        resolved, fn = self.resolve_public(kind, path)
        runtime = self.runtime
        persistence = self.persistence
        if fn.kind == "action":
            self.sync_clock()
            if fn.is_async:
                result = await runtime.action_coroutine_for(resolved, fn, args, identity)
            else:
                result = await in_thread(runtime.run_action, resolved, fn, args, identity)
            if persistence is not None:
                self.save()  # what it scheduled through ctx.scheduler
        else:
            with self.lock:
                self._advance()
                if fn.kind == "query":
                    result = runtime.run_query(resolved, fn, args, identity)
                else:
                    result = runtime.run_mutation(resolved, fn, args, identity)
                if persistence is not None and self.emulator.store.dirty:
                    persistence.save()  # what the clock's due work changed outside transactions
        if persistence is not None and fn.kind != "query":
            await persistence.durable()  # no write is acknowledged before it is on disk
        return result


    async def http_action(self, method: str, target: str, headers: Any, body: bytes | None,
                          identity: dict[str, Any] | None, *, site_url: str) -> Any:
        """Answer a request of the site port; with --db, once what it stored or scheduled is on disk."""
        self.sync_clock()
        response = await self.http.handle_async(method, target, headers, body, identity, site_url=site_url,
                                                in_thread=in_thread)
        if self.persistence is not None:
            self.save()
            await self.persistence.durable()
        return response

    async def after_upload(self) -> None:
        """An upload committed a file: with --db, answer once it is on disk."""
        if self.persistence is not None:
            self.save()
            await self.persistence.durable()


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
    page = f" The files of {server.static} at {server.url}/." if server.static is not None else ""
    return (f"convex-py dev: serving {app} at {server.url} ({len(emulator.app.functions)} functions, "
            f"{public} public; {crons} crons{stored}); HTTP actions at {server.site_url}. {auth}{page}")


__all__ = ["DevServer", "in_thread", "startup_line"]
