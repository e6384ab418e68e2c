"""Convex's cron demo (convex-demos/cron-jobs): a cron clears the messages table every minute,
from deploy time on. Times are virtual."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import api

pytestmark = [pytest.mark.convex_app(str(Path(__file__).parent / "demo_cron_jobs")),
              pytest.mark.convex_time("2030-01-01T00:00:30Z")]
T0 = 1893456030000


def test_the_messages_table_is_cleared_every_minute(convex):
    messages = convex.subscribe(api.messages.list, {})
    convex.mutation(api.messages.send, {"body": "first", "author": "ada"})
    convex.advance(seconds=59)
    convex.mutation(api.messages.send, {"body": "second", "author": "bob"})
    assert [m["body"] for m in convex.query(api.messages.list)] == ["first", "second"]
    convex.advance(seconds=1)
    assert convex.query(api.messages.list) == []
    convex.mutation(api.messages.send, {"body": "third", "author": "cy"})
    convex.advance(minutes=2)
    assert [(time - T0, [m["body"] for m in value]) for time, value in messages.history] == [
        (0, []), (0, ["first"]), (59_000, ["first", "second"]), (60_000, []), (60_000, ["third"]), (120_000, [])]
    assert [(r["name"], r["time"] - T0) for r in convex.cron_runs()] == [
        ("clear messages table", 0), ("clear messages table", 60_000), ("clear messages table", 120_000),
        ("clear messages table", 180_000)]
    assert convex.scheduled_functions() == []  # cron runs are not scheduled functions
