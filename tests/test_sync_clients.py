"""Live queries through Convex's official clients over the sync protocol: npm `convex` (Node) and PyPI `convex`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from convex.http_client import ConvexHttpClient

from _sync_clients import SyncClient
from emulator import ConvexEmulator
from emulator.server import DevServer
from test_dev_server_js import node_modules  # noqa: F401  (the npm `convex` fixture)

CHAT = Path(__file__).resolve().parent.parent / "fixtures" / "chat"
HI = {"author": "ada", "body": "hi"}
THERE = {"author": "ada", "body": "there"}
LATER = {"author": "bob", "body": "later"}
BYE = {"author": "eve", "body": "bye"}


def _message(body: dict) -> dict:
    return {"channel": "general", **body}


def _token(claims: dict) -> str:
    """An unsigned JWT: the dev server trusts its claims when it runs without --jwks."""
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


@pytest.fixture(params=["js", "py"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def server():
    dev = DevServer(ConvexEmulator(CHAT), port=0, tick_seconds=0.01).start()
    yield dev
    dev.stop()


@pytest.fixture
def connect(kind, request):
    clients: list[SyncClient] = []

    def make(url: str) -> SyncClient:
        modules = request.getfixturevalue("node_modules") if kind == "js" else None
        client = SyncClient(kind, url, modules)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _changes(client: SyncClient, sub_id: str, count: int, reconnected: bool = False) -> list:
    """The first `count` distinct values a subscription reported, in order.

    npm `convex` calls `onUpdate` only when a value changes. PyPI `convex` yields the
    current value again on every transition of its connection (the transition that
    completes one of its mutations, say), against Convex's backend too: for it, a
    repeat of the value just seen is not a change. After a reconnect both clients report
    the value they had again (their query set starts afresh on the new connection).
    """
    seen = 0
    while True:
        values = client.values(sub_id, seen + 1)
        seen += 1
        distinct = [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]
        if client.kind == "js" and not reconnected:
            assert distinct == values, values  # never the same value twice
        if len(distinct) == count:
            return distinct


def test_a_subscription_sees_each_committed_change_once_and_in_order(server, connect) -> None:
    client = connect(server.url)
    client.subscribe("list", "messages:list", {"channel": "general"})
    assert _changes(client, "list", 1) == [[]]
    sent = client.call("mutation", "messages:send", _message(HI))
    doc = server.emulator.run(lambda ctx: ctx.db.get(sent["value"]))  # the mutation's result: the new id
    assert doc["body"] == "hi" and doc["channel"] == "general"
    assert _changes(client, "list", 2) == [[], [HI]]
    # A write outside what the query read, then one by another client over HTTP.
    assert client.call("mutation", "messages:send", {"channel": "random", "author": "x", "body": "elsewhere"})["value"]
    ConvexHttpClient(server.url).mutation("messages:send", _message(THERE))
    assert _changes(client, "list", 3) == [[], [HI], [HI, THERE]]
    # A scheduled function on the real clock, 300 ms after this mutation.
    job = client.call("mutation", "messages:send_later", {**_message(LATER), "delayMs": 300})
    assert isinstance(job["value"], str)
    assert _changes(client, "list", 4) == [[], [HI], [HI, THERE], [HI, THERE, LATER]]
    client.call("mutation", "messages:send", _message(BYE))
    assert _changes(client, "list", 5) == [[], [HI], [HI, THERE], [HI, THERE, LATER], [HI, THERE, LATER, BYE]]
    if client.kind == "js":
        assert client.update_count("list") == 5


def test_convex_error_data_internal_functions_and_an_action(server, connect) -> None:
    client = connect(server.url)
    refused = client.call("mutation", "messages:send", _message({"author": "ada", "body": "  "}))
    assert refused["data"] == {"code": "EMPTY_MESSAGE", "channel": "general"}
    assert "ConvexError" in refused["error"]
    internal = client.call("mutation", "messages:post", _message(HI))
    assert "Could not find public function for 'messages:post'" in internal["error"] and internal["data"] is None
    client.subscribe("internal", "messages:post", _message(HI))
    [failed] = client.values("internal", 1)
    assert "Could not find public function for 'messages:post'" in failed["error"]
    assert client.call("action", "messages:shout", _message(HI)) == {"value": "HI"}
    assert server.emulator.query("messages:list", {"channel": "general"}) == [{"author": "ada", "body": "HI"}]


def test_a_new_identity_reruns_the_queries(server, connect) -> None:
    client = connect(server.url)
    client.subscribe("me", "messages:whoami")
    assert _changes(client, "me", 1) == [None]
    client.set_auth(_token({"iss": "https://issuer.test", "sub": "user-1", "name": "Ada"}))
    assert _changes(client, "me", 2) == [None, "Ada"]
    assert client.call("query", "messages:whoami") == {"value": "Ada"}


def test_a_client_reconnects_after_the_server_restarts_with_db(tmp_path, connect) -> None:
    db = str(tmp_path / "chat.db")
    first = DevServer(ConvexEmulator(CHAT), port=0, tick_seconds=0.01, db=db).start()
    port, site_port = first.address[1], first.site_address[1]
    client = connect(first.url)
    try:
        client.subscribe("list", "messages:list", {"channel": "general"})
        assert _changes(client, "list", 1) == [[]]
        client.call("mutation", "messages:send", _message(HI))
        assert _changes(client, "list", 2) == [[], [HI]]
    finally:
        first.stop()
    # Both ports of the first run: port + 1, the default site port, may be any other socket's.
    second = DevServer(ConvexEmulator(CHAT), port=port, site_port=site_port, tick_seconds=0.01, db=db).start()
    try:
        assert "value" in client.call("mutation", "messages:send", _message(THERE), timeout=60)
        # The restarted server has the data written before: the reconnected subscription goes on from it.
        assert _changes(client, "list", 3, reconnected=True) == [[], [HI], [HI, THERE]]
        assert server_count(second) == 2
    finally:
        second.stop()


def server_count(dev: DevServer) -> int:
    return dev.emulator.query("messages:count", {"channel": "general"})


def test_the_chat_page_shows_live_messages(node_modules) -> None:  # noqa: F811
    """The fixture's static page, served by --static, run headless on Convex's browser bundle."""
    import subprocess
    import urllib.request

    static = CHAT / "static"
    dev = DevServer(ConvexEmulator(CHAT), port=0, tick_seconds=0.01, static=str(static)).start()
    try:
        with urllib.request.urlopen(dev.url + "/") as response:
            page = response.read().decode()
            assert response.headers["content-type"].startswith("text/html")
        assert "new convex.ConvexClient(url)" in page and "api.messages.list" in page
        with urllib.request.urlopen(dev.url + "/version") as response:  # the API is still there
            assert json.loads(response.read()) == {"status": "ok", "server": "convex-py"}
        script = node_modules / "page_check.cjs"
        script.write_text((Path(__file__).parent / "sync_clients" / "page_check.cjs").read_text())
        bundle = node_modules / "node_modules" / "convex" / "dist" / "browser.bundle.js"
        process = subprocess.Popen(["node", str(script), str(static / "index.html"), str(bundle), dev.url],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            lines = iter(process.stdout)
            read = lambda: json.loads(next(lines))  # noqa: E731
            assert read() == {"list": []}
            process.stdin.write(json.dumps({"send": "hello"}) + "\n")
            process.stdin.flush()
            assert read() == {"list": ["ada: hello"]}
            process.stdin.write(json.dumps({"later": "from the scheduler"}) + "\n")
            process.stdin.flush()
            assert read() == {"list": ["ada: hello", "ada: from the scheduler"]}
            process.stdin.write(json.dumps({"send": " "}) + "\n")  # refused: ConvexError data on the page
            process.stdin.flush()
            refused = json.dumps({"code": "EMPTY_MESSAGE", "channel": "general"}, separators=(",", ":"))
            assert read() == {"status": refused}
            process.stdin.write(json.dumps({"exit": True}) + "\n")
            process.stdin.flush()
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdin.close()
            process.stdout.close()
    finally:
        dev.stop()


def test_dev_static_must_be_a_folder(tmp_path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "emulator.cli", "dev", str(CHAT), "--port", "0", "--static",
                             str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"convex-py dev: error: --static {tmp_path / 'nowhere'}: not a folder\n"
