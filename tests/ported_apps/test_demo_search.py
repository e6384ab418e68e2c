"""Convex's full text search demo (convex-demos/search): the ten best matches of a search index,
the last term also matching as a prefix, equal scores newest first."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import api

pytestmark = [pytest.mark.convex_app(str(Path(__file__).parent / "demo_search"))]


def test_search_ranks_matches_and_takes_ten(convex):
    for body in ["hello world", "goodbye world", "hello there, hello again", "nothing here"]:
        convex.mutation(api.messages.send, {"body": body, "author": "ada"})
    assert [m["body"] for m in convex.query(api.messages.search, {"query": "world"})] == [
        "goodbye world", "hello world"]  # equal scores: newest first
    assert [m["body"] for m in convex.query(api.messages.search, {"query": "HELLO"})] == [
        "hello there, hello again", "hello world"]  # two occurrences rank first
    assert [m["body"] for m in convex.query(api.messages.search, {"query": "goodbye wor"})][0] == "goodbye world"
    assert convex.query(api.messages.search, {"query": "zebra"}) == []
    for i in range(12):
        convex.mutation(api.messages.send, {"body": f"spam {i}", "author": "bot"})
    assert len(convex.query(api.messages.search, {"query": "spam"})) == 10
