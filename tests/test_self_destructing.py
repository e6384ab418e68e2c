"""The self-destructing messages fixture: a message is gone exactly when its time to live ends."""

import pytest

from convex_py import api

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z

pytestmark = [pytest.mark.convex_app("fixtures/self_destructing"), pytest.mark.convex_time("2030-01-01T00:00:00Z")]


def test_a_message_destructs_when_its_ttl_ends(convex):
    message_id = convex.mutation(api.messages.send, {"body": "secret", "author": "ada", "ttlMs": 60_000})
    convex.mutation(api.messages.send, {"body": "longer", "author": "bob", "ttlMs": 120_000})
    [job, _] = convex.scheduled_functions()
    assert (job["name"], job["scheduledTime"], job["args"]) == ("messages:destruct", T0 + 60_000, [{"messageId": message_id}])
    convex.advance(ms=59_999)
    assert convex.query(api.messages.list_messages) == ["secret", "longer"]
    convex.advance(ms=1)
    assert convex.query(api.messages.list_messages) == ["longer"]
    convex.advance(minutes=1)
    assert convex.query(api.messages.list_messages) == []
    assert [j["state"]["kind"] for j in convex.scheduled_functions()] == ["success", "success"]


def test_deleting_a_message_early_leaves_the_destruct_job_harmless(convex):
    message_id = convex.mutation(api.messages.send, {"body": "oops", "author": "ada", "ttlMs": 1000})
    convex.run(lambda ctx: ctx.db.delete(message_id))
    convex.advance(seconds=1)
    assert [j["state"] for j in convex.scheduled_functions()] == [{"kind": "success"}]
