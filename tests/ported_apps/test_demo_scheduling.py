"""Convex's scheduling demo (convex-demos/scheduling): a message that counts down its own
self-destruction, one scheduled mutation a second, then deletes itself. Times are virtual."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import api

pytestmark = [pytest.mark.convex_app(str(Path(__file__).parent / "demo_scheduling")),
              pytest.mark.convex_time("2030-01-01T00:00:00Z")]
T0 = 1893456000000


def test_a_self_destructing_message_counts_down_then_disappears(convex):
    convex.mutation(api.messages.send, {"body": "stays", "author": "ada"})
    bodies = convex.subscribe(api.messages.list, {})
    convex.mutation(api.messages.sendExpiringMessage, {"body": "Hi", "author": "bob"})
    convex.advance(seconds=10)
    assert [(time - T0, [m["body"] for m in value]) for time, value in bodies.history] == [
        (0, ["stays"]),
        (0, ["stays", "Hi (This message will self-destruct in 5 seconds)"]),
        (1000, ["stays", "Hi (This message will self-destruct in 4 seconds)"]),
        (2000, ["stays", "Hi (This message will self-destruct in 3 seconds)"]),
        (3000, ["stays", "Hi (This message will self-destruct in 2 seconds)"]),
        (4000, ["stays", "Hi (This message will self-destruct in 1 seconds)"]),
        (5000, ["stays"]),
    ]
    assert [(j["scheduledTime"] - T0, j["args"][0]["secondsLeft"], j["state"]["kind"])
            for j in convex.scheduled_functions()] == [
        (1000, 4, "success"), (2000, 3, "success"), (3000, 2, "success"), (4000, 1, "success"),
        (5000, 0, "success")]


def test_finishing_all_scheduled_functions_ends_the_countdown(convex):
    convex.mutation(api.messages.sendExpiringMessage, {"body": "Bye", "author": "bob"})
    convex.advance(2500)
    [message] = convex.query(api.messages.list)
    assert message["body"] == "Bye (This message will self-destruct in 3 seconds)"
    convex.finish_all_scheduled_functions()
    assert convex.query(api.messages.list) == []
    assert convex.now == T0 + 5000
