"""The scheduler's seed patterns, end to end on the fixture apps, with exact virtual times."""

from __future__ import annotations

import pytest

from convex_py import ConvexError, api
from convex_py.errors import RunawaySchedulingError

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

pytestmark = pytest.mark.convex_time("2030-01-01T00:00:00Z")


def jobs_by_name(convex, name):
    return [job for job in convex.scheduled_functions() if job["name"] == name]


# --- order: confirmed at once, archived after 7 days ----------------------------------------


@pytest.mark.convex_app("fixtures/orders")
def test_order_confirmed_at_once_and_archived_after_seven_days(convex):
    order_id = convex.mutation(api.orders.create_order, {"items": ["book"]})
    assert convex.query(api.orders.get, {"orderId": order_id})["status"] == "new"
    confirm, archive = convex.scheduled_functions()
    assert (confirm["name"], confirm["scheduledTime"], confirm["state"]) == (
        "emails:send_confirmation", T0, {"kind": "pending"})
    assert (archive["name"], archive["scheduledTime"], archive["state"]) == (
        "orders:archive_order", T0 + 7 * DAY, {"kind": "pending"})

    convex.advance(0)
    assert convex.query(api.orders.get, {"orderId": order_id})["status"] == "confirmed"
    emails = convex.run(lambda ctx: ctx.db.query("emails").collect())
    assert [(e["orderId"], e["kind"], e["sentAt"]) for e in emails] == [(order_id, "confirmation", T0)]

    convex.advance(7 * DAY - 1)
    assert convex.query(api.orders.get, {"orderId": order_id})["status"] == "confirmed"
    assert jobs_by_name(convex, "orders:archive_order")[0]["state"] == {"kind": "pending"}

    convex.advance(1)
    order = convex.query(api.orders.get, {"orderId": order_id})
    assert (order["status"], order["archived"]) == ("archived", True)
    # The confirmation job completed at T0, so it is gone at T0 + 7d; the archive job stays for 7 more days.
    [job] = convex.scheduled_functions()
    assert (job["name"], job["state"], job["completedTime"]) == ("orders:archive_order", {"kind": "success"}, T0 + 7 * DAY)
    assert [(e["time"], e["function"], e["outcome"]) for e in convex.timeline()] == [
        (T0, "emails:send_confirmation", "success"),
        (T0 + 7 * DAY, "orders:archive_order", "success"),
    ]


@pytest.mark.convex_app("fixtures/orders")
def test_rejected_order_schedules_nothing(convex):
    with pytest.raises(ConvexError) as info:
        convex.mutation(api.orders.create_order, {"items": []})
    assert info.value.data["code"] == "EMPTY_ORDER"
    assert convex.scheduled_functions() == []
    assert convex.finish_all_scheduled_functions() == 0
    assert convex.now == T0


# --- delayed reminder, cancellable task -----------------------------------------------------------


@pytest.mark.convex_app("fixtures/reminders")
def test_delayed_reminder_is_sent_at_its_time(convex):
    reminder_id = convex.mutation(api.reminders.create, {"text": "stand up", "delayMs": 30 * MINUTE})
    assert convex.query(api.reminders.get, {"reminderId": reminder_id})["dueAt"] == T0 + 30 * MINUTE

    convex.advance(30 * MINUTE - 1)
    assert convex.query(api.reminders.notifications) == []
    convex.advance(1)
    [note] = convex.query(api.reminders.notifications)
    assert (note["text"], note["sentAt"]) == ("stand up", T0 + 30 * MINUTE)
    assert convex.query(api.reminders.get, {"reminderId": reminder_id})["status"] == "sent"
    [job] = convex.scheduled_functions()
    assert job["state"] == {"kind": "success"} and job["completedTime"] == T0 + 30 * MINUTE


@pytest.mark.convex_app("fixtures/reminders")
def test_reminder_at_an_absolute_time(convex):
    at = T0 + 2 * DAY + 9 * HOUR
    convex.mutation(api.reminders.create_at, {"text": "dentist", "at": at})
    convex.advance(days=3)
    [note] = convex.query(api.reminders.notifications)
    assert note["sentAt"] == at
    assert convex.now == T0 + 3 * DAY


@pytest.mark.convex_app("fixtures/reminders")
def test_cancelled_reminder_never_fires(convex):
    keep = convex.mutation(api.reminders.create, {"text": "keep", "delayMs": HOUR})
    drop = convex.mutation(api.reminders.create, {"text": "drop", "delayMs": HOUR})
    convex.advance(minutes=10)
    convex.mutation(api.reminders.cancel, {"reminderId": drop})

    drop_job = convex.run(lambda ctx: ctx.db.system.get(ctx.db.get(drop)["jobId"]))
    assert drop_job["state"] == {"kind": "canceled"}
    assert drop_job["completedTime"] == T0 + 10 * MINUTE

    convex.advance(hours=2)
    assert [n["text"] for n in convex.query(api.reminders.notifications)] == ["keep"]
    assert convex.query(api.reminders.get, {"reminderId": drop})["status"] == "canceled"
    assert convex.query(api.reminders.get, {"reminderId": keep})["status"] == "sent"
    assert [e["function"] for e in convex.timeline()] == ["reminders:send"]
    with pytest.raises(ConvexError, match="Reminder already canceled"):
        convex.mutation(api.reminders.cancel, {"reminderId": drop})


# --- self-rescheduling recurring task ------------------------------------------------------------


@pytest.mark.convex_app("fixtures/recurring")
def test_recurring_task_runs_every_interval_until_stopped(convex):
    task_id = convex.mutation(api.tasks.start, {"name": "poll", "intervalMs": HOUR})
    convex.advance(hours=3)
    runs = convex.query(api.tasks.runs, {"taskId": task_id})
    assert [(r["n"], r["at"]) for r in runs] == [(1, T0 + HOUR), (2, T0 + 2 * HOUR), (3, T0 + 3 * HOUR)]
    [pending] = convex.scheduled_functions("pending")
    assert pending["scheduledTime"] == T0 + 4 * HOUR

    convex.advance(minutes=30)
    convex.mutation(api.tasks.stop, {"taskId": task_id})
    assert convex.scheduled_functions("pending") == []
    canceled = convex.scheduled_functions("canceled")
    assert [(j["scheduledTime"], j["completedTime"]) for j in canceled] == [(T0 + 4 * HOUR, T0 + 3.5 * HOUR)]

    convex.advance(days=1)
    assert len(convex.query(api.tasks.runs, {"taskId": task_id})) == 3


@pytest.mark.convex_app("fixtures/recurring")
def test_recurring_task_with_a_limit_drains(convex):
    task_id = convex.mutation(api.tasks.start, {"name": "poll", "intervalMs": 15 * MINUTE, "maxRuns": 4})
    assert convex.finish_all_scheduled_functions() == 4
    assert convex.now == T0 + HOUR
    assert [r["at"] for r in convex.query(api.tasks.runs, {"taskId": task_id})] == [
        T0 + 15 * MINUTE, T0 + 30 * MINUTE, T0 + 45 * MINUTE, T0 + HOUR]
    assert [j["state"]["kind"] for j in convex.scheduled_functions()] == ["success"] * 4


@pytest.mark.convex_app("fixtures/recurring")
def test_recurring_task_forever_is_a_runaway(convex):
    task_id = convex.mutation(api.tasks.start, {"name": "forever", "intervalMs": MINUTE})
    with pytest.raises(RunawaySchedulingError):
        convex.finish_all_scheduled_functions(max_iterations=20)
    # Nothing lost: the task is still going and its next tick is pending.
    runs = convex.query(api.tasks.runs, {"taskId": task_id})
    assert len(runs) >= 20
    [pending] = convex.scheduled_functions("pending")
    assert pending["scheduledTime"] == T0 + (len(runs) + 1) * MINUTE


# --- rate-limited batch processing with a cursor -----------------------------------------------


@pytest.mark.convex_app("fixtures/batch")
def test_batch_processing_with_cursor_and_rate_limit(convex):
    convex.mutation(api.items.seed, {"count": 10})
    progress_id = convex.mutation(api.batch.start, {"batchSize": 3, "delayMs": SECOND})

    convex.advance(1500)  # runs at T0 and T0 + 1s
    progress = convex.query(api.batch.get, {"progressId": progress_id})
    assert (progress["batches"], progress["processed"], progress["done"]) == (2, 6, False)
    assert sum(item["processed"] for item in convex.query(api.items.list_items)) == 6

    convex.finish_all_scheduled_functions()
    assert convex.now == T0 + 3 * SECOND
    progress = convex.query(api.batch.get, {"progressId": progress_id})
    assert (progress["batches"], progress["processed"], progress["done"], progress["finishedAt"]) == (
        4, 10, True, T0 + 3 * SECOND)
    items = convex.query(api.items.list_items)
    assert [(i["n"], i["batch"], i["processedAt"]) for i in items] == [
        (n, n // 3 + 1, T0 + (n // 3) * SECOND) for n in range(10)
    ]
    jobs = convex.scheduled_functions()
    assert [(j["name"], j["scheduledTime"], j["state"]["kind"]) for j in jobs] == [
        ("batch:process_batch", T0 + k * SECOND, "success") for k in range(4)
    ]
    cursors = [j["args"][0]["cursor"] for j in jobs]
    assert cursors[0] is None and all(isinstance(c, str) for c in cursors[1:])
    assert len(set(cursors[1:])) == 3


@pytest.mark.convex_app("fixtures/batch")
def test_batch_processing_exact_multiple_stops_on_last_full_page(convex):
    convex.mutation(api.items.seed, {"count": 9})
    progress_id = convex.mutation(api.batch.start, {"batchSize": 3, "delayMs": MINUTE})
    convex.finish_all_scheduled_functions()
    progress = convex.query(api.batch.get, {"progressId": progress_id})
    assert (progress["batches"], progress["processed"], progress["finishedAt"]) == (3, 9, T0 + 2 * MINUTE)
    assert convex.scheduled_functions("pending") == []


# --- timeout of a pending request --------------------------------------------------------------


@pytest.mark.convex_app("fixtures/request_timeout")
def test_request_answered_in_time_does_not_time_out(convex):
    request_id = convex.mutation(api.requests.create, {"question": "ok?", "timeoutMs": 5 * MINUTE})
    convex.advance(minutes=4)
    convex.mutation(api.requests.answer, {"requestId": request_id, "answer": "yes"})
    convex.advance(minutes=10)
    request = convex.query(api.requests.get, {"requestId": request_id})
    assert (request["status"], request["answer"], request["closedAt"]) == ("answered", "yes", T0 + 4 * MINUTE)
    [job] = convex.scheduled_functions()
    assert (job["name"], job["state"], job["completedTime"]) == (
        "requests:expire", {"kind": "canceled"}, T0 + 4 * MINUTE)
    assert convex.timeline() == []


@pytest.mark.convex_app("fixtures/request_timeout")
def test_unanswered_request_times_out_at_its_deadline(convex):
    request_id = convex.mutation(api.requests.create, {"question": "ok?", "timeoutMs": 5 * MINUTE})
    convex.advance(5 * MINUTE - 1)
    assert convex.query(api.requests.get, {"requestId": request_id})["status"] == "pending"
    convex.advance(1)
    request = convex.query(api.requests.get, {"requestId": request_id})
    assert (request["status"], request["closedAt"]) == ("timed_out", T0 + 5 * MINUTE)
    with pytest.raises(ConvexError, match="Request is timed_out"):
        convex.mutation(api.requests.answer, {"requestId": request_id, "answer": "late"})
    assert convex.query(api.requests.get, {"requestId": request_id})["status"] == "timed_out"


# --- retry with exponential backoff from an action -------------------------------------------------


@pytest.mark.convex_app("fixtures/retry")
def test_retry_with_exponential_backoff_succeeds(convex):
    job_id = convex.mutation(api.jobs.submit, {"payload": "x", "failTimes": 3})
    convex.advance(999)
    assert [a["at"] for a in convex.query(api.jobs.attempts, {"jobId": job_id})] == [T0]
    convex.advance(1)
    assert [a["at"] for a in convex.query(api.jobs.attempts, {"jobId": job_id})] == [T0, T0 + 1000]

    convex.finish_all_scheduled_functions()
    attempts = convex.query(api.jobs.attempts, {"jobId": job_id})
    assert [(a["n"], a["at"], a["ok"]) for a in attempts] == [
        (1, T0, False), (2, T0 + 1000, False), (3, T0 + 3000, False), (4, T0 + 7000, True)]
    assert attempts[0]["error"] == "503 Service Unavailable (attempt 1)"
    job = convex.query(api.jobs.get, {"jobId": job_id})
    assert (job["status"], job["result"], job["attempts"]) == ("succeeded", "processed:x", 4)
    assert convex.now == T0 + 7000
    scheduled = convex.scheduled_functions()
    assert [(j["name"], j["scheduledTime"], j["state"]["kind"], j["completedTime"]) for j in scheduled] == [
        ("jobs:attempt", t, "success", t) for t in (T0, T0 + 1000, T0 + 3000, T0 + 7000)
    ]


@pytest.mark.convex_app("fixtures/retry")
def test_retry_gives_up_after_max_attempts(convex):
    job_id = convex.mutation(api.jobs.submit, {"payload": "y", "failTimes": 100, "maxAttempts": 5})
    convex.advance(minutes=1)
    attempts = convex.query(api.jobs.attempts, {"jobId": job_id})
    assert [a["at"] for a in attempts] == [T0, T0 + 1000, T0 + 3000, T0 + 7000, T0 + 15000]
    assert not any(a["ok"] for a in attempts)
    assert convex.query(api.jobs.get, {"jobId": job_id})["status"] == "failed"
    assert convex.scheduled_functions("pending") == []


@pytest.mark.convex_app("fixtures/retry")
def test_retry_first_try_succeeds(convex):
    job_id = convex.mutation(api.jobs.submit, {"payload": "z", "failTimes": 0})
    convex.advance(0)
    assert convex.query(api.jobs.get, {"jobId": job_id})["status"] == "succeeded"
    assert len(convex.scheduled_functions()) == 1
