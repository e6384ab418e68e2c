"""The dev server, driven by the real Python client (PyPI `convex`) and by raw HTTP."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from convex.http_client import ConvexError as ClientConvexError
from convex.http_client import ConvexExecutionError, ConvexHttpClient
from convex.values import ConvexInt64

from convex_py import ConvexError, internal, internal_mutation, mutation, query, v
from emulator import ConvexEmulator
from emulator.server import DevServer

from _server_http import connect, read_answer, request_bytes

ORDERS = Path(__file__).resolve().parent.parent / "fixtures" / "orders"


@mutation(args={"n": v.int64()})
def store_count(ctx, args):
    return ctx.db.insert("counts", {"n": args["n"]})


@query
def counts(ctx, args):
    print("counting", "documents")
    print("done")
    return [c["n"] for c in ctx.db.query("counts").collect()]


@query
def whoami(ctx, args):
    return ctx.auth.get_user_identity()


@mutation
def later(ctx, args):
    ctx.scheduler.run_after(0, internal.m.mark, {})


@internal_mutation
def mark(ctx, args):
    ctx.db.insert("marks", {"at": 1})


@query
def marks(ctx, args):
    return len(ctx.db.query("marks").collect())


@mutation
def fail(ctx, args):
    raise ConvexError({"code": 7})


@internal_mutation(args={"tag": v.int64()})
def tag(ctx, args):
    ctx.db.insert("tags", {"tag": args["tag"]})


MODULES = {"m": {"store_count": store_count, "counts": counts, "whoami": whoami, "later": later, "mark": mark,
                 "marks": marks, "fail": fail, "tag": tag}}


@pytest.fixture
def server():
    dev = DevServer(ConvexEmulator(modules=MODULES), port=0, tick_seconds=0.01).start()
    yield dev
    dev.stop()


@pytest.fixture
def client(server):
    return ConvexHttpClient(server.url)


def post(server, route: str, body: object, headers: dict | None = None, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + route, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_mutation_then_query_with_the_python_client(client):
    client.mutation("m:store_count", {"n": ConvexInt64(2**40)})
    assert client.query("m:counts") == [ConvexInt64(2**40)]


def test_int64_travels_as_convex_encoded_integer(server):
    status, body = post(server, "/api/mutation", {"path": "m:store_count", "args": [{"n": {"$integer": base64.b64encode((5).to_bytes(8, "little")).decode()}}], "format": "convex_encoded_json"})
    assert status == 200 and body["status"] == "success"
    status, body = post(server, "/api/query", {"path": "m:counts", "args": [{}], "format": "convex_encoded_json"})
    assert body["value"] == [{"$integer": base64.b64encode((5).to_bytes(8, "little")).decode()}]


def test_convex_error_data_reaches_the_python_client(client):
    with pytest.raises(ClientConvexError) as caught:
        client.mutation("m:fail")
    # The Python client hands errorData over as sent, in Convex's JSON encoding (as with a real deployment).
    assert caught.value.data == {"code": {"$integer": base64.b64encode((7).to_bytes(8, "little")).decode()}}


def test_function_errors_answer_560_to_other_clients(server):
    status, body = post(server, "/api/mutation", {"path": "m:fail", "args": [{}]})
    assert status == 560
    assert body["status"] == "error"
    assert body["errorData"] == {"code": {"$integer": base64.b64encode((7).to_bytes(8, "little")).decode()}}


def test_internal_functions_are_not_reachable(client):
    with pytest.raises(ConvexExecutionError, match="Could not find public function for 'm:mark'"):
        client.mutation("m:mark")


def test_bad_arguments_are_refused(client):
    with pytest.raises(ConvexExecutionError, match="ArgumentValidationError"):
        client.mutation("m:store_count", {"n": "x"})


def test_a_scheduled_function_runs_on_the_real_clock(client):
    client.mutation("m:later")
    deadline = time.time() + 5
    while client.query("m:marks") == 0 and time.time() < deadline:
        time.sleep(0.02)
    assert client.query("m:marks") == 1


def test_identity_comes_from_the_bearer_token(server):
    claims = base64.urlsafe_b64encode(json.dumps({"iss": "https://auth.example", "sub": "u1", "email": "a@b.c"}).encode()).decode().rstrip("=")
    status, body = post(server, "/api/query", {"path": "m:whoami", "args": {}}, {"Authorization": f"Bearer x.{claims}.sig"})
    assert status == 200
    assert body["value"] == {"subject": "u1", "issuer": "https://auth.example",
                             "tokenIdentifier": "https://auth.example|u1", "email": "a@b.c"}
    status, body = post(server, "/api/query", {"path": "m:whoami", "args": {}})
    assert body["value"] is None


def test_run_route_names_the_function_in_the_url(server):
    status, body = post(server, "/api/run/m/counts", {"args": {}})
    assert (status, body["value"]) == (200, [])


@pytest.mark.parametrize(
    ("raw", "code"),
    [(b"{not json", "BadJsonBody"), (b"[1, 2]", "BadJsonBody"), (json.dumps({"args": {}}).encode(), "BadJsonBody")],
)
def test_malformed_requests_get_4xx_and_the_server_keeps_serving(server, client, raw, code):
    status, body = post(server, "/api/query", None, raw=raw)
    assert status == 400 and body["code"] == code
    assert client.query("m:counts") == []


def test_a_huge_body_is_refused(server, client):
    status, body = post(server, "/api/mutation", None, raw=b" " * (21 * 1024 * 1024))
    assert status == 413 and body["code"] == "RequestTooLarge"
    assert client.query("m:counts") == []


def test_the_order_fixture_over_http():
    dev = DevServer(ConvexEmulator(ORDERS), port=0, tick_seconds=0.01).start()
    try:
        client = ConvexHttpClient(dev.url)
        order_id = client.mutation("orders:create_order", {"items": ["book"]})
        deadline = time.time() + 5
        while client.query("orders:get", {"orderId": order_id})["status"] != "confirmed" and time.time() < deadline:
            time.sleep(0.02)
        assert client.query("orders:get", {"orderId": order_id})["status"] == "confirmed"
    finally:
        dev.stop()


@mutation
def remind_later(ctx, args):
    ctx.scheduler.run_after(args["ms"], internal.m.mark, {})


def test_a_restart_with_db_keeps_data_and_pending_jobs(tmp_path):
    modules = {"m": {**MODULES["m"], "remind_later": remind_later}}
    db = tmp_path / "state.sqlite"
    first = DevServer(ConvexEmulator(modules=modules), port=0, tick_seconds=0.01, db=str(db)).start()
    client = ConvexHttpClient(first.url)
    client.mutation("m:store_count", {"n": ConvexInt64(3)})
    client.mutation("m:remind_later", {"ms": 300.0})
    first.stop()

    second = DevServer(ConvexEmulator(modules=modules), port=0, tick_seconds=0.01, db=str(db)).start()
    try:
        assert second.restored == 2  # the document and the pending job
        client = ConvexHttpClient(second.url)
        assert client.query("m:counts") == [ConvexInt64(3)]
        deadline = time.time() + 5
        while client.query("m:marks") == 0 and time.time() < deadline:
            time.sleep(0.02)
        assert client.query("m:marks") == 1  # the job scheduled before the restart ran after it
        states = [j["state"]["kind"] for j in second.emulator.scheduled_functions()]
        assert states == ["success"]
    finally:
        second.stop()
    third = DevServer(ConvexEmulator(modules=modules), port=0, db=str(db))
    try:
        assert sorted(t for t, in third.persistence.db.execute("SELECT tbl FROM documents")) == [
            "_scheduled_functions", "counts", "marks"]
    finally:
        third.stop()


def test_print_inside_a_function_comes_back_as_log_lines(server):
    status, body = post(server, "/api/query", {"path": "m:counts", "args": {}})
    assert body["logLines"] == ["[LOG] counting documents", "[LOG] done"]


def test_after_downtime_an_overdue_cron_runs_once_and_the_missed_runs_are_skipped(tmp_path, capsys):
    from convex_py import cron_jobs

    crons = cron_jobs()
    crons.interval("every second", {"seconds": 1}, internal.m.mark)
    modules = {"m": MODULES["m"], "crons": {"crons": crons}}
    db = str(tmp_path / "state.sqlite")
    start = time.time() * 1000 - 10_000
    first = DevServer(ConvexEmulator(modules=modules, start_time=start), port=0, db=db)
    first.emulator.advance_to(start)  # the deploy-time run
    first.stop()  # saves to the --db file
    # Down for ~10 s: restart on the real clock.
    second = DevServer(ConvexEmulator(modules=modules), port=0, tick_seconds=0.01, db=db)
    try:
        second.emulator.advance(0)
        runs = second.emulator.cron_runs("every second")
        assert [r["outcome"] for r in runs] == ["success"]  # one catch-up run, at the restart time
        assert runs[0]["time"] == second.emulator.now
        out = capsys.readouterr().out
        assert "convex-py dev: Skipping 9 run(s) of job every second because multiple scheduled runs are in the past" in out \
            or "convex-py dev: Skipping 10 run(s) of job every second" in out
    finally:
        second.stop()


def test_after_a_restart_jobs_due_together_still_run_in_scheduling_order(tmp_path):
    db = str(tmp_path / "state.sqlite")
    first = DevServer(ConvexEmulator(modules=MODULES), port=0, db=db)
    first.emulator.run(lambda ctx: [ctx.scheduler.run_after(1000, internal.m.tag, {"tag": i}) for i in range(30)])
    first.stop()  # saves to the --db file
    second = DevServer(ConvexEmulator(modules=MODULES), port=0, db=db)
    try:
        t = second.emulator
        assert [job["args"][0]["tag"] for job in t.scheduled_functions()] == list(range(30))
        t.advance(60_000)
        assert t.query(lambda ctx: [d["tag"] for d in ctx.db.query("tags").collect()]) == list(range(30))
    finally:
        second.stop()


def test_an_action_found_in_progress_after_a_crash_is_failed(tmp_path):
    db = str(tmp_path / "state.sqlite")
    first = DevServer(ConvexEmulator(modules=MODULES), port=0, db=db)
    job_id = first.emulator.run(lambda ctx: ctx.scheduler.run_after(0, internal.m.mark, {}))
    first.emulator.store.update_system("_scheduled_functions", job_id, {"state": {"kind": "inProgress"}})  # the crash
    first.stop()  # saves to the --db file
    second = DevServer(ConvexEmulator(modules=MODULES), port=0, db=db)
    try:
        [job] = second.emulator.scheduled_functions()
        assert job["state"] == {"kind": "failed", "error": "Transient error while executing action"}
    finally:
        second.stop()


def _signed_token(private_key, claims: dict, kid: str = "k1") -> str:
    import jwt

    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def verified_server(tmp_path):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    dev = DevServer(ConvexEmulator(modules=MODULES), port=0, jwks=str(jwks), auth_issuer="https://auth.example").start()
    yield dev, key
    dev.stop()


def test_a_correctly_signed_token_gives_its_identity(verified_server):
    dev, key = verified_server
    token = _signed_token(key, {"iss": "https://auth.example", "sub": "u7", "name": "Ada"})
    status, body = post(dev, "/api/query", {"path": "m:whoami", "args": {}}, {"Authorization": f"Bearer {token}"})
    assert status == 200
    assert body["value"] == {"subject": "u7", "issuer": "https://auth.example",
                             "tokenIdentifier": "https://auth.example|u7", "name": "Ada"}


def test_a_forged_or_foreign_token_is_refused(verified_server):
    from cryptography.hazmat.primitives.asymmetric import rsa

    dev, key = verified_server
    forged = _signed_token(rsa.generate_private_key(public_exponent=65537, key_size=2048),
                           {"iss": "https://auth.example", "sub": "u7"})
    status, body = post(dev, "/api/query", {"path": "m:whoami", "args": {}}, {"Authorization": f"Bearer {forged}"})
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
    foreign = _signed_token(key, {"iss": "https://other.example", "sub": "u7"})
    status, body = post(dev, "/api/query", {"path": "m:whoami", "args": {}}, {"Authorization": f"Bearer {foreign}"})
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
    assert "issuer" in body["message"].lower()


def test_a_slow_client_does_not_block_others(server, client):
    body = json.dumps({"path": "m:counts", "args": {}}).encode()
    with connect(server, timeout=60) as slow:
        slow.sendall(request_bytes("POST", "/api/query", body[:7], {"Content-Length": str(len(body)),
                                                                      "Content-Type": "application/json"}))
        # Mid-body, the slow request holds nothing: another client writes and reads meanwhile.
        client.mutation("m:store_count", {"n": ConvexInt64(5)})
        assert client.query("m:counts") == [5]
        slow.setblocking(False)
        with pytest.raises(BlockingIOError):  # still open, still unanswered
            slow.recv(1)
        slow.setblocking(True)
        slow.sendall(body[7:])
        status, _headers, payload = read_answer(slow)
    assert status == 200
    assert json.loads(payload)["value"] == [{"$integer": base64.b64encode((5).to_bytes(8, "little")).decode()}]
