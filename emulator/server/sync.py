"""Convex's sync protocol on `/api/<version>/sync`: live queries, mutations and actions over one WebSocket.

The client names the queries it wants (`ModifyQuerySet`); the server answers with
`Transition`s from one state version (query set, identity, timestamp) to the next,
carrying each query's new result. Queries are live queries of the engine
(`emulator.live`): a commit that writes into what one read marks it, and the
session re-runs everything marked at one snapshot (holding the runtime's lock) and
sends what changed. A mutation's answer carries its commit timestamp; the client
waits for a transition at or past it, which the session sends right after.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from collections import OrderedDict
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from convex_py._values import values_equal
from convex_py.errors import ConvexError, ConvexPyError, FunctionNotFoundError, InvalidValueError

from ..live import LiveQueries, Watch
from ..scheduler import error_text
from . import convex_json, logs
from .auth import identity_from_token
from .errors import RequestError


PING_SECONDS = 15.0  # Convex pings an idle connection every 15 s; clients give up after 30-60 s of silence
MAX_MESSAGE_BYTES = 20 * 1024 * 1024
_REMEMBERED_MUTATIONS = 10_000  # answers kept per server, so a mutation a client re-sends runs once


def encode_ts(ts: int) -> str:
    """A timestamp as the protocol carries it: base64 of its 8 little-endian bytes."""
    return base64.b64encode(struct.pack("<Q", ts)).decode()


def _canonical(path: Any) -> str:
    """`"messages.js:list"` (as the clients send it) as `"messages:list"`."""
    if not isinstance(path, str) or not path:
        raise RequestError(400, "BadRequest", "`udfPath` must be a function path string, e.g. \"messages:list\"")
    module, colon, name = path.rpartition(":")
    if not colon:
        module, name = path, "default"
    if module.endswith(".js"):
        module = module[:-3]
    return f"{module}:{name}"


def _arguments(args: Any) -> dict[str, Any]:
    if isinstance(args, list):
        if len(args) != 1:
            raise RequestError(400, "BadRequest", "`args` must be a one-element array holding the arguments object")
        args = args[0]
    try:
        return convex_json.decode(args)
    except InvalidValueError as exc:
        raise RequestError(400, "BadConvexValue", f"Invalid arguments: {exc}") from None


def _failure(exc: BaseException) -> tuple[str, Any]:
    """(errorMessage, errorData or None) for a function's error, as the HTTP API words them."""
    if isinstance(exc, ConvexError):
        try:
            return error_text(exc), convex_json.encode(exc.data)
        except InvalidValueError:
            return f"{error_text(exc)} (its data is not a Convex value)", None
    if isinstance(exc, RequestError):
        return str(exc), None
    return (str(exc) if isinstance(exc, ConvexPyError) else error_text(exc)), None


class _Query:
    """One query of a client's query set: its watch, and the last result the client was sent."""

    __slots__ = ("query_id", "path", "fn", "args", "watch", "sent", "error")

    def __init__(self, query_id: int, path: str, fn: Any, args: Any, error: BaseException | None) -> None:
        self.query_id = query_id
        self.path = path
        self.fn = fn
        self.args = args
        self.watch: Watch | None = None
        self.sent: Any = _NOTHING  # the value or exception last sent
        self.error = error  # refused before it could run (unknown or internal function, bad args)


_NOTHING = object()


class SyncHub:
    """What the sync sessions of one server share: the live queries and the mutations already answered."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.live = LiveQueries.of(server.runtime)
        self.answered: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self.sessions: set["SyncSession"] = set()

    def remember(self, key: tuple[str, int], message: dict[str, Any]) -> None:
        self.answered[key] = message
        while len(self.answered) > _REMEMBERED_MUTATIONS:
            self.answered.popitem(last=False)

    async def endpoint(self, websocket: WebSocket) -> None:
        await websocket.accept()
        session = SyncSession(self, websocket)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            session.close()


class SyncSession:
    """One WebSocket connection: its query set, identity and the state version the client holds."""

    def __init__(self, hub: SyncHub, websocket: WebSocket) -> None:
        self.hub = hub
        self.server = hub.server
        self.websocket = websocket
        self.loop = asyncio.get_running_loop()
        self.session_id = ""
        self.queries: dict[int, _Query] = {}
        self._watch_ids: dict[Watch, int] = {}  # each query's watch, to find the query it belongs to
        # The version the client holds (last sent) and the one it asked for.
        self.sent_query_set = 0
        self.sent_identity = 0
        self.sent_ts = 0
        self.query_set = 0
        self.identity_version = 0
        self.identity: dict[str, Any] | None = None
        self.changes: list[dict[str, Any]] = []  # Add/Remove modifications not applied yet
        self.dirty: set[int] = set()  # queries a commit concerned (or whose identity changed)
        self.force = False  # send a transition even without changes (a mutation's answer awaits one)
        self.mutations_in_flight = 0  # while one runs, transitions wait: they must follow its answer
        self.wake = asyncio.Event()
        self.send_lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    # --- the connection ------------------------------------------------------------------

    async def run(self) -> None:
        self.last_send = self.loop.time()
        syncer = asyncio.create_task(self._sync_loop())
        pinger = asyncio.create_task(self._ping_loop())
        try:
            while True:
                try:
                    frame = await self.websocket.receive()
                except (WebSocketDisconnect, RuntimeError):
                    return
                if frame["type"] == "websocket.disconnect":
                    return
                try:
                    text = frame.get("text")
                    if text is None:
                        raise RequestError(400, "BadRequest", "Messages are JSON text frames, not binary ones")
                    await self._handle(text)
                except RequestError as exc:
                    await self._fatal(str(exc))
                    return
                except Exception as exc:  # a bug of ours: this connection ends, the server goes on
                    self.server.log(f"sync protocol error: {type(exc).__name__}: {exc}")
                    await self._fatal(f"Internal error: {type(exc).__name__}")
                    return
        finally:
            self.closed = True
            syncer.cancel()
            pinger.cancel()
            # Calls under way run to their end: a mutation cut off after its commit would run
            # again when the client re-sends it, unless its answer is remembered.

    async def _fatal(self, error: str) -> None:
        await self._send({"type": "FatalError", "error": error})
        try:
            await self.websocket.close(code=1011, reason=error[:120])
        except RuntimeError:
            pass

    def close(self) -> None:
        """Forget the session's queries (the connection has ended)."""
        with self.server.lock:
            for query in self.queries.values():
                if query.watch is not None:
                    query.watch.close()
            self.queries.clear()

    last_send = 0.0  # the loop's time of the last message sent (pings fill silences)

    async def _send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            if self.closed and message["type"] != "FatalError":
                return
            try:
                await self.websocket.send_text(json.dumps(message))
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.closed = True
            self.last_send = self.loop.time()

    async def _ping_loop(self) -> None:
        while True:
            wait = PING_SECONDS - (self.loop.time() - self.last_send)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            await self._send({"type": "Ping"})

    # --- client messages -----------------------------------------------------------------

    async def _handle(self, text: str) -> None:
        if len(text) > MAX_MESSAGE_BYTES:
            raise RequestError(413, "RequestTooLarge", f"A message is larger than {MAX_MESSAGE_BYTES} bytes")
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):
            raise RequestError(400, "BadRequest", "A message is not valid JSON") from None
        if not isinstance(message, dict):
            raise RequestError(400, "BadRequest", "A message must be a JSON object with a `type`")
        kind = message.get("type")
        if kind == "Connect":
            session_id = message.get("sessionId")
            self.session_id = session_id if isinstance(session_id, str) else ""
        elif kind == "ModifyQuerySet":
            self._modify(message)
        elif kind == "Authenticate":
            await self._authenticate(message)
        elif kind in ("Mutation", "Action"):
            request_id = message.get("requestId")
            if not isinstance(request_id, int) or isinstance(request_id, bool):
                raise RequestError(400, "BadRequest", f"A {kind} message needs an integer `requestId`")
            if kind == "Mutation":
                self.mutations_in_flight += 1
            task = asyncio.create_task(self._request(kind, request_id, message))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif kind == "Event":
            pass  # client telemetry
        else:
            raise RequestError(400, "BadRequest", f"Unknown message type {kind!r}")

    def _modify(self, message: dict[str, Any]) -> None:
        base, new = message.get("baseVersion"), message.get("newVersion")
        modifications = message.get("modifications")
        if base != self.query_set or not isinstance(new, int) or not isinstance(modifications, list):
            raise RequestError(400, "BadRequest", f"ModifyQuerySet from version {base!r}, but the query set is at "
                               f"version {self.query_set}")
        for modification in modifications:
            if not isinstance(modification, dict) or modification.get("type") not in ("Add", "Remove") \
                    or not isinstance(modification.get("queryId"), int):
                raise RequestError(400, "BadRequest", f"Invalid query set modification {modification!r:.200}")
        self.changes.extend(modifications)
        self.query_set = new
        self.wake.set()

    async def _authenticate(self, message: dict[str, Any]) -> None:
        base = message.get("baseVersion")
        if base != self.identity_version:
            raise RequestError(400, "BadRequest", f"Authenticate from identity version {base!r}, but the identity "
                               f"is at version {self.identity_version}")
        token_type = message.get("tokenType")
        try:
            if token_type == "None":
                identity = None
            elif token_type == "User":
                value = message.get("value")
                if not isinstance(value, str):
                    raise RequestError(401, "InvalidAuthHeader", "An Authenticate message needs the token as `value`")
                identity = identity_from_token(f"Bearer {value}", self.server.verifier)
            elif token_type == "Admin":
                raise RequestError(401, "InvalidAuthHeader", "Admin keys are not supported by convex-py dev: "
                                   "authenticate with a user token")
            else:
                raise RequestError(400, "BadRequest", f"Unknown tokenType {token_type!r}")
        except RequestError as exc:
            if exc.status != 401:
                raise
            await self._send({"type": "AuthError", "error": str(exc), "baseVersion": base,
                              "authUpdateAttempted": True})
            try:
                await self.websocket.close(code=1000, reason="AuthError")
            except RuntimeError:
                pass
            return
        self.identity = identity
        self.identity_version = base + 1
        self.dirty.update(self.queries)  # every query runs again as the new identity
        self.wake.set()

    async def _request(self, kind: str, request_id: int, message: dict[str, Any]) -> None:
        try:
            await self._send(await self._answer(kind, request_id, message))
        finally:
            if kind == "Mutation":
                # The clients resolve a mutation on the first transition after its answer at or
                # past its ts (the Rust client one that failed with ConvexError data too): send
                # one even if nothing changed; what the mutation changed travels in it.
                self.mutations_in_flight -= 1
                self.force = True
                self.wake.set()

    async def _answer(self, kind: str, request_id: int, message: dict[str, Any]) -> dict[str, Any]:
        key = (self.session_id, request_id)
        if kind == "Mutation" and self.session_id and key in self.hub.answered:
            return self.hub.answered[key]  # re-sent after a reconnect: it ran already
        response: dict[str, Any] = {"type": f"{kind}Response", "requestId": request_id}
        sink = logs.RequestLogs()
        token = logs.use(sink)
        try:
            if message.get("componentPath"):
                raise FunctionNotFoundError("Components' functions cannot be called from a client")
            path = _canonical(message.get("udfPath"))
            args = _arguments(message.get("args", [{}]))
            result = await self.server.call(kind.lower(), path, args, self.identity)
            response.update(success=True, result=convex_json.encode(result), logLines=sink.lines)
        except Exception as exc:  # the function's error (or a bad request): the client's promise rejects
            error, data = _failure(exc)
            response.update(success=False, result=error, logLines=sink.lines)
            if data is not None:
                response["errorData"] = data
            return response  # not remembered: a failed mutation changed nothing, running it again is safe
        finally:
            logs.reset(token)
        if kind == "Mutation":
            response["ts"] = encode_ts(self.hub.live.ts)  # at or past its commit
            if self.session_id:
                self.hub.remember(key, response)
        return response

    # --- transitions -------------------------------------------------------------------------

    def _invalidated(self, watch: Watch) -> None:
        """A commit wrote into what a query read (called in the committing thread)."""
        query_id = self._watch_ids.get(watch)
        if query_id is None:
            return
        self.dirty.add(query_id)
        try:
            self.loop.call_soon_threadsafe(self.wake.set)
        except RuntimeError:  # the loop has closed: the server stopped
            pass

    async def _sync_loop(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            if self.mutations_in_flight:
                continue  # woken again once its answer is sent
            try:
                transition = self._transition()
            except Exception as exc:  # a bug of ours: end this connection (the client reconnects)
                self.server.log(f"sync protocol error: {type(exc).__name__}: {exc}")
                await self._fatal(f"Internal error: {type(exc).__name__}")
                return
            if transition is not None:
                await self._send(transition)

    def _transition(self) -> dict[str, Any] | None:
        """Apply what the client asked for and re-run what changed, at one snapshot; the Transition or None."""
        server = self.server
        modifications: list[dict[str, Any]] = []
        with server.lock:
            for change in self.changes:
                query_id = change["queryId"]
                old = self.queries.pop(query_id, None)
                if old is not None and old.watch is not None:
                    self._watch_ids.pop(old.watch, None)
                    old.watch.close()
                self.dirty.discard(query_id)
                if change["type"] == "Remove":
                    modifications.append({"type": "QueryRemoved", "queryId": query_id})
                    continue
                self.queries[query_id] = self._new_query(query_id, change)
                self.dirty.add(query_id)
            self.changes.clear()
            dirty = sorted(self.dirty)
            self.dirty.clear()
            for query_id in dirty:
                query = self.queries.get(query_id)
                if query is not None:
                    modification = self._run(query)
                    if modification is not None:
                        modifications.append(modification)
            ts = self.hub.live.ts
        unchanged = self.query_set == self.sent_query_set and self.identity_version == self.sent_identity
        if not modifications and not self.force and unchanged:
            return None
        self.force = False
        start = {"querySet": self.sent_query_set, "identity": self.sent_identity, "ts": encode_ts(self.sent_ts)}
        end = {"querySet": self.query_set, "identity": self.identity_version, "ts": encode_ts(ts)}
        self.sent_query_set, self.sent_identity, self.sent_ts = self.query_set, self.identity_version, ts
        return {"type": "Transition", "startVersion": start, "endVersion": end, "modifications": modifications}

    def _new_query(self, query_id: int, change: dict[str, Any]) -> _Query:
        try:
            path = _canonical(change.get("udfPath"))
            if change.get("componentPath"):
                raise FunctionNotFoundError("Components' functions cannot be called from a client")
            resolved, fn = self.server.resolve_public("query", path)
            args = _arguments(change.get("args", [{}]))
        except Exception as exc:
            return _Query(query_id, str(change.get("udfPath")), None, None, exc)
        return _Query(query_id, resolved, fn, args, None)

    def _run(self, query: _Query) -> dict[str, Any] | None:
        """Run one query as the session's identity; its modification, or None if the client has this result."""
        sink = logs.RequestLogs()
        token = logs.use(sink)
        try:
            if query.error is not None:
                result: Any = query.error
            else:
                watch = query.watch
                if watch is None or watch.identity is not self.identity:
                    if watch is not None:
                        self._watch_ids.pop(watch, None)
                        watch.close()
                    watch = query.watch = self.hub.live.watch(query.path, query.fn, query.args, self.identity,
                                                              self._invalidated)
                    self._watch_ids[watch] = query.query_id
                try:
                    result = watch.run()
                except Exception as exc:
                    result = exc
        finally:
            logs.reset(token)
        previous = query.sent
        if previous is not _NOTHING and _same(previous, result):
            return None
        query.sent = result
        if isinstance(result, BaseException):
            message, data = _failure(result)
            failed: dict[str, Any] = {"type": "QueryFailed", "queryId": query.query_id, "errorMessage": message,
                                      "logLines": sink.lines, "journal": None}
            if data is not None:
                failed["errorData"] = data
            return failed
        try:
            value = convex_json.encode(result)
        except InvalidValueError as exc:
            return {"type": "QueryFailed", "queryId": query.query_id, "errorMessage": str(exc),
                    "logLines": sink.lines, "journal": None}
        return {"type": "QueryUpdated", "queryId": query.query_id, "value": value, "logLines": sink.lines,
                "journal": None}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, BaseException) or isinstance(b, BaseException):
        return type(a) is type(b) and str(a) == str(b) and getattr(a, "data", None) == getattr(b, "data", None)
    return values_equal(a, b)


__all__ = ["PING_SECONDS", "SyncHub", "SyncSession", "encode_ts"]
