"""Convex's sync protocol message by message, over a real WebSocket: versions, snapshots, errors, pings."""

from __future__ import annotations

import base64
import json
import struct
import threading
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from convex_py import ConvexError, internal_query, mutation, query, v
from emulator import ConvexEmulator
from emulator.server import DevServer
from emulator.server import sync as sync_module

@query(args={"key": v.string()})
def get(ctx, args):
    doc = ctx.db.query("kv").filter(lambda q: q.eq(q.field("key"), args["key"])).first()
    return None if doc is None else doc["value"]


@query
def everything(ctx, args):
    return sorted(d["key"] for d in ctx.db.query("kv").collect())


@query
def left(ctx, args):
    doc = ctx.db.query("pair").filter(lambda q: q.eq(q.field("side"), "left")).first()
    return None if doc is None else doc["value"]


@query
def right(ctx, args):
    doc = ctx.db.query("pair").filter(lambda q: q.eq(q.field("side"), "right")).first()
    return None if doc is None else doc["value"]


@query
def whoami(ctx, args):
    identity = ctx.auth.get_user_identity()
    return None if identity is None else identity["subject"]


@query(args={"limit": v.number()})
def strict(ctx, args):
    n = float(len(ctx.db.query("kv").collect()))
    if n > args["limit"]:
        raise ConvexError({"count": n})
    return n


@internal_query
def hidden(ctx, args):
    return "secret"


@mutation(args={"key": v.string(), "value": v.any()})
def put(ctx, args):
    doc = ctx.db.query("kv").filter(lambda q: q.eq(q.field("key"), args["key"])).first()
    if doc is None:
        return ctx.db.insert("kv", args)
    ctx.db.patch(doc["_id"], {"value": args["value"]})
    return doc["_id"]


@mutation(args={"value": v.number()})
def set_pair(ctx, args):
    for doc in ctx.db.query("pair").collect():
        ctx.db.patch(doc["_id"], {"value": args["value"]})
    if not ctx.db.query("pair").first():
        ctx.db.insert("pair", {"side": "left", "value": args["value"]})
        ctx.db.insert("pair", {"side": "right", "value": args["value"]})


@mutation
def count_calls(ctx, args):
    return ctx.db.insert("calls", {})


MODULES = {"kv": {"get": get, "everything": everything, "left": left, "right": right, "whoami": whoami,
                  "strict": strict, "hidden": hidden, "put": put, "set_pair": set_pair, "count_calls": count_calls}}


def ts(encoded: str) -> int:
    return struct.unpack("<Q", base64.b64decode(encoded))[0]


@pytest.fixture
def server():
    dev = DevServer(ConvexEmulator(modules=MODULES), port=0, tick_seconds=0.01).start()
    yield dev
    dev.stop()


class Wire:
    """One raw WebSocket speaking the protocol; `recv` skips pings unless asked for them."""

    def __init__(self, server: DevServer, session: str = "session-1", route: str = "/api/1.48.0/sync") -> None:
        self._connection = connect(server.url.replace("http://", "ws://") + route, open_timeout=10,
                                   max_queue=None)  # a test may leave messages unread
        self.ws = self._connection.__enter__()
        self.send(type="Connect", sessionId=session, connectionCount=0, lastCloseReason=None, clientTs=0)
        self.query_set = 0

    def send(self, **message) -> None:
        self.ws.send(json.dumps(message))

    def recv(self, timeout: float = 10, pings: bool = False) -> dict:
        while True:
            message = json.loads(self.ws.recv(timeout=timeout))
            if pings or message["type"] != "Ping":
                return message

    def nothing_within(self, seconds: float) -> bool:
        try:
            message = self.recv(timeout=seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")

    def add(self, query_id: int, path: str, args: dict | None = None) -> None:
        self.modify([{"type": "Add", "queryId": query_id, "udfPath": path, "args": [args or {}]}])

    def modify(self, modifications: list) -> None:
        self.send(type="ModifyQuerySet", baseVersion=self.query_set, newVersion=self.query_set + 1,
                  modifications=modifications)
        self.query_set += 1

    def mutation(self, request_id: int, path: str, args: dict) -> None:
        self.send(type="Mutation", requestId=request_id, udfPath=path, args=[args])

    def close(self) -> None:
        self._connection.__exit__(None, None, None)


@pytest.fixture
def wire(server):
    opened: list[Wire] = []

    def make(**kwargs) -> Wire:
        w = Wire(server, **kwargs)
        opened.append(w)
        return w

    yield make
    for w in opened:
        w.close()


def test_transitions_chain_versions_and_carry_query_results(server, wire) -> None:
    w = wire()
    w.add(0, "kv.js:get", {"key": "a"})  # the npm client's canonical path form
    first = w.recv()
    assert first["type"] == "Transition"
    assert first["startVersion"] == {"querySet": 0, "identity": 0, "ts": "AAAAAAAAAAA="}
    assert first["endVersion"]["querySet"] == 1 and first["endVersion"]["identity"] == 0
    assert first["modifications"] == [{"type": "QueryUpdated", "queryId": 0, "value": None, "logLines": [],
                                       "journal": None}]
    w.mutation(0, "kv:put", {"key": "a", "value": 7})
    answer = w.recv()
    assert answer["type"] == "MutationResponse" and answer["success"] is True and answer["requestId"] == 0
    assert isinstance(answer["result"], str) and answer["logLines"] == []
    second = w.recv()  # after the answer, at or past the mutation's ts, with its change
    assert second["startVersion"] == first["endVersion"]
    assert ts(second["endVersion"]["ts"]) >= ts(answer["ts"]) > ts(first["endVersion"]["ts"])
    assert second["modifications"] == [{"type": "QueryUpdated", "queryId": 0, "value": 7.0, "logLines": [],
                                        "journal": None}]
    w.modify([{"type": "Remove", "queryId": 0}])
    third = w.recv()
    assert third["startVersion"] == second["endVersion"] and third["endVersion"]["querySet"] == 2
    assert third["modifications"] == [{"type": "QueryRemoved", "queryId": 0}]


def test_a_write_outside_the_read_set_sends_nothing(server, wire) -> None:
    w = wire()
    w.add(0, "kv:everything")
    assert w.recv()["modifications"][0]["value"] == []
    w.add(1, "kv:left")
    assert w.recv()["modifications"] == [{"type": "QueryUpdated", "queryId": 1, "value": None, "logLines": [],
                                          "journal": None}]
    server.emulator.mutation("kv:count_calls")  # another table: neither query read it
    assert w.nothing_within(0.3)
    server.emulator.mutation("kv:put", {"key": "b", "value": 1})
    update = w.recv()
    assert update["modifications"] == [{"type": "QueryUpdated", "queryId": 0, "value": ["b"], "logLines": [],
                                        "journal": None}]
    server.emulator.mutation("kv:put", {"key": "b", "value": 2})  # re-runs `everything`: same result
    assert w.nothing_within(0.3)


def test_the_queries_of_a_transition_come_from_one_snapshot(server, wire) -> None:
    """Each mutation sets both sides of a pair; after every transition the client holds equal sides."""

    observer = wire(session="observer")
    observer.modify([{"type": "Add", "queryId": 0, "udfPath": "kv:left", "args": [{}]},
                     {"type": "Add", "queryId": 1, "udfPath": "kv:right", "args": [{}]}])
    first = observer.recv()["modifications"]
    held = {m["queryId"]: m["value"] for m in first}
    assert held == {0: None, 1: None}
    seen = []

    def writer() -> None:
        for value in range(1, 60):
            server.emulator.mutation("kv:set_pair", {"value": value})
            time.sleep(0.001)  # let transitions go out between commits

    thread = threading.Thread(target=writer)
    thread.start()
    while held[0] != 59.0:
        for modification in observer.recv()["modifications"]:
            held[modification["queryId"]] = modification["value"]
        assert held[0] == held[1], held  # never one side of a commit without the other
        seen.append(held[0])
    thread.join()
    assert seen == sorted(seen) and seen[-1] == 59.0


def test_a_query_error_carries_convex_error_data(server, wire) -> None:
    w = wire()
    w.add(0, "kv:strict", {"limit": 0})
    assert w.recv()["modifications"][0]["value"] == 0
    server.emulator.mutation("kv:put", {"key": "a", "value": 1})
    failed = w.recv()["modifications"]
    assert failed == [{"type": "QueryFailed", "queryId": 0, "errorMessage": "Uncaught ConvexError: {'count': 1.0}",
                       "logLines": [], "journal": None, "errorData": {"count": 1.0}}]
    server.emulator.mutation(lambda ctx: [ctx.db.delete(d["_id"]) for d in ctx.db.query("kv").collect()] and None)
    assert w.recv()["modifications"][0] == {"type": "QueryUpdated", "queryId": 0, "value": 0, "logLines": [],
                                            "journal": None}


def test_internal_and_unknown_queries_fail_without_running(server, wire) -> None:
    w = wire()
    w.modify([{"type": "Add", "queryId": 1, "udfPath": "kv:hidden", "args": [{}]},
              {"type": "Add", "queryId": 2, "udfPath": "kv:nope", "args": [{}]}])
    modifications = w.recv()["modifications"]
    assert [(m["type"], m["queryId"], m["errorMessage"]) for m in modifications] == [
        ("QueryFailed", 1, "Could not find public function for 'kv:hidden'"),
        ("QueryFailed", 2, "Could not find public function for 'kv:nope'"),
    ]
    assert all("errorData" not in m for m in modifications)


def test_a_mutation_error_and_an_action_answer(server, wire) -> None:
    w = wire()
    w.mutation(0, "kv:hidden", {})
    refused = w.recv()
    assert refused == {"type": "MutationResponse", "requestId": 0, "success": False,
                       "result": "Could not find public function for 'kv:hidden'", "logLines": []}
    assert w.recv()["type"] == "Transition"  # clients settle a mutation on the next transition
    w.send(type="Action", requestId=1, udfPath="kv:put", args=[{"key": "a", "value": 1}])
    wrong_kind = w.recv()
    assert wrong_kind["type"] == "ActionResponse" and wrong_kind["success"] is False
    assert "Could not find public action for 'kv:put'" in wrong_kind["result"]


def test_a_mutation_sent_again_on_the_same_session_runs_once(server, wire) -> None:
    w = wire(session="resent")
    w.mutation(3, "kv:count_calls", {})
    first = w.recv()
    w.close()
    again = wire(session="resent")  # a reconnect re-sends what was not settled
    again.mutation(3, "kv:count_calls", {})
    assert again.recv() == first
    assert len(server.emulator.query(lambda ctx: ctx.db.query("calls").collect())) == 1


def test_authenticate_changes_the_identity_and_reruns_queries(server, wire) -> None:
    w = wire()
    w.add(0, "kv:whoami")
    assert w.recv()["modifications"][0]["value"] is None
    claims = base64.urlsafe_b64encode(json.dumps({"iss": "https://i.test", "sub": "u7"}).encode()).decode().rstrip("=")
    w.send(type="Authenticate", tokenType="User", value=f"e30.{claims}.sig", baseVersion=0)
    update = w.recv()
    assert update["startVersion"]["identity"] == 0 and update["endVersion"]["identity"] == 1
    assert update["modifications"][0]["value"] == "u7"
    w.send(type="Authenticate", tokenType="None", baseVersion=1)
    assert w.recv()["modifications"][0]["value"] is None


def test_a_bad_token_is_an_auth_error(server, wire) -> None:
    w = wire()
    w.send(type="Authenticate", tokenType="User", value="not-a-jwt", baseVersion=0)
    error = w.recv()
    assert error["type"] == "AuthError" and error["baseVersion"] == 0 and error["authUpdateAttempted"] is True
    assert "Bearer <JWT>" in error["error"]
    with pytest.raises(ConnectionClosed):
        w.recv(timeout=5)


@pytest.mark.parametrize("message", [
    "not json",
    json.dumps(["a list"]),
    json.dumps({"type": "Teleport"}),
    json.dumps({"type": "ModifyQuerySet", "baseVersion": 5, "newVersion": 6, "modifications": []}),
    json.dumps({"type": "Mutation", "udfPath": "kv:put", "args": [{}]}),
    json.dumps({"type": "Authenticate", "tokenType": "User", "value": "x", "baseVersion": 3}),
    '{"type": "Connect", "n": ' + "9" * 5000 + "}",
    b"\x00binary",
])
def test_a_malformed_message_is_a_fatal_error_and_the_server_goes_on(server, wire, message) -> None:
    w = wire()
    w.ws.send(message)
    fatal = w.recv()
    assert fatal["type"] == "FatalError" and fatal["error"]
    with pytest.raises(ConnectionClosed):
        w.recv(timeout=5)
    other = wire(route="/api/sync")  # the route PyPI `convex` uses
    other.add(0, "kv:everything")
    assert other.recv()["modifications"][0]["value"] == []


def test_an_idle_connection_gets_pings(server, wire, monkeypatch) -> None:
    monkeypatch.setattr(sync_module, "PING_SECONDS", 0.2)
    w = wire()
    assert w.recv(timeout=5, pings=True) == {"type": "Ping"}


def test_closing_the_connection_ends_its_live_queries(server, wire) -> None:
    w = wire()
    w.add(0, "kv:everything")
    w.recv()
    live = server.runtime.live
    assert live.watches == 1
    w.close()
    deadline = time.monotonic() + 5
    while live.watches and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live.watches == 0 and server.emulator.store.write_observer is None


def test_bad_arguments_and_paths_fail_the_request_not_the_connection(server, wire) -> None:
    w = wire()
    w.send(type="Mutation", requestId=0, udfPath="kv:put", args=[{"key": "a", "value": {"$integer": "bad"}}])
    refused = w.recv()
    assert refused["success"] is False and refused["result"].startswith("Invalid arguments: Malformed $integer")
    assert w.recv()["type"] == "Transition"
    w.modify([{"type": "Add", "queryId": 0, "udfPath": 5, "args": [{}]},
              {"type": "Add", "queryId": 1, "udfPath": "kv:get", "args": ["not an object"]},
              {"type": "Add", "queryId": 2, "udfPath": "kv:everything", "args": [{}]}])
    modifications = w.recv()["modifications"]
    assert [m["type"] for m in modifications] == ["QueryFailed", "QueryFailed", "QueryUpdated"]
    assert "udfPath" in modifications[0]["errorMessage"]
    assert "must be an object" in modifications[1]["errorMessage"]
