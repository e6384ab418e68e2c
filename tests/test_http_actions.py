"""HTTP actions: Convex's routing rules and errors, fetch-like requests and responses, t.fetch."""

from __future__ import annotations

import textwrap

import httpx
import jwt
import pytest

from convex_py import (
    ConvexError,
    Headers,
    Request,
    Response,
    http_action,
    http_router,
    internal,
    internal_mutation,
    internal_query,
)
from convex_py.errors import AppLoadError, HttpRouteError
from emulator import ConvexEmulator

START = 1_893_456_000_000  # 2030-01-01T00:00:00Z


def emulator(http, **modules) -> ConvexEmulator:
    return ConvexEmulator(modules={"http": {"http": http}, **modules}, start_time=START)


def echo(label: str):
    @http_action
    async def handler(ctx, request):
        return Response(f"{label} {request.method} {request.path}")

    return handler


# --- routing ----------------------------------------------------------------------------------


def test_an_exact_path_wins_over_a_prefix_and_the_longest_prefix_wins():
    http = http_router()
    http.route(path="/files/special", method="GET", handler=echo("exact"))
    http.route(path_prefix="/files/deep/", method="GET", handler=echo("long"))
    http.route(path_prefix="/files/", method="GET", handler=echo("short"))
    t = emulator(http)
    assert t.fetch("/files/special").text == "exact GET /files/special"
    assert t.fetch("/files/deep/x/y").text == "long GET /files/deep/x/y"
    assert t.fetch("/files/other").text == "short GET /files/other"
    assert t.fetch("/files/").text == "short GET /files/"
    # A prefix does not match its own path without the slash, nor does an exact path match more.
    missing = t.fetch("/files")
    assert (missing.status_code, missing.text) == (404, "No HttpAction routed for /files")
    assert missing.headers["content-type"] == "text/plain; charset=utf-8"
    assert t.fetch("/files/special/").text == "short GET /files/special/"
    # A route is per method.
    wrong = t.fetch("/files/special", method="POST", body="x")
    assert (wrong.status_code, wrong.text) == (404, "No HttpAction routed for /files/special")
    # The query string is not part of the path.
    assert t.fetch("/files/special?x=1").text == "exact GET /files/special"


def test_head_runs_the_get_route_without_a_body():
    http = http_router()
    http.route(path="/page", method="GET", handler=echo("page"))
    t = emulator(http)
    head = t.fetch("/page", method="HEAD")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == "text/plain;charset=UTF-8"


def test_route_definitions_raise_convex_errors():
    http = http_router()
    handler = echo("x")
    http.route(path="/hook", method="POST", handler=handler)
    http.route(path_prefix="/api/", method="GET", handler=handler)
    cases = [
        (dict(path="/hook", method="POST", handler=handler), "Path '/hook' for method POST already in use"),
        (dict(path="/api/users", method="GET", handler=handler), "GET path /api/users is shadowed by pathPrefix /api/"),
        (dict(path_prefix="/api/v2/", method="GET", handler=handler),
         "GET pathPrefix /api/v2/ is shadowed by pathPrefix /api/"),
        (dict(path_prefix="/api/", method="GET", handler=handler), "GET pathPrefix /api/ is shadowed by pathPrefix /api/"),
        (dict(path_prefix="/files", method="GET", handler=handler), "pathPrefix /files must end with a /"),
        (dict(path="hook", method="POST", handler=handler), "path 'hook' does not start with a /"),
        (dict(path="/x", method="HEAD", handler=handler), "'HEAD' is not an allowed HTTP method (like GET, POST, PUT etc.)"),
        (dict(path="/x", method="post", handler=handler), "'post' is not an allowed HTTP method (like GET, POST, PUT etc.)"),
        (dict(path="/x", method="GET"), "route requires handler"),
        (dict(path="/x", handler=handler), "route requires method"),
    ]
    for kwargs, message in cases:
        with pytest.raises(HttpRouteError) as info:
            http.route(**kwargs)
        assert str(info.value) == message
    # The same path on another method, and a longer prefix on another method, are fine.
    http.route(path="/hook", method="PUT", handler=handler)
    http.route(path_prefix="/api/v2/", method="POST", handler=handler)
    assert [(path, method) for path, method, _ in http.get_routes()] == [
        ("/hook", "POST"), ("/hook", "PUT"), ("/api/*", "GET"), ("/api/v2/*", "POST")]


def test_a_route_needs_an_http_action_and_one_of_path_or_prefix():
    http = http_router()

    async def plain(ctx, request):
        return Response("x")

    with pytest.raises(HttpRouteError, match=r"The handler of GET /x must be an @http_action function"):
        http.route(path="/x", method="GET", handler=plain)
    with pytest.raises(HttpRouteError, match="exactly one of path= .* or path_prefix="):
        http.route(path="/x", path_prefix="/y/", method="GET", handler=http_action(plain))
    # Convex's own spelling is accepted.
    http.route({"pathPrefix": "/y/", "method": "GET", "handler": http_action(plain)})
    http.route(pathPrefix="/z/", method="GET", handler=http_action(plain))
    assert http.lookup("/y/1", "GET")[1:] == ("GET", "/y/*")
    assert http.lookup("/z/1", "HEAD")[1:] == ("GET", "/z/*")
    assert http.lookup("/q", "GET") is None


def test_a_longer_prefix_registered_first_still_wins():
    http = http_router()
    http.route(path_prefix="/a/b/", method="GET", handler=echo("long"))
    http.route(path_prefix="/a/", method="GET", handler=echo("short"))
    t = emulator(http)
    assert t.fetch("/a/b/c").text == "long GET /a/b/c"
    assert t.fetch("/a/c").text == "short GET /a/c"


def test_an_app_without_http_py_has_no_http_actions():
    t = ConvexEmulator(modules={}, start_time=START)
    response = t.fetch("/anything")
    assert (response.status_code, response.text) == (404, "This Convex deployment does not have HTTP actions enabled.")


# --- loading convex/http.py ----------------------------------------------------------------


def write_app(tmp_path, http_source: str):
    convex = tmp_path / "convex"
    convex.mkdir()
    (convex / "http.py").write_text(textwrap.dedent(http_source))
    return tmp_path


def test_a_duplicate_route_fails_the_load_naming_the_route(tmp_path):
    app = write_app(tmp_path, """\
        from convex_py import Response, http_action, http_router

        @http_action
        async def hook(ctx, request):
            return Response("ok")

        http = http_router()
        http.route(path="/hook", method="POST", handler=hook)
        http.route(path="/hook", method="POST", handler=hook)
    """)
    with pytest.raises(AppLoadError) as info:
        ConvexEmulator(app)
    assert str(info.value) == (
        "Failed to import convex/http.py, line 9: HttpRouteError: Path '/hook' for method POST already in use")


def test_http_py_must_export_its_router(tmp_path):
    app = write_app(tmp_path, """\
        from convex_py import http_router

        router = http_router()
    """)
    with pytest.raises(AppLoadError, match=r"convex/http.py must export its router as `http = http_router\(\)`"):
        ConvexEmulator(app)


def test_functions_defined_in_http_py_are_functions_of_the_app(tmp_path):
    app = write_app(tmp_path, """\
        from convex_py import Response, http_action, http_router, internal, internal_query

        @internal_query
        def greeting(ctx, args):
            return "hello " + args["name"]

        @http_action
        async def hello(ctx, request):
            return Response(await ctx.run_query(internal.http.greeting, {"name": request.query["name"]}))

        http = http_router()
        http.route(path="/hello", method="GET", handler=hello)
    """)
    t = ConvexEmulator(app)
    assert t.fetch("/hello?name=ada").text == "hello ada"
    assert sorted(t.app.functions) == ["http:greeting"]  # an @http_action is not a callable function


# --- requests and responses -----------------------------------------------------------------


def test_the_request_is_fetch_like():
    seen = {}

    @http_action
    async def inspect(ctx, request):
        seen.update(method=request.method, url=request.url, path=request.path, query=request.query,
                    type=request.headers.get("content-type"), custom=request.headers["X-Custom"],
                    has=("x-custom" in request.headers), body=await request.json(), used=request.body_used)
        return Response(None, status=204)

    http = http_router()
    http.route(path="/inspect", method="POST", handler=inspect)
    t = emulator(http)
    response = t.fetch("/inspect?a=1&b=two", method="POST", body={"n": 1}, headers={"X-Custom": "yes"})
    assert (response.status_code, response.content) == (204, b"")
    assert seen == {
        "method": "POST", "url": "http://127.0.0.1:3211/inspect?a=1&b=two", "path": "/inspect",
        "query": {"a": "1", "b": "two"}, "type": "application/json", "custom": "yes", "has": True,
        "body": {"n": 1}, "used": True,
    }


def test_a_body_reads_once_and_sync_handlers_read_it_directly():
    @http_action
    def twice(ctx, request):
        first = request.text()
        try:
            request.bytes()
        except TypeError as exc:
            return Response(f"{first} / {exc}")
        return Response("read twice")

    http = http_router()
    http.route(path="/twice", method="POST", handler=twice)
    t = emulator(http)
    assert t.fetch("/twice", method="POST", body=b"abc").text == (
        "abc / Body is unusable: the body has already been read (a body reads only once)")


def test_get_requests_reach_the_handler_without_a_body():
    @http_action
    async def length(ctx, request):
        return Response(str(len(await request.bytes())))

    http = http_router()
    http.route(path="/len", method="GET", handler=length)
    http.route(path="/len", method="PUT", handler=length)
    t = emulator(http)
    assert t.fetch("/len", body=b"ignored").text == "0"
    assert t.fetch("/len", method="PUT", body=b"12345").text == "5"


def test_responses_carry_status_headers_and_bytes():
    @http_action
    async def binary(ctx, request):
        headers = Headers([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
        headers.set("Content-Type", "application/octet-stream")
        return Response(b"\x00\xff", status=201, headers=headers)

    @http_action
    async def as_json(ctx, request):
        return Response.json({"ok": True, "n": [1, 2]}, status=202, headers={"X-Id": "7"})

    http = http_router()
    http.route(path="/binary", method="GET", handler=binary)
    http.route(path="/json", method="GET", handler=as_json)
    t = emulator(http)
    binary_response = t.fetch("/binary")
    assert (binary_response.status_code, binary_response.content) == (201, b"\x00\xff")
    assert binary_response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert binary_response.headers["content-type"] == "application/octet-stream"
    json_response = t.fetch("/json")
    assert isinstance(json_response, httpx.Response)
    assert (json_response.status_code, json_response.json()) == (202, {"ok": True, "n": [1, 2]})
    assert json_response.headers["x-id"] == "7"
    assert json_response.content == b'{"ok":true,"n":[1,2]}'


def test_response_and_request_reject_what_fetch_rejects():
    with pytest.raises(ValueError, match=r'init\["status"\] must be in the range of 200 to 599, inclusive'):
        Response("x", status=99)
    with pytest.raises(TypeError, match="Response with null body status cannot have body"):
        Response("x", status=204)
    with pytest.raises(TypeError, match=r"Response body must be str or bytes \(or None\), got dict: send JSON with Response.json"):
        Response({"a": 1})
    with pytest.raises(ValueError, match="contains a line break"):
        Response("x", headers={"X-Bad": "a\r\nInjected: 1"})
    with pytest.raises(TypeError, match="Request with GET/HEAD method cannot have body."):
        Request("http://x/", body=b"1")
    assert Response.redirect("/elsewhere", 307).headers["location"] == "/elsewhere"
    with pytest.raises(TypeError, match=r"Headers take a dict or a list of \(name, value\) pairs, got 'abc'"):
        Headers("abc")
    with pytest.raises(ValueError, match="Invalid header name 'bad name'"):
        Headers({"bad name": "x"})
    headers = Headers([("X-A", "1"), ("x-a", "2"), ("B", "3")])
    assert (headers["x-a"], headers.get_all("X-A"), headers.items()) == ("1, 2", ["1", "2"], [("b", "3"), ("x-a", "1, 2")])


def test_a_handler_that_returns_no_response_is_a_500():
    @http_action
    async def nothing(ctx, request):
        return {"not": "a response"}

    http = http_router()
    http.route(path="/nothing", method="GET", handler=nothing)
    t = emulator(http)
    response = t.fetch("/nothing")
    assert response.status_code == 500
    assert response.json()["code"] == (
        "[Request ID: 0000000000000001] Server Error: Uncaught TypeError: The HTTP action for GET /nothing "
        "returned dict, not a Response: return Response(body, status=..., headers=...)")


# --- errors -----------------------------------------------------------------------------------


def test_a_raising_handler_answers_convex_500_and_is_in_the_timeline():
    @http_action
    async def boom(ctx, request):
        raise RuntimeError("the provider sent nonsense")

    @http_action
    async def refuse(ctx, request):
        raise ConvexError({"code": "NOPE", "n": 3})

    http = http_router()
    http.route(path="/boom", method="POST", handler=boom)
    http.route(path="/refuse", method="GET", handler=refuse)
    t = emulator(http)
    response = t.fetch("/boom", method="POST", body="x")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == "[Request ID: 0000000000000001] Server Error: Uncaught RuntimeError: the provider sent nonsense"
    assert body["trace"].startswith("Uncaught RuntimeError: the provider sent nonsense\n    at boom (")
    assert set(body) == {"code", "trace"}
    refused = t.fetch("/refuse").json()
    assert refused["code"] == "[Request ID: 0000000000000002] Server Error: Uncaught ConvexError: {'code': 'NOPE', 'n': 3}"
    assert refused["data"] == {"code": "NOPE", "n": 3}
    t.advance(seconds=3)
    ok = t.fetch("/nowhere")  # no route: not an execution
    assert ok.status_code == 404
    assert [(e["time"], e["source"], e["kind"], e["function"], e["outcome"], e["error"], e["status"])
            for e in t.timeline()] == [
        (START, "http", "httpAction", "POST /boom", "failed", "Uncaught RuntimeError: the provider sent nonsense", 500),
        (START, "http", "httpAction", "GET /refuse", "failed", "Uncaught ConvexError: {'code': 'NOPE', 'n': 3}", 500),
    ]


# --- the handler's ctx ---------------------------------------------------------------------------


@internal_mutation
def save(ctx, args):
    return ctx.db.insert("events", {"kind": args["kind"]})


@internal_mutation
def followup(ctx, args):
    ctx.db.patch(args["id"], {"followedUp": True})


@internal_query
def events(ctx, args):
    return [{k: d[k] for k in d if not k.startswith("_")} for d in ctx.db.query("events").collect()]


def test_the_handler_has_an_action_ctx_and_schedules_at_once():
    @http_action
    async def hook(ctx, request):
        event = await request.json()
        event_id = await ctx.run_mutation(internal.m.save, {"kind": event["kind"]})
        await ctx.scheduler.run_after(60_000, internal.m.followup, {"id": event_id})
        assert not hasattr(ctx, "db")
        return Response.json(await ctx.run_query(internal.m.events, {}))

    http = http_router()
    http.route(path="/hook", method="POST", handler=hook)
    t = emulator(http, m={"save": save, "followup": followup, "events": events})
    assert t.fetch("/hook", method="POST", body={"kind": "paid"}).json() == [{"kind": "paid"}]
    [job] = t.scheduled_functions()
    assert (job["name"], job["scheduledTime"], job["state"]) == ("m:followup", START + 60_000, {"kind": "pending"})
    t.advance(minutes=1)
    assert t.query(internal.m.events) == [{"kind": "paid", "followedUp": True}]


def test_the_handler_has_no_db():
    @http_action
    def direct(ctx, request):
        ctx.db.query("events")

    http = http_router()
    http.route(path="/direct", method="GET", handler=direct)
    t = emulator(http)
    body = t.fetch("/direct").json()
    assert body["code"].endswith(
        "Server Error: Uncaught AttributeError: ctx.db is not available in actions: read and write through "
        "ctx.run_query / ctx.run_mutation.")


def whoami_router():
    @http_action
    async def whoami(ctx, request):
        identity = await ctx.auth.get_user_identity()
        return Response.json(identity)

    http = http_router()
    http.route(path="/me", method="GET", handler=whoami)
    return http


def test_identity_comes_from_with_identity_or_a_bearer_jwt():
    t = emulator(whoami_router())
    assert t.fetch("/me").json() is None
    assert t.with_identity({"subject": "u1", "name": "Ada"}).fetch("/me").json() == {
        "subject": "u1", "name": "Ada", "issuer": "https://convex.test", "tokenIdentifier": "https://convex.test|u1"}
    token = jwt.encode({"sub": "user_42", "iss": "https://auth.example", "email": "a@example.com"}, "k" * 32, algorithm="HS256")
    assert t.fetch("/me", headers={"Authorization": f"Bearer {token}"}).json() == {
        "subject": "user_42", "issuer": "https://auth.example", "tokenIdentifier": "https://auth.example|user_42",
        "email": "a@example.com"}


def test_an_authorization_header_that_is_not_a_convex_token_just_means_no_identity():
    t = emulator(whoami_router())
    for header in ("Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c"):
        response = t.fetch("/me", headers={"Authorization": header})
        assert (response.status_code, response.json()) == (200, None)


# --- limits and t.fetch's own errors ----------------------------------------------------------------


def test_a_request_body_past_20_mib_is_a_413():
    @http_action
    async def size(ctx, request):
        return Response(str(len(await request.bytes())))

    http = http_router()
    http.route(path="/upload", method="POST", handler=size)
    t = emulator(http)
    limit = 20 * 1024 * 1024
    assert t.fetch("/upload", method="POST", body=bytes(limit)).text == str(limit)
    response = t.fetch("/upload", method="POST", body=bytes(limit + 1))
    assert response.status_code == 413
    assert response.json() == {
        "code": "PayloadTooLarge",
        "message": "The request body is too large: HTTP actions accept bodies up to 20 MiB (20971520 bytes).",
    }


def test_fetch_takes_site_paths_and_urls_of_the_deployment_only():
    t = emulator(whoami_router())
    assert t.fetch("http://127.0.0.1:3211/me").status_code == 200
    with pytest.raises(ValueError, match="Path given to `t.fetch` must start with a `/`"):
        t.fetch("me")
    with pytest.raises(ValueError, match=r"https://example.com/me is not a URL of this deployment"):
        t.fetch("https://example.com/me")
    with pytest.raises(TypeError, match=r"fetch: body must be bytes, str, or a dict or list \(sent as JSON\), got int"):
        t.fetch("/me", method="POST", body=3)
