"""Port of convex-test's convex/textSearch.test.ts: text search with and without a filter, prefix
match of the last term, case-insensitivity, several terms.

Same matches as convex-test, but in Convex's order: convex-test returns matches in creation order,
Convex by BM25 relevance with ties going to the newest document (crates/search `search`, see
emulator/search/_text_index.py). Each expected order below says why."""

from __future__ import annotations

import pytest

from convex_py import api

from _ct import APP

pytestmark = pytest.mark.convex_app(str(APP))


def _insert(convex, *pairs):
    async def body(ctx):
        for author, text in pairs:
            await ctx.db.insert("messages", {"author": author, "body": text})

    convex.run(body)


def _search(convex, body, author=None):
    return [(m["author"], m["body"]) for m in convex.query(api.textSearch.textSearch, {"body": body, "author": author})]


# textSearch.test.ts: test("text search")
def test_text_search(convex):
    _insert(convex, ("sarah", "hello convex"), ("michal", "hello next"), ("sarah", "hello base"))
    # Three equal scores (one "hello" in two words each): newest first.
    assert _search(convex, "hello") == [("sarah", "hello base"), ("michal", "hello next"), ("sarah", "hello convex")]
    assert _search(convex, "hello", "sarah") == [("sarah", "hello base"), ("sarah", "hello convex")]
    assert _search(convex, "con") == [("sarah", "hello convex")]  # the last term also matches as a prefix


# textSearch.test.ts: test("case insensitive text search")
def test_case_insensitive_text_search(convex):
    _insert(convex, ("alice", "Hello World"), ("bob", "GOODBYE WORLD"), ("charlie", "Mixed Case Text"),
            ("diana", "lowercase text"))
    assert _search(convex, "HELLO") == [("alice", "Hello World")]
    assert _search(convex, "goodbye") == [("bob", "GOODBYE WORLD")]
    assert _search(convex, "WoRlD") == [("bob", "GOODBYE WORLD"), ("alice", "Hello World")]  # a tie: newest first
    # "text" in a two-word body outscores it in a three-word body.
    assert _search(convex, "TEX") == [("diana", "lowercase text"), ("charlie", "Mixed Case Text")]
    assert _search(convex, "TEXT", "charlie") == [("charlie", "Mixed Case Text")]


# textSearch.test.ts: test("multi-word query matching")
def test_multi_word_query_matching(convex):
    _insert(convex, ("alice", "Foo Bar Baz"), ("bob", "Hello World"), ("charlie", "Foo"), ("diana", "Bar"),
            ("eve", "Something Else"))
    # Both terms beat one term; "Foo" and "Bar" (one word each) tie: newest first.
    both_first = [("alice", "Foo Bar Baz"), ("diana", "Bar"), ("charlie", "Foo")]
    assert _search(convex, "foo bar") == both_first
    assert _search(convex, "hello world") == [("bob", "Hello World")]
    assert _search(convex, "foo baz") == [("alice", "Foo Bar Baz"), ("charlie", "Foo")]
    # One matching term each: the one-word body "Foo" outscores "Foo" among three words.
    assert _search(convex, "foo missing") == [("charlie", "Foo"), ("alice", "Foo Bar Baz")]
    assert _search(convex, "   foo   bar   ") == both_first
