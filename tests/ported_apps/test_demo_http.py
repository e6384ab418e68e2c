"""Convex's HTTP actions demo (convex-demos/http): a POST route that sends a message, a GET route
reading the author from a query parameter or a header, and a path-prefix route."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import api

pytestmark = [pytest.mark.convex_app(str(Path(__file__).parent / "demo_http"))]


def test_post_then_read_by_author_three_ways(convex):
    posted = convex.fetch("/postMessage", method="POST", body='{"author": "User 123", "body": "Hello"}',
                          headers={"Content-Type": "application/json"})
    assert (posted.status_code, posted.content) == (200, b"")
    convex.mutation(api.messages.send, {"body": "direct", "author": "User 7"})
    assert [(m["author"], m["body"]) for m in convex.query(api.messages.list)] == [
        ("User 123", "Sent via HTTP action: Hello"), ("User 7", "direct")]

    expected = [{"body": "Sent via HTTP action: Hello", "author": "User 123"}]
    by_param = convex.fetch("/getMessagesByAuthor?authorNumber=123")
    assert (by_param.status_code, by_param.headers["content-type"], by_param.json()) == (
        200, "application/json", expected)
    by_header = convex.fetch("/getMessagesByAuthor", headers={"authorNumber": "123"})
    assert by_header.json() == expected
    by_path = convex.fetch("/getAuthorMessages/123")
    assert by_path.json() == expected
    assert convex.fetch("/getAuthorMessages/7").json() == [{"body": "direct", "author": "User 7"}]


def test_missing_author_and_unknown_routes(convex):
    missing = convex.fetch("/getMessagesByAuthor")
    assert (missing.status_code, missing.text) == (400, "Did not specify authorNumber as query param or header")
    assert convex.fetch("/postMessage").status_code == 404  # GET is not routed
    assert convex.fetch("/nowhere").text == "No HttpAction routed for /nowhere"
    broken = convex.fetch("/postMessage", method="POST", body="not json")
    assert broken.status_code == 500
    assert convex.query(api.messages.list) == []
