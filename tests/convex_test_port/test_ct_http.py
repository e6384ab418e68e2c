"""Port of convex-test's convex/http.test.ts: HTTP actions through `t.fetch`."""

from __future__ import annotations

import json

import pytest

from _ct import APP

pytestmark = pytest.mark.convex_app(str(APP))


# http.test.ts: test("simple")
def test_simple(convex):
    assert convex.fetch("/foo?arg=hello", method="GET").text == "hello"


# http.test.ts: test("json body")
def test_json_body(convex):
    response = convex.fetch(
        "/buzz", method="POST", body=json.dumps({"text": "hello"}), headers={"Content-Type": "application/json"}
    )
    assert response.text == "hello"


# http.test.ts: test("path prefix")
def test_path_prefix(convex):
    assert convex.fetch("/bla/hello", method="POST").text == "hello"


# http.test.ts: test("http action runs query")
def test_http_action_runs_query(convex):
    convex.run(lambda ctx: ctx.db.insert("messages", {"author": "mike", "body": "hello"}))
    response = convex.fetch("/readQuery", method="POST")
    assert response.status_code == 200
    assert response.json()["body"] == "hello"
