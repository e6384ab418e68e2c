"""The dev server's HTTP layer over real sockets: framing, methods and malformed input are 4xx JSON."""

from __future__ import annotations

import json
import socket
import struct

import pytest

from convex_py import mutation, query, v
from emulator import ConvexEmulator
from emulator.server import DevServer

from _server_http import connect, post, read_answer, request_bytes


@mutation(args={"n": v.number()})
def add(ctx, args):
    return ctx.db.insert("counts", {"n": args["n"]})


@query
def counts(ctx, args):
    return [c["n"] for c in ctx.db.query("counts").collect()]


@mutation
def store_any(ctx, args):
    ctx.db.insert("things", {"value": args.get("value")})


MODULES = {"m": {"add": add, "counts": counts, "store_any": store_any}}


@pytest.fixture
def server():
    dev = DevServer(ConvexEmulator(modules=MODULES), port=0, tick_seconds=0.01).start()
    yield dev
    dev.stop()


def stored(server) -> list:
    status, body = post(server, "/api/query", {"path": "m:counts", "args": {}})
    assert status == 200
    return body["value"]


ADD = json.dumps({"path": "m:add", "args": {"n": 7}}).encode()


def chunked(body: bytes) -> bytes:
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


def test_a_chunked_body_is_read_as_the_body_not_as_the_next_request(server):
    smuggled = request_bytes("POST", "/api/mutation", ADD, {"Content-Type": "application/json",
                                                            "Content-Length": str(len(ADD))})
    with connect(server) as sock:
        sock.sendall(request_bytes("POST", "/api/mutation", chunked(smuggled), {"Transfer-Encoding": "chunked"}))
        status, headers, body = read_answer(sock)
        assert (status, headers["content-type"], json.loads(body)["code"]) == (400, "application/json", "BadJsonBody")
        sock.sendall(request_bytes("GET", "/version", b""))  # the next answer on this connection is for this
        status, _headers, body = read_answer(sock, "GET")
        assert (status, json.loads(body)) == (200, {"status": "ok", "server": "convex-py"})
    assert stored(server) == []  # the request inside the body never ran


def test_a_chunked_request_is_served(server):
    with connect(server) as sock:
        sock.sendall(request_bytes("POST", "/api/mutation", chunked(ADD), {"Transfer-Encoding": "chunked"}))
        status, _headers, body = read_answer(sock)
    assert status == 200 and json.loads(body)["status"] == "success"
    assert stored(server) == [7.0]


def test_content_length_and_chunked_together_do_not_run_anything(server):
    with connect(server) as sock:
        sock.sendall(request_bytes("POST", "/api/mutation", chunked(ADD),
                                   {"Transfer-Encoding": "chunked", "Content-Length": "4"}))
        status, headers, body = read_answer(sock)
    assert status == 400 and headers["content-type"] == "application/json"
    assert stored(server) == []


def test_a_body_shorter_than_its_content_length_does_not_run_on_half_close(server):
    with connect(server) as sock:
        sock.sendall(request_bytes("POST", "/api/mutation", ADD, {"Content-Length": str(len(ADD) + 50)}))
        sock.shutdown(socket.SHUT_WR)
        answered = b"".join(iter(lambda: sock.recv(65536), b""))  # until the server closes
    assert b"success" not in answered
    assert stored(server) == []


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_get_a_json_405(server, method):
    status, body = post(server, "/api/query", {"path": "m:counts"}, method=method)
    assert status == 405
    assert body["code"] == "MethodNotAllowed"
    assert body["message"] == f"{method} is not allowed on /api/query (allowed: POST)"


def test_head_gets_a_json_405_without_a_body(server):
    with connect(server) as sock:
        sock.sendall(request_bytes("HEAD", "/api/mutation", b""))
        status, headers, body = read_answer(sock, "HEAD")
    assert (status, headers["content-type"], body) == (405, "application/json", b"")


def test_an_unknown_route_gets_a_json_404(server):
    status, body = post(server, "/nowhere", {})
    assert (status, body) == (404, {"code": "NotFound", "message": "No route for POST /nowhere"})


def test_an_unparsable_request_gets_a_json_400(server):
    with connect(server) as sock:
        sock.sendall(b"POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n{}")  # not ASCII digits
        status, headers, body = read_answer(sock)
    assert (status, headers["content-type"]) == (400, "application/json")
    assert json.loads(body)["code"] == "BadRequest"
    assert "Content-Length" in json.loads(body)["message"]


@pytest.mark.parametrize(
    ("head", "detail"),
    [
        (b"GET /ver\xffsion HTTP/1.1\r\nHost: x\r\n\r\n", "Invalid char in url path"),
        (b"POST /api/query HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000)
                                                            for i in range(70)) + b"\r\n",
         "the request line and headers are longer than 65536 bytes"),
    ],
    ids=["non-ascii-target", "head-over-64-kib"],
)
def test_a_bad_request_head_gets_a_json_400_naming_it_and_the_connection_closes(server, head, detail):
    with connect(server) as sock:
        sock.sendall(head)
        status, headers, body = read_answer(sock)
        assert b"".join(iter(lambda: sock.recv(65536), b"")) == b""  # closed: nothing after it is read as a request
    assert (status, headers["content-type"], headers["connection"]) == (400, "application/json", "close")
    assert json.loads(body) == {"code": "BadRequest", "message": f"Invalid HTTP request received: {detail}"}
    assert stored(server) == []  # and the server goes on


def test_a_client_that_hangs_up_leaves_no_traceback(server, capfd):
    for _ in range(5):
        sock = connect(server)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        sock.sendall(request_bytes("POST", "/api/mutation", ADD, {"Content-Length": str(len(ADD))}))
        sock.close()
    assert stored(server) != None  # noqa: E711 - the server still answers
    out, err = capfd.readouterr()
    assert "Traceback" not in err + out
    assert "BrokenPipe" not in err + out


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (json.dumps({"path": "m:store_any", "args": {"value": nested(500)}}).encode(), "BadConvexValue",
         "Invalid arguments: Value is too nested at value" + "[0]" * 63 + " (limit: 64 levels)"),
        (b'{"path": "m:store_any", "args": {"value": ' + b"9" * 400 + b"}}", "BadConvexValue",
         "Invalid arguments: Number out of range at value: it does not fit in a float64"),
        (b'{"path": "m:store_any", "args": {"value": 1e400}}', "BadConvexValue",
         "Invalid arguments: Number out of range at value: it does not fit in a float64"),
        (b'{"path": "m:store_any", "args": {"value": "a\\ud800b"}}', "BadConvexValue",
         "Invalid arguments: Invalid string at value: it contains a lone surrogate (not valid Unicode)"),
        (b'{"path": "m:store_any", "args": {"\\udc00": 1}}', "BadConvexValue",
         "Invalid arguments: Invalid string: it contains a lone surrogate (not valid Unicode)"),
        (b'{"path": "m:store_any", "args": {"value": {"$integer": 5}}}', "BadConvexValue",
         "Invalid arguments: Malformed $integer value at value: 'int'"),
        (b"[" * 100_000 + b"]" * 100_000, "BadJsonBody", "The request body is nested too deeply"),
        (b'{"path": "m:store_any", "args": {"value": NaN}}', "BadConvexValue",
         "Invalid arguments: Number out of range at value: it does not fit in a float64"),
        (b'{"path": "m:\xff"}', "BadJsonBody", "The request body is not UTF-8 text"),
    ],
    ids=["nested-500", "400-digits", "1e400", "lone-surrogate", "surrogate-key", "bad-integer", "deep-json", "nan",
         "not-utf8"],
)
def test_malformed_input_is_a_400_naming_what_was_wrong(server, raw, code, message):
    status, body = post(server, "/api/mutation", None, raw=raw)
    assert (status, body) == (400, {"code": code, "message": message})
    status, body = post(server, "/api/query", {"path": "m:counts", "args": {}})
    assert status == 200  # and the server goes on


def test_a_valid_surrogate_pair_is_fine(server):
    status, body = post(server, "/api/mutation", None,
                        raw=b'{"path": "m:store_any", "args": {"value": "\\ud83d\\ude00"}}')
    assert (status, body["status"]) == (200, "success")
    assert server.emulator.query(lambda ctx: ctx.db.query("things").first()["value"]) == "\U0001F600"
