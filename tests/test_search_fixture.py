"""The search fixture app: text search within a channel and "similar messages" by embedding,
with exact result orders."""

from __future__ import annotations

import pytest

START = "2030-01-01T00:00:00Z"

FLAKY = "The deploy failed: a test for the search index is flaky"
RESULTS = "Search results look right after the index fix"
RAMEN = "Search for the best ramen in town: found it"
LOGS = "Searching the logs for the flaky test"


@pytest.mark.convex_app("fixtures/search")
@pytest.mark.convex_time(START)
def test_text_search_in_relevance_order(convex):
    convex.mutation("messages:seed")
    # Both terms in both documents: the shorter one first.
    assert convex.query("messages:search", {"text": "flaky test"}) == [LOGS, FLAKY]
    # "search" exactly in three (shortest first), "searching" as a prefix match at half weight.
    assert convex.query("messages:search", {"text": "search"}) == [RESULTS, LOGS, RAMEN, FLAKY]
    assert convex.query("messages:search", {"text": "SEARCH", "channel": "#dev"}) == [RESULTS, LOGS, FLAKY]
    assert convex.query("messages:search", {"text": "search", "channel": "#random"}) == [RAMEN]
    assert convex.query("messages:search", {"text": "croiss"}) == ["Good morning! Coffee and croissants at the bakery"]
    assert convex.query("messages:search", {"text": "search", "limit": 2}) == [RESULTS, LOGS]


@pytest.mark.convex_app("fixtures/search")
@pytest.mark.convex_time(START)
def test_search_pages_and_new_messages(convex):
    convex.mutation("messages:seed")
    first = convex.query("messages:search_page", {"text": "search", "cursor": None, "numItems": 3})
    assert (first["bodies"], first["isDone"]) == ([RESULTS, LOGS, RAMEN], False)
    rest = convex.query("messages:search_page", {"text": "search", "cursor": first["cursor"], "numItems": 3})
    assert (rest["bodies"], rest["isDone"]) == ([FLAKY], True)
    convex.mutation("messages:send", {"author": "dee", "channel": "#dev", "body": "search search",
                                      "embedding": [0.0] * 8})
    assert convex.query("messages:search", {"text": "search", "channel": "#dev"})[0] == "search search"


@pytest.mark.convex_app("fixtures/search")
@pytest.mark.convex_time(START)
def test_similar_messages_by_embedding(convex):
    ids = convex.mutation("messages:seed")
    # cos(deploy, index fix) = .84 / (.9849 * .8544) = .9982; cos(deploy, logs) = .81 / (.9849 * .9) = .9138;
    # cos(deploy, cat) = .27 / (.9849 * .8544) = .3209
    assert convex.action("messages:similar", {"messageId": ids[2]}) == [
        {"body": RESULTS, "score": 0.9982},
        {"body": LOGS, "score": 0.9138},
        {"body": "My cat sleeps on the keyboard while I code", "score": 0.3209},
    ]
    # Within #general: the train (travel .9, weather .1) is nearest the rain (weather .7, sports .6)?
    # cos = .07 / (.9055 * .9220) = .0838; the bakery shares nothing with it: 0.
    assert convex.action("messages:similar", {"messageId": ids[5], "sameChannel": True, "limit": 2}) == [
        {"body": "The train to Lyon is late again", "score": 0.0838},
        {"body": "Good morning! Coffee and croissants at the bakery", "score": 0.0},
    ]
