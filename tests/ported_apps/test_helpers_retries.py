"""convex-helpers' action retrier (server/retries.ts) and its example (convex/retriesExample.ts), ported:
a mutation schedules `retry`, which schedules the action and checks on it with exponential backoff,
retrying failures. `random.random` is pinned, as a vitest test would `vi.spyOn(Math, "random")`,
so the jitter and the action's failures are exact. Times are virtual ms from 0."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from convex_py import api, internal

APP = Path(__file__).parent / "helpers_retries"

pytestmark = [pytest.mark.convex_app(str(APP)), pytest.mark.convex_time(0)]


def runs(convex) -> list[tuple[str, float, str]]:
    return [(e["function"].partition(":")[2], e["time"], e["outcome"]) for e in convex.timeline()]


def pin_random(monkeypatch, values: list[float]) -> None:
    draws = iter(values)
    monkeypatch.setattr(random, "random", lambda: next(draws))


def test_an_action_that_always_fails_is_retried_sixteen_times_then_given_up(convex, monkeypatch, capsys):
    monkeypatch.setattr(random, "random", lambda: 0.5)  # no jitter; 0.5 < failureRate 0.8: every run fails
    convex.mutation(api.retries_example.run_unreliable_action_with_retries)
    convex.finish_all_scheduled_functions()
    actions = [time for name, time, outcome in runs(convex) if name == "unreliable_action"]
    retries = [time for name, time, outcome in runs(convex) if name == "retry"]
    assert actions[:6] == [0, 1100, 3300, 7500, 15700, 31900]  # each retry's time + 1000 * 2 ** n
    assert retries[:6] == [0, 100, 1300, 3500, 7700, 15900]    # + retryBackoff + waitBackoff (200)
    assert (len(actions), len(retries)) == (17, 18)  # one check while pending, one per failure
    assert retries[-1] == actions[-1] + 200 == 65_538_300
    assert {outcome for name, time, outcome in runs(convex)} == {"success", "failed"}
    assert all(outcome == "failed" for name, time, outcome in runs(convex) if name == "unreliable_action")
    jobs = [j for j in convex.scheduled_functions() if j["name"] == "retries_example:unreliable_action"]
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        f"Job retries_example:unreliable_action({jobs[0]['_id']}) not yet complete, checking again in 100.0 ms.",
        "Running an action with failure rate 0.8",
        f"Job retries_example:unreliable_action({jobs[0]['_id']}) failed, retrying in 1000.0 ms as {jobs[1]['_id']}.",
    ]
    assert out[-1] == f"Job retries_example:unreliable_action({jobs[16]['_id']}) failed too many times, not retrying."


def test_jittered_waits_until_the_action_succeeds(convex, monkeypatch, capsys):
    # draws in call order: retry's jitter, the action's coin, then two jitters per failed check
    pin_random(monkeypatch, [0.25, 0.1, 0.0, 0.75, 0.3, 0.5, 0.5, 0.95])
    convex.mutation(api.retries_example.run_unreliable_action_with_retries)
    convex.finish_all_scheduled_functions()
    assert runs(convex) == [
        ("retry", 0, "success"), ("unreliable_action", 0, "failed"),
        ("retry", 75, "success"),              # 100 * (0.5 + 0.25)
        ("unreliable_action", 575, "failed"),  # 75 + 1000 * 0.5
        ("retry", 1575, "success"),            # 75 + (1000 + 200) * 1.25
        ("unreliable_action", 3575, "success"),  # 1575 + 2000
        ("retry", 3775, "success"),            # 1575 + 2000 + 200
    ]
    last = [j for j in convex.scheduled_functions() if j["name"] == "retries_example:unreliable_action"][-1]
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "action succeded.", f"Job retries_example:unreliable_action({last['_id']}) succeeded."]


def test_retrying_from_an_action_with_its_own_options(convex, capsys):
    convex.action(internal.retries_example.run_from_an_action)
    convex.finish_all_scheduled_functions()
    [retry_job, first_check] = [j for j in convex.scheduled_functions() if j["name"] == "retries_example:retry"]
    assert retry_job["args"] == [{
        "action": "retries_example:send_welcome_email",
        "actionArgs": {"email": {"to": "user@example.com", "subject": "Hello", "body": "World"}},
        "waitBackoff": 100.0, "retryBackoff": 10_000.0, "base": 10.0, "maxFailures": 5.0,
    }]
    assert first_check["args"][0]["waitBackoff"] == 1000.0  # 100 * base 10
    assert 50 <= first_check["scheduledTime"] <= 150        # jittered 100 ms
    [email] = [j for j in convex.scheduled_functions() if j["name"] == "retries_example:send_welcome_email"]
    assert email["state"] == {"kind": "success"}
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Job retries_example:send_welcome_email({email['_id']}) succeeded.")


def test_a_mutation_that_fails_after_asking_for_retries_schedules_nothing(convex, monkeypatch):
    monkeypatch.syspath_prepend(str(APP))
    from convex.retries_example import run_with_retries  # the helper the app exports

    async def then_fail(ctx):
        await run_with_retries(ctx, internal.retries_example.unreliable_action, {"failureRate": 0.0})
        raise RuntimeError("permission denied")

    with pytest.raises(RuntimeError, match="permission denied"):
        convex.run(then_fail)
    assert convex.scheduled_functions() == []


def test_a_job_gone_after_seven_days_is_an_error_naming_it(convex):
    email = {"to": "a@example.com", "subject": "Hi", "body": "Welcome"}
    job = convex.run(lambda ctx: ctx.scheduler.run_after(0, internal.retries_example.send_welcome_email,
                                                         {"email": email}))
    convex.advance(0)
    retry_args = {"job": job, "action": "retries_example:send_welcome_email", "actionArgs": {"email": email},
                  "waitBackoff": 100, "retryBackoff": 100, "base": 2, "maxFailures": 1}
    convex.mutation(internal.retries_example.retry, retry_args)  # succeeded: nothing more to do
    convex.advance(days=7)  # a finished job is kept for 7 days
    with pytest.raises(Exception, match=rf"Job retries_example:send_welcome_email\({job}\) not found"):
        convex.mutation(internal.retries_example.retry, retry_args)
    assert convex.scheduled_functions() == []
