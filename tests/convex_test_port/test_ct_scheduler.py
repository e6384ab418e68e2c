"""Port of convex-test's convex/scheduler.test.ts: scheduling from mutations and actions, cancel,
failures, runaway self-scheduling, actions that sleep, and what a rollback leaves.

vitest's fake timers become the virtual clock: `vi.advanceTimersByTime(ms)` is `t.advance(ms)`,
`vi.runAllTimers()` + `finishInProgressScheduledFunctions()` is advancing past the last due time,
`finishAllScheduledFunctions(vi.runAllTimers)` is `t.finish_all_scheduled_functions()`. convex-test's
two real-timer tests rely on scheduled work running by itself while real time passes; the emulator
runs it only when time is moved, so they are ported with time moved explicitly (see each)."""

from __future__ import annotations

import pytest

from convex_py import api, internal
from convex_py.errors import RunawaySchedulingError
from emulator import ConvexEmulator

from _ct import APP, match_object

pytestmark = pytest.mark.convex_app(str(APP))


def _jobs(t):
    return t.query(internal.scheduler.jobs)


def _bodies(t):
    return [m["body"] for m in t.query(internal.scheduler.list)]


# scheduler.test.ts: describe("with fake timers") / test("mutation scheduling action")
def test_mutation_scheduling_action(convex):
    start = convex.now
    convex.mutation(api.scheduler.mutationSchedulingAction, {"delayMs": 10000, "body": "through scheduler"})
    match_object(_jobs(convex), [{"state": {"kind": "pending"}, "args": [{"body": "through scheduler"}],
                                  "name": "scheduler:actionCallingMutation", "scheduledTime": start + 10000}])
    convex.advance(5000)
    match_object(_jobs(convex), [{"state": {"kind": "pending"}}])
    convex.advance(5000)
    match_object(convex.query(internal.scheduler.list), [{"body": "through scheduler", "author": "AI"}])
    match_object(_jobs(convex), [{"state": {"kind": "success"}, "completedTime": start + 10000}])


# scheduler.test.ts: test("mutation scheduling action then mutation fails")
def test_mutation_scheduling_action_then_mutation_fails(convex):
    convex.mutation(api.scheduler.mutationSchedulingAction, {"delayMs": 10000, "body": "through scheduler"})
    convex.advance(10000)
    match_object(_jobs(convex), [{"state": {"kind": "success"}}])
    # An unrelated mutation that throws leaves the completed job as it is.
    with pytest.raises(Exception, match="^failed as intended$"):
        convex.mutation(api.scheduler.add, {"body": "FAIL THIS", "author": "AI"})
    match_object(_jobs(convex), [{"state": {"kind": "success"}}])


# scheduler.test.ts: test("cancel mutation")
def test_cancel_mutation(convex):
    id = convex.mutation(api.scheduler.mutationSchedulingAction, {"body": "through scheduler", "delayMs": 10000})
    convex.mutation(api.scheduler.cancel, {"id": id})
    match_object(_jobs(convex), [{"_id": id, "state": {"kind": "canceled"}}])
    convex.advance(10000)
    assert _bodies(convex) == []


# scheduler.test.ts: test("action scheduling action")
def test_action_scheduling_action(convex):
    convex.action(api.scheduler.actionSchedulingAction, {"delayMs": 0, "body": "through scheduler"})
    match_object(_jobs(convex), [{"state": {"kind": "pending"}, "args": [{"body": "through scheduler"}]}])
    convex.advance(0)
    match_object(convex.query(internal.scheduler.list), [{"body": "through scheduler", "author": "AI"}])
    match_object(_jobs(convex), [{"state": {"kind": "success"}}])


# scheduler.test.ts: test("action scheduling action many times")
def test_action_scheduling_action_many_times(convex):
    convex.action(api.scheduler.actionSchedulingActionNTimes, {"count": 10})
    convex.finish_all_scheduled_functions()
    assert _bodies(convex) == [f"count {n}" for n in range(10, -1, -1)]
    assert len(convex.scheduled_functions("success")) == 10


# scheduler.test.ts: test("cancel action")
def test_cancel_action(convex):
    id = convex.action(api.scheduler.actionSchedulingAction, {"body": "through scheduler", "delayMs": 10000})
    convex.action(api.scheduler.cancelAction, {"id": id})
    match_object(_jobs(convex), [{"state": {"kind": "canceled"}}])
    convex.advance(10000)
    assert _bodies(convex) == []


# scheduler.test.ts: test("failed scheduled function")
def test_failed_scheduled_function(convex):
    convex.mutation(api.scheduler.mutationSchedulingAction, {"delayMs": 0, "body": "FAIL THIS"})
    convex.advance(0)
    jobs = _jobs(convex)
    match_object(jobs, [{"state": {"kind": "failed"}, "args": [{"body": "FAIL THIS"}]}])
    assert "failed as intended" in jobs[0]["state"]["error"]


# scheduler.test.ts: test("self-scheduling mutation")
def test_self_scheduling_mutation(convex):
    convex.mutation(api.scheduler.selfSchedulingMutation, {})
    with pytest.raises(RunawaySchedulingError, match="too many iterations.*Check for infinitely recursive scheduled functions"):
        convex.finish_all_scheduled_functions()


# scheduler.test.ts: test("scheduled action that uses setTimeout internally")
def test_scheduled_action_that_sleeps(convex):
    start = convex.now
    convex.mutation(api.scheduler.mutationSchedulingActionWithTimeout, {"body": "delayed action"})
    convex.finish_all_scheduled_functions()
    messages = convex.query(internal.scheduler.list)
    match_object(messages, [{"body": "delayed action", "author": "AI"}])
    assert messages[0]["_creationTime"] == start + 100  # its asyncio.sleep(0.1) took 100 virtual ms


# scheduler.test.ts: test("new convexTest after orphaned scheduled functions")
def test_new_emulator_after_orphaned_scheduled_functions():
    t1 = ConvexEmulator(APP)
    t1.mutation(api.scheduler.mutationSchedulingAction, {"body": "orphaned", "delayMs": 0})
    t2 = ConvexEmulator(APP)
    t2.mutation(api.scheduler.add, {"body": "fresh", "author": "test"})
    match_object(t2.query(internal.scheduler.list), [{"body": "fresh", "author": "test"}])
    assert t2.scheduled_functions() == []
    assert len(t1.scheduled_functions("pending")) == 1


# scheduler.test.ts: test("advancing time fires only jobs whose scheduledTime has arrived")
def test_advancing_time_fires_only_due_jobs(convex):
    convex.mutation(api.scheduler.scheduleNowAndLater, {})
    convex.advance(0)
    assert _bodies(convex) == ["immediate"]
    states = [job["state"]["kind"] for job in _jobs(convex)]
    assert states == ["success", "pending"]
    convex.finish_all_scheduled_functions()
    assert _bodies(convex) == ["immediate", "delayed"]


# scheduler.test.ts: test("scheduled functions don't fire until time advances")
def test_scheduled_functions_dont_fire_until_time_advances(convex):
    convex.mutation(api.scheduler.mutationSchedulingAction, {"body": "scheduled", "delayMs": 0})
    match_object(_jobs(convex), [{"state": {"kind": "pending"}}])
    convex.advance(0)
    match_object(_jobs(convex), [{"state": {"kind": "success"}}])


# scheduler.test.ts: test("scheduled mutations serialize after the parent commits")
def test_scheduled_mutations_serialize_after_the_parent_commits(convex):
    async def body(ctx):
        await ctx.scheduler.run_after(0, api.scheduler.add, {"body": "A-scheduled", "author": "AI"})
        await ctx.db.insert("messages", {"body": "B-parent-after", "author": "ME"})

    convex.mutation(body)
    convex.advance(0)
    assert _bodies(convex) == ["B-parent-after", "A-scheduled"]


# scheduler.test.ts: test("rollback cancels scheduled function")
def test_rollback_cancels_scheduled_function(convex):
    async def body(ctx):
        await ctx.scheduler.run_after(0, api.scheduler.add, {"body": "should-not-run", "author": "AI"})
        raise Exception("rollback")

    with pytest.raises(Exception, match="rollback"):
        convex.mutation(body)
    convex.advance(0)
    assert _bodies(convex) == []
    assert _jobs(convex) == []


# scheduler.test.ts: test("scheduling from a nested mutation still runs as top-level")
def test_scheduling_from_a_nested_mutation_still_runs_as_top_level(convex):
    convex.mutation(api.scheduler.parentRunsMutationThatSchedules, {"body": "from-nested"})
    convex.advance(0)
    assert _bodies(convex) == ["from-nested"]


# scheduler.test.ts: test("argument serialization")
def test_argument_serialization(convex):
    convex.mutation(api.scheduler.mutationSchedulingAction, {"delayMs": 10000, "body": "through scheduler", "bigint": 1})
    jobs = _jobs(convex)
    match_object(jobs, [{"state": {"kind": "pending"}, "args": [{"body": "through scheduler", "bigint": 1}]}])
    assert type(jobs[0]["args"][0]["bigint"]) is int  # an int64 stays an int64
    convex.advance(5000)
    match_object(_jobs(convex), [{"state": {"kind": "pending"}}])
    convex.advance(5000)
    match_object(convex.query(internal.scheduler.list), [{"body": "through scheduler", "author": "AI"}])
    match_object(_jobs(convex), [{"state": {"kind": "success"}}])


# scheduler.test.ts: describe("with real timers") / test("action can schedule a mutation and poll for its
# effect without finish*"). Here the polling action is itself scheduled: its sleeps take virtual time,
# during which the mutation it scheduled runs, as on Convex. (Called directly with t.action, the clock
# would not move while it polls, so it would never see the mutation.)
def test_action_can_schedule_a_mutation_and_poll_for_its_effect(convex):
    start = convex.now
    convex.run(lambda ctx: ctx.scheduler.run_after(0, api.scheduler.actionSchedulesMutationAndPolls, {"body": "polled"}))
    convex.finish_all_scheduled_functions()
    assert _bodies(convex) == ["polled"]
    assert [job["state"]["kind"] for job in _jobs(convex)] == ["success", "success"]
    assert convex.now == start + 10  # one 10 ms poll


# scheduler.test.ts: describe("with real timers") / test("finishInProgressScheduledFunctions awaits work after
# the setTimeout fires"): the 10 ms of real time become t.advance(10).
def test_work_runs_once_time_passes(convex):
    convex.mutation(api.scheduler.mutationSchedulingAction, {"body": "real-timer", "delayMs": 0})
    convex.advance(10)
    convex.finish_in_progress_scheduled_functions()
    match_object(convex.query(internal.scheduler.list), [{"body": "real-timer", "author": "AI"}])


# The same test ported word for word (no time moved): work due at this instant is what a real
# timer would already have started, so finish_in_progress_scheduled_functions starts and settles it,
# without moving the clock.
def test_finish_in_progress_settles_work_due_now(convex):
    start = convex.now
    convex.mutation(api.scheduler.mutationSchedulingAction, {"body": "real-timer", "delayMs": 0})
    match_object(_jobs(convex), [{"state": {"kind": "pending"}}])
    convex.finish_in_progress_scheduled_functions()
    match_object(convex.query(internal.scheduler.list), [{"body": "real-timer", "author": "AI"}])
    match_object(_jobs(convex), [{"state": {"kind": "success"}}])
    assert convex.now == start


def test_finish_in_progress_leaves_later_work_pending(convex):
    convex.mutation(api.scheduler.mutationSchedulingAction, {"body": "later", "delayMs": 1000})
    convex.finish_in_progress_scheduled_functions()
    assert _bodies(convex) == []
    match_object(_jobs(convex), [{"state": {"kind": "pending"}}])
