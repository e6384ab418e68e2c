"""The work pool component's example app and its tests (get-convex/workpool example/convex/example.ts and
example.test.ts), ported; beyond them, the batch of slow actions and the retries of a failing one at
their exact virtual times."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import api, internal

pytestmark = [pytest.mark.convex_app(str(Path(__file__).parent / "workpool_example")),
              pytest.mark.convex_time("2030-01-01T00:00:00Z")]
T0 = 1893456000000


# example.test.ts: test("enqueue and get status")
def test_enqueue_and_get_status(convex):
    id = convex.mutation(api.example.enqueueOneMutation, {"data": 1})
    assert convex.query(api.example.status, {"id": id}) == {"state": "pending", "previousAttempts": 0}
    assert convex.query(api.example.queryData, {}) == []
    convex.finish_all_scheduled_functions()
    assert convex.query(api.example.status, {"id": id}) == {"state": "finished"}
    assert convex.query(api.example.queryData, {}) == [1]


# example.test.ts: test("enqueueQuery executes successfully")
def test_enqueue_query_executes_successfully(convex, capsys):
    id = convex.mutation(api.example.enqueueOneQuery, {})
    assert convex.query(api.example.status, {"id": id}) == {"state": "pending", "previousAttempts": 0}
    convex.finish_all_scheduled_functions()
    assert convex.query(api.example.status, {"id": id}) == {"state": "finished"}
    assert capsys.readouterr().out.splitlines() == ["onComplete result []", "total 0.0"]


# example.test.ts: test("enqueueMany with low parallelism")
def test_enqueue_many_with_low_parallelism(convex):
    for i in range(20):  # 20 is larger than max parallelism 3
        convex.mutation(api.example.enqueueOneMutation, {"data": i})
    convex.finish_all_scheduled_functions()
    assert sorted(convex.query(api.example.queryData, {})) == list(range(20))


# example.test.ts: test("enqueueMany with high parallelism")
def test_enqueue_many_with_high_parallelism(convex):
    for i in range(20):
        convex.mutation(api.example.highPriMutation, {"data": i})
    convex.finish_all_scheduled_functions()
    assert convex.query(api.example.queryData, {}) == list(range(20))


# example.test.ts: test("cancelation")
def test_cancelation(convex):
    id = convex.mutation(api.example.enqueueOneMutation, {"data": 1})
    convex.mutation(api.example.cancelMutation, {"id": id})
    convex.finish_all_scheduled_functions()
    assert convex.query(api.example.status, {"id": id}) == {"state": "finished"}
    assert convex.query(api.example.queryData, {}) == []


def test_a_batch_of_ten_one_second_actions_runs_three_at_a_time(convex):
    convex.action(internal.example.enqueueABatchOfActions)
    convex.finish_all_scheduled_functions()
    ends = [e["completedTime"] - T0 for e in convex.timeline() if e["function"] == "worker:run_action"]
    assert ends == [1000] * 3 + [2000] * 3 + [3000] * 3 + [4000]


def test_thirty_mutations_enqueued_at_once_from_an_action(convex):
    convex.action(api.example.enqueueABunchOfMutations)
    convex.finish_all_scheduled_functions()
    data = convex.query(api.example.queryData, {})
    assert len(data) == 30 and all(0 <= d < 1 for d in data)


def test_an_action_that_always_fails_is_retried_then_calls_back_failed(convex, capsys):
    convex.mutation(internal.example.enqueueFailing)
    convex.finish_all_scheduled_functions()
    starts = [e["time"] - T0 for e in convex.timeline() if e["function"] == "worker:run_action"]
    assert starts == [0, 100, 300]  # maxAttempts 3, backoff 100 * 2 ** (attempt - 1)
    assert capsys.readouterr().out.splitlines() == ["total 0.3"]


def test_an_action_through_the_big_pool_adds_random_data(convex):
    convex.mutation(api.example.enqueueAnAction)
    convex.finish_all_scheduled_functions()
    [d] = convex.query(api.example.queryData, {})
    assert 0 <= d < 1
