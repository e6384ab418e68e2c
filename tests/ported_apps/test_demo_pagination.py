"""Convex's pagination demo (convex-demos/pagination): newest-first pages, a page of one author's
messages, and a page transformed by the query, each continued from its cursor."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import api

pytestmark = [pytest.mark.convex_app(str(Path(__file__).parent / "demo_pagination"))]


def send_all(convex):
    for i, author in enumerate(["ada", "bob", "ada", "cy", "ada"], start=1):
        convex.mutation(api.messages.send, {"body": f"message {i}", "author": author})


def test_pages_newest_first_until_done(convex):
    send_all(convex)
    first = convex.query(api.messages.list, {"paginationOpts": {"numItems": 2.0, "cursor": None}})  # as JS sends it
    assert ([m["body"] for m in first["page"]], first["isDone"]) == (["message 5", "message 4"], False)
    second = convex.query(api.messages.list, {"paginationOpts": {"numItems": 2, "cursor": first["continueCursor"]}})
    assert ([m["body"] for m in second["page"]], second["isDone"]) == (["message 3", "message 2"], False)
    third = convex.query(api.messages.list, {"paginationOpts": {"numItems": 2, "cursor": second["continueCursor"]}})
    assert ([m["body"] for m in third["page"]], third["isDone"]) == (["message 1"], True)


def test_a_page_of_one_author_and_a_transformed_page(convex):
    send_all(convex)
    page = convex.query(api.messages.listWithExtraArg,
                        {"paginationOpts": {"numItems": 2, "cursor": None}, "author": "ada"})
    assert [m["body"] for m in page["page"]] == ["message 5", "message 3"]
    rest = convex.query(api.messages.listWithExtraArg,
                        {"paginationOpts": {"numItems": 2, "cursor": page["continueCursor"]}, "author": "ada"})
    assert ([m["body"] for m in rest["page"]], rest["isDone"]) == (["message 1"], True)

    shown = convex.query(api.messages.listWithTransformation, {"paginationOpts": {"numItems": 3, "cursor": None}})
    assert shown["page"] == [{"author": "a", "body": "MESSAGE 5"}, {"author": "c", "body": "MESSAGE 4"},
                             {"author": "a", "body": "MESSAGE 3"}]
    assert shown["isDone"] is False
    more = convex.query(api.messages.listWithTransformation,
                        {"paginationOpts": {"numItems": 3, "cursor": shown["continueCursor"]}})
    assert (more["page"], more["isDone"]) == ([{"author": "b", "body": "MESSAGE 2"}, {"author": "a", "body": "MESSAGE 1"}],
                                              True)


def test_a_live_first_page_follows_new_messages(convex):
    send_all(convex)
    first_page = convex.subscribe(api.messages.list, {"paginationOpts": {"numItems": 2, "cursor": None}})
    convex.mutation(api.messages.send, {"body": "message 6", "author": "bob"})
    assert [[m["body"] for m in value["page"]] for _time, value in first_page.history] == [
        ["message 5", "message 4"], ["message 6", "message 5"]]
