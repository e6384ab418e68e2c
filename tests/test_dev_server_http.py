"""The dev server's site port (HTTP actions) and file URLs, over real sockets with httpx."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from convex.http_client import ConvexHttpClient

from convex_py import Response, http_action, http_router, mutation, query
from emulator import ConvexEmulator
from emulator.server import DevServer

WEBHOOKS = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
BLOB = os.urandom(3 * 1024 * 1024 + 17)  # binary, and more than one read of a socket


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@mutation
def upload_url(ctx, args):
    return ctx.storage.generate_upload_url()


@query
def file_url(ctx, args):
    return ctx.storage.get_url(args["id"])


@query
def file_row(ctx, args):
    row = ctx.db.system.get(args["id"])
    return None if row is None else {k: row[k] for k in row if not k.startswith("_")}


@mutation
def remove(ctx, args):
    ctx.storage.delete(args["id"])


@http_action
async def echo(ctx, request):
    identity = await ctx.auth.get_user_identity()
    body = await request.bytes()
    return Response.json({"method": request.method, "url": request.url, "size": len(body),
                          "sha256": b64sha(body), "who": identity and identity["subject"]},
                         headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])


@http_action
def boom(ctx, request):
    raise RuntimeError("kaput")


@http_action
async def preflight(ctx, request):
    return Response(None, status=204, headers={"Access-Control-Allow-Origin": "https://app.example",
                                               "Access-Control-Allow-Methods": "POST"})


http = http_router()
http.route(path_prefix="/echo/", method="POST", handler=echo)
http.route(path_prefix="/echo/", method="GET", handler=echo)
http.route(path_prefix="/echo/", method="OPTIONS", handler=preflight)
http.route(path="/boom", method="GET", handler=boom)

MODULES = {"files": {"upload_url": upload_url, "file_url": file_url, "file_row": file_row, "remove": remove},
           "http": {"http": http}}


@pytest.fixture
def server():
    dev = DevServer(ConvexEmulator(modules=MODULES), port=0, tick_seconds=0.01).start()
    yield dev
    dev.stop()


def call(dev: DevServer, kind: str, path: str, args: dict | None = None):
    return getattr(ConvexHttpClient(dev.url), kind)(path, args or {})


def upload(dev: DevServer, data: bytes, content_type: str | None = "application/octet-stream") -> str:
    url = call(dev, "mutation", "files:upload_url")
    assert url.startswith(f"{dev.url}/api/storage/upload?token=")
    headers = {"Content-Type": content_type} if content_type else {}
    response = httpx.post(url, content=data, headers=headers)
    assert response.status_code == 200
    assert list(response.json()) == ["storageId"]
    return response.json()["storageId"]


def test_http_actions_are_served_on_the_site_port(server):
    assert server.site_address[1] != server.address[1]
    response = httpx.post(f"{server.site_url}/echo/a/b?q=1", content=b"hello")
    assert response.status_code == 200
    assert response.json() == {"method": "POST", "url": f"{server.site_url}/echo/a/b?q=1", "size": 5,
                               "sha256": b64sha(b"hello"), "who": None}
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert "access-control-allow-origin" not in response.headers  # CORS is the app's own business
    head = httpx.head(f"{server.site_url}/echo/x")
    assert (head.status_code, head.content) == (200, b"")
    missing = httpx.get(f"{server.site_url}/nothing/here")
    assert (missing.status_code, missing.text) == (404, "No HttpAction routed for /nothing/here")
    # The API port does not serve HTTP actions, nor the site port the API.
    assert httpx.post(f"{server.url}/echo/a", content=b"x").status_code == 404
    assert httpx.post(f"{server.site_url}/api/query", json={"path": "files:file_url"}).status_code == 404


def test_the_site_port_answers_preflights_through_the_apps_options_route(server):
    preflight = httpx.options(f"{server.site_url}/echo/a", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-methods"] == "POST"
    assert "content-length" not in preflight.headers
    unrouted = httpx.options(f"{server.site_url}/boom")
    assert (unrouted.status_code, unrouted.text) == (404, "No HttpAction routed for /boom")


def test_a_raising_handler_is_a_500_with_a_random_request_id(server, capsys):
    response = httpx.get(f"{server.site_url}/boom")
    assert response.status_code == 500
    body = response.json()
    assert set(body) == {"code", "trace"}
    prefix, _, rest = body["code"].partition("] ")
    assert prefix.startswith("[Request ID: ") and len(prefix) == len("[Request ID: ") + 16
    assert rest == "Server Error: Uncaught RuntimeError: kaput"
    assert "convex-py dev: HTTP action GET /boom failed: Uncaught RuntimeError: kaput" in capsys.readouterr().out


def test_bodies_stream_in_up_to_20_mib_and_past_it_are_a_413(server):
    limit = 20 * 1024 * 1024
    body = os.urandom(limit)
    response = httpx.post(f"{server.site_url}/echo/big", content=body, timeout=60)
    assert (response.status_code, response.json()["size"], response.json()["sha256"]) == (200, limit, b64sha(body))

    def chunks():  # no Content-Length: the limit is found while reading
        for _ in range(21):
            yield bytes(1024 * 1024)

    streamed = httpx.post(f"{server.site_url}/echo/big", content=chunks(), timeout=60)
    assert streamed.status_code == 413
    assert streamed.json() == {
        "code": "PayloadTooLarge",
        "message": "The request body is too large: HTTP actions accept bodies up to 20 MiB (20971520 bytes).",
    }
    declared = httpx.post(f"{server.site_url}/echo/big", content=bytes(limit + 1), timeout=60)
    assert declared.status_code == 413
    # The server goes on serving.
    assert httpx.post(f"{server.site_url}/echo/small", content=b"1").json()["size"] == 1


def test_the_caller_identity_comes_from_a_bearer_token_and_other_headers_are_ignored(server):
    import jwt

    token = jwt.encode({"sub": "user_7", "iss": "https://auth.example"}, "k" * 32, algorithm="HS256")
    me = httpx.get(f"{server.site_url}/echo/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["who"] == "user_7"
    basic = httpx.get(f"{server.site_url}/echo/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert (basic.status_code, basic.json()["who"]) == (200, None)


def test_upload_then_download_byte_for_byte(server):
    storage_id = upload(server, BLOB, "application/x-thing")
    assert call(server, "query", "files:file_row", {"id": storage_id}) == {
        "sha256": b64sha(BLOB), "size": float(len(BLOB)), "contentType": "application/x-thing"}
    url = call(server, "query", "files:file_url", {"id": storage_id})
    assert url.startswith(f"{server.url}/api/storage/")
    download = httpx.get(url)
    assert download.status_code == 200
    assert download.content == BLOB
    assert download.headers["content-type"] == "application/x-thing"
    assert download.headers["content-length"] == str(len(BLOB))
    assert download.headers["digest"] == f"sha-256={b64sha(BLOB)}"
    part = httpx.get(url, headers={"Range": "bytes=1000-1999"})
    assert (part.status_code, part.content, part.headers["content-range"]) == (
        206, BLOB[1000:2000], f"bytes 1000-1999/{len(BLOB)}")
    head = httpx.head(url)
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", str(len(BLOB)))
    call(server, "mutation", "files:remove", {"id": storage_id})
    gone = httpx.get(url)
    assert (gone.status_code, gone.json()["code"]) == (404, "FileNotFound")
    assert call(server, "query", "files:file_url", {"id": storage_id}) is None


def test_upload_urls_refuse_bad_tokens_and_browsers_may_upload(server):
    url = call(server, "mutation", "files:upload_url")
    forged = httpx.post(url[:-4] + "0000", content=b"x")
    assert (forged.status_code, forged.json()) == (
        401, {"code": "StorageTokenInvalid", "message": "Couldn't decode the StoreFileAuthorization token"})
    preflight = httpx.options(url, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    not_a_file = httpx.get(f"{server.url}/api/storage/abc")
    assert (not_a_file.status_code, not_a_file.json()["code"]) == (400, "InvalidStoragePath")
    assert httpx.get(f"{server.url}/api/storage/..%2Fetc").status_code == 404
    get_upload = httpx.get(url)
    assert (get_upload.status_code, get_upload.json()) == (
        405, {"code": "MethodNotAllowed", "message": "Upload a file with a POST of its bytes"})


def test_a_restart_with_db_keeps_files_and_upload_urls(tmp_path):
    db = str(tmp_path / "state.sqlite")
    first = DevServer(ConvexEmulator(modules=MODULES), port=0, db=db).start()
    try:
        kept = upload(first, BLOB, "image/png")
        dropped = upload(first, b"short-lived", None)
        call(first, "mutation", "files:remove", {"id": dropped})
        later_url = call(first, "mutation", "files:upload_url")
        first_uuid = call(first, "query", "files:file_url", {"id": kept}).rsplit("/", 1)[1]
    finally:
        first.stop()
    saved = sqlite3.connect(db)
    try:
        assert [row[0] for row in saved.execute("SELECT id FROM files")] == [kept]
    finally:
        saved.close()
    second = DevServer(ConvexEmulator(modules=MODULES), port=0, db=db).start()
    try:
        url = call(second, "query", "files:file_url", {"id": kept})
        assert url == f"{second.url}/api/storage/{first_uuid}"
        download = httpx.get(url)
        assert (download.status_code, download.content, download.headers["content-type"]) == (200, BLOB, "image/png")
        assert call(second, "query", "files:file_row", {"id": dropped}) is None
        # An upload URL handed out before the restart still works (within its hour).
        response = httpx.post(later_url.replace(first.url, second.url), content=b"after restart")
        assert response.status_code == 200
        assert httpx.get(call(second, "query", "files:file_url", {"id": response.json()["storageId"]})).content == (
            b"after restart")
    finally:
        second.stop()


def free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    pytest.skip("no two free consecutive ports")


def test_the_site_port_defaults_to_the_api_port_plus_one_and_can_be_chosen():
    port = free_port_pair()
    dev = DevServer(ConvexEmulator(modules=MODULES), port=port).start()
    try:
        assert dev.site_address == ("127.0.0.1", port + 1)
    finally:
        dev.stop()
    chosen = DevServer(ConvexEmulator(modules=MODULES), port=0, site_port=0).start()
    try:
        assert chosen.site_address[1] not in (0, chosen.address[1])
        assert httpx.get(f"{chosen.site_url}/echo/x").status_code == 200
    finally:
        chosen.stop()


# --- fixtures/webhooks through the dev server ---------------------------------------------------


def test_the_webhooks_fixture_through_the_dev_server():
    dev = DevServer(ConvexEmulator(WEBHOOKS), port=0, tick_seconds=0.01).start()
    try:
        event = {"id": "evt_live", "type": "payment.succeeded",
                 "data": {"customer": "cus_1", "amount": 9.99, "currency": "USD"}}
        body = json.dumps(event).encode()
        signature = "sha256=" + hmac.new(b"whsec_test_secret", body, hashlib.sha256).hexdigest()
        with httpx.Client(base_url=dev.site_url) as site:
            refused = site.post("/webhooks/payment", content=body, headers={"X-Signature": "sha256=00"})
            assert (refused.status_code, refused.text) == (401, "invalid signature")
            accepted = site.post("/webhooks/payment", content=body, headers={"X-Signature": signature})
            assert accepted.status_code == 200
            assert accepted.json()["received"] is True
            receipt = site.get("/receipts/evt_live")
        expected = b"Receipt evt_live\nCustomer: cus_1\nAmount: 9.99 USD\n"
        assert (receipt.status_code, receipt.content) == (200, expected)
        url = call(dev, "query", "payments:receipt_url", {"eventId": "evt_live"})
        assert httpx.get(url).content == expected
        payment = call(dev, "query", "payments:by_event", {"eventId": "evt_live"})
        assert (payment["amount"], payment["currency"], "thankedAt" in payment) == (9.99, "USD", False)
        [job] = [j for j in dev.emulator.scheduled_functions() if j["name"] == "payments:send_thank_you"]
        assert job["state"] == {"kind": "pending"}
        assert job["scheduledTime"] - job["_creationTime"] == pytest.approx(3600 * 1000, abs=1)
        assert time.time() * 1000 < job["scheduledTime"]
    finally:
        dev.stop()


def test_convex_py_dev_serves_the_webhooks_fixture_on_its_site_port(tmp_path):
    import signal
    import subprocess
    import sys

    db = tmp_path / "state.sqlite"
    command = [sys.executable, "-m", "emulator.cli", "dev", str(WEBHOOKS), "--port", "0", "--site-port", "0",
               "--db", str(db)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"convex-py dev: serving {WEBHOOKS} at http://127.0.0.1:")
        site_url = line.split("; HTTP actions at ")[1].split(". ")[0]
        api_url = line.split(" at ")[1].split(" ")[0]
        assert site_url.startswith("http://127.0.0.1:") and site_url != api_url
        body = json.dumps({"id": "evt_cli", "type": "payment.succeeded",
                           "data": {"customer": "cus_2", "amount": 5, "currency": "EUR"}}).encode()
        signature = "sha256=" + hmac.new(b"whsec_test_secret", body, hashlib.sha256).hexdigest()
        response = httpx.post(f"{site_url}/webhooks/payment", content=body, headers={"X-Signature": signature})
        assert response.status_code == 200
        url = ConvexHttpClient(api_url).query("payments:receipt_url", {"eventId": "evt_cli"})
        assert httpx.get(url).content == b"Receipt evt_cli\nCustomer: cus_2\nAmount: 5.00 EUR\n"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "Traceback" not in err
    saved = sqlite3.connect(db)
    try:
        assert saved.execute("SELECT data FROM files").fetchall() == [
            (b"Receipt evt_cli\nCustomer: cus_2\nAmount: 5.00 EUR\n",)]
    finally:
        saved.close()
