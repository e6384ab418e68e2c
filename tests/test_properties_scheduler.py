"""Property tests: the scheduler on the virtual clock against a plain model of Convex's rules.

A state machine schedules mutations, actions and (unschedulable) queries from
mutations that commit or fail and from actions, with `run_after` and `run_at` (past
times too), cancels jobs, advances the clock and drains the queue; after each step the
`_scheduled_functions` rows, the executions and the writes of the jobs must be the
model's: jobs run in (scheduled time, scheduling order), each at its own time; a failed
mutation's writes and schedules roll back; completed jobs vanish exactly 7 days after
completion. A second property checks that advance(a) then advance(b) is advance(a + b).
"""

from __future__ import annotations

import heapq
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from convex_py import internal_action, internal_mutation, internal_query
from convex_py.errors import SchedulerError
from emulator import ConvexEmulator

T0 = 1893456000000.0
DAY = 24 * 3600 * 1000
RETENTION = 7 * DAY
PATHS = {"mutation": "sched:job", "action": "sched:act", "query": "sched:peek"}


class Boom(Exception):
    """The failure a test function raises on purpose."""


def schedule_children(ctx: Any, children: list[dict[str, Any]]) -> None:
    for child in children:
        ctx.scheduler.run_after(child["delay"], PATHS[child["kind"]], child["spec"])


@internal_mutation
def job(ctx, args):
    ctx.db.insert("log", {"tag": args["tag"]})
    schedule_children(ctx, args["children"])
    if args["fail"]:
        raise Boom(f"job {args['tag']} fails")


@internal_action
def act(ctx, args):
    schedule_children(ctx, args["children"])
    if args["fail"]:
        raise Boom(f"action {args['tag']} fails")


@internal_query
def peek(ctx, args):
    return None


@internal_mutation
def schedule_some(ctx, args):
    """Schedule the planned jobs ([how, when, kind, args] each), then fail if asked."""
    for how, when, kind, job_args in args["planned"]:
        if how == "after":
            ctx.scheduler.run_after(when, PATHS[kind], job_args)
        else:
            ctx.scheduler.run_at(when, PATHS[kind], job_args)
    if args["fail"]:
        raise Boom("the nested mutation fails")


MODULES = {"sched": {"job": job, "act": act, "peek": peek, "schedule_some": schedule_some}}

# Every delay is under 7 days / 3, so a chain of three generations run by one step ends before
# any job created in that step is cleaned away: every job is seen as a row at least once.
DELAYS = st.sampled_from([0, 0, 1, 500, 1000, 1000, 60_000, DAY, 2 * DAY])
KINDS = st.sampled_from(["mutation", "mutation", "action", "action", "query"])


@st.composite
def job_specs(draw: Any, depth: int = 1) -> dict[str, Any]:
    """A job: kind, whether it fails, and (for mutations and actions) children it schedules when it runs."""
    kind = draw(KINDS)
    children = []
    if depth > 0 and kind != "query":
        children = draw(st.lists(st.builds(lambda d, s: {"delay": d, **s}, DELAYS, job_specs(depth - 1)), max_size=2))
    return {"kind": kind, "fail": draw(st.sampled_from([False, False, True])), "children": children}


# (how: "after" delay or "at" offset from now, which may be in the past; the job)
requests = st.lists(
    st.tuples(st.sampled_from(["after", "after", "at"]), st.one_of(DELAYS, st.sampled_from([-1, -DAY])), job_specs()),
    min_size=1, max_size=3,
)


class Model:
    """Convex's scheduler, plainly: a queue of (due time, scheduling order), a clock, and jobs by tag."""

    def __init__(self) -> None:
        self.now = T0
        self.order = 0
        self.queue: list[tuple[float, int, int]] = []
        self.jobs: dict[int, dict[str, Any]] = {}  # tag -> {state, completedTime, scheduledTime, kind, args}
        self.executions: list[tuple[int, float, str]] = []
        self.log: list[int] = []
        self.tags = 0

    def tag(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The job's arguments: its spec with a fresh tag, children tagged too."""
        self.tags += 1
        return {"tag": self.tags, "fail": spec["fail"], "children": [
            {"delay": c["delay"], "kind": c["kind"], "spec": self.tag(c)} for c in spec["children"]]}

    def add(self, kind: str, args: dict[str, Any], when: float) -> None:
        self.order += 1
        heapq.heappush(self.queue, (when, self.order, args["tag"]))
        self.jobs[args["tag"]] = {"state": "pending", "completedTime": None, "scheduledTime": when, "kind": kind,
                                  "args": args}

    def pending(self) -> int:
        return sum(1 for j in self.jobs.values() if j["state"] == "pending")

    def run(self, target: float, drain: bool = False) -> None:
        """Run what is due by `target` in (due time, scheduling order), each at its own time."""
        while self.queue:
            if drain and self.pending() == 0:
                break
            when, _order, tag = self.queue[0]
            if when > target:
                break
            heapq.heappop(self.queue)
            record = self.jobs[tag]
            if record["state"] != "pending":
                continue  # canceled
            self.now = max(self.now, when)
            args, kind = record["args"], record["kind"]
            fails = kind == "query" or args["fail"]
            record["state"] = "failed" if fails else "success"
            record["completedTime"] = self.now
            self.executions.append((tag, self.now, record["state"]))
            if kind == "mutation" and not fails:
                self.log.append(tag)
            if kind == "action" or (kind == "mutation" and not fails):  # a failed mutation schedules nothing
                for child in args["children"]:
                    self.add(child["kind"], child["spec"], self.now + child["delay"])
        if not drain:
            self.now = target

    def present(self) -> dict[int, dict[str, Any]]:
        """The job rows that still exist: completed ones stay 7 days after completion."""
        return {tag: record for tag, record in self.jobs.items()
                if record["completedTime"] is None or record["completedTime"] + RETENTION > self.now}


class SchedulerMachine(RuleBasedStateMachine):

    @initialize()
    def start(self) -> None:
        self.t = ConvexEmulator(modules=MODULES, start_time=T0)
        self.model = Model()
        self.ids: dict[int, str] = {}  # tag -> job id, learned from the rows

    def teardown(self) -> None:
        if hasattr(self, "t"):
            self.t.close()

    @rule(reqs=requests, source=st.sampled_from(["mutation", "mutation", "action"]),
          fail=st.sampled_from([False, False, True]))
    def schedule(self, reqs: list[Any], source: str, fail: bool) -> None:
        """Schedule from a mutation (a failing one schedules nothing) or an action (kept even if it fails)."""
        now = self.model.now
        planned = [(how, offset, spec["kind"], self.model.tag(spec)) for how, offset, spec in reqs]
        planned = [p for p in planned if p[0] == "at" or p[1] >= 0]

        def body(ctx: Any) -> None:
            for how, offset, kind, args in planned:
                if how == "after":
                    ctx.scheduler.run_after(offset, PATHS[kind], args)
                else:
                    ctx.scheduler.run_at(now + offset, PATHS[kind], args)
            if fail:
                raise Boom("the scheduling function fails")

        try:
            self.t.run(body) if source == "mutation" else self.t.action(body)
        except Boom:
            assert fail
            if source == "mutation":
                return
        for how, offset, kind, args in planned:
            self.model.add(kind, args, now + offset)

    @rule(outer=requests, inner=requests, after=requests, inner_fails=st.booleans())
    def schedule_nested(self, outer: list[Any], inner: list[Any], after: list[Any], inner_fails: bool) -> None:
        """A caught failing nested `run_mutation` takes what it scheduled with it; the rest commits, in order."""
        now = self.model.now

        def plan(reqs: list[Any]) -> list[list[Any]]:
            planned = [[how, offset if how == "after" else now + offset, spec["kind"], self.model.tag(spec)]
                       for how, offset, spec in reqs]
            return [p for p in planned if p[0] == "at" or p[1] >= 0]

        parts = plan(outer), plan(inner), plan(after)

        def body(ctx: Any) -> None:
            ctx.run_mutation("sched:schedule_some", {"planned": parts[0], "fail": False})
            try:
                ctx.run_mutation("sched:schedule_some", {"planned": parts[1], "fail": inner_fails})
            except Boom:
                assert inner_fails
            ctx.run_mutation("sched:schedule_some", {"planned": parts[2], "fail": False})

        self.t.run(body)
        for part in (parts[0], parts[2]) if inner_fails else parts:
            for how, when, kind, args in part:
                self.model.add(kind, args, now + when if how == "after" else when)

    @rule(pick=st.integers(0, 10**6), fail=st.sampled_from([False, False, True]))
    def cancel(self, pick: int, fail: bool) -> None:
        """Cancel a job: a pending one becomes canceled at once (unless the mutation fails); a completed
        action cannot be canceled; anything else is left as it is."""
        if not self.model.jobs:
            return
        tag = list(self.model.jobs)[pick % len(self.model.jobs)]
        job_id, record = self.ids[tag], self.model.jobs[tag]
        exists = tag in self.model.present()

        def body(ctx: Any) -> None:
            ctx.scheduler.cancel(job_id)
            if fail:
                raise Boom("the canceling mutation fails")

        refused = exists and record["kind"] == "action" and record["state"] in ("success", "failed")
        try:
            self.t.run(body)
        except SchedulerError:
            assert refused
            return
        except Boom:
            assert fail and not refused
            return
        assert not refused and not fail
        if exists and record["state"] == "pending":
            record["state"] = "canceled"
            record["completedTime"] = self.model.now

    @rule(ms=st.sampled_from([0, 1, 499, 500, 1000, 60_000, 3_600_000, DAY, RETENTION - 1]))
    def advance(self, ms: int) -> None:
        target = self.model.now + ms
        self.t.advance(ms)
        self.model.run(target)

    @rule()
    def finish_all(self) -> None:
        self.t.finish_all_scheduled_functions()
        self.model.run(float("inf"), drain=True)
        assert self.t.scheduled_functions("pending") == []

    @invariant()
    def rows_runs_and_writes_match_the_model(self) -> None:
        if not hasattr(self, "t"):
            return
        model = self.model
        assert self.t.now == model.now
        rows = {row["args"][0]["tag"]: row for row in self.t.scheduled_functions()}
        for tag, row in rows.items():
            self.ids.setdefault(tag, row["_id"])
        expected = model.present()
        assert set(rows) == set(expected)
        for tag, row in rows.items():
            record = expected[tag]
            assert row["state"]["kind"] == record["state"], tag
            assert row.get("completedTime") == record["completedTime"], tag
            assert row["scheduledTime"] == record["scheduledTime"], tag
            assert row["name"] == PATHS[record["kind"]]
        tags = {job_id: tag for tag, job_id in self.ids.items()}
        timeline = [(tags[e["job_id"]], e["time"], e["outcome"]) for e in self.t.timeline()]
        assert timeline == model.executions
        log = self.t.query(lambda ctx: [row["tag"] for row in ctx.db.query("log").collect()])
        assert log == model.log


SchedulerMachine.TestCase.settings = settings(
    max_examples=30, stateful_step_count=20, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
TestScheduler = SchedulerMachine.TestCase


# --- advance(a) + advance(b) == advance(a + b) ----------------------------------------------------------------


def outcomes(t: ConvexEmulator) -> tuple[Any, ...]:
    rows = [(r["_id"], r["name"], r["state"], r["scheduledTime"], r.get("completedTime"), r["args"])
            for r in t.scheduled_functions()]
    runs = [(e["job_id"], e["time"], e["completedTime"], e["outcome"], e["error"]) for e in t.timeline()]
    log = t.query(lambda ctx: [(row["tag"], row["_creationTime"]) for row in ctx.db.query("log").collect()])
    return t.now, rows, runs, log


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(reqs=requests, first=st.sampled_from([0, 1, 500, 1000, 60_000, DAY, RETENTION]),
       second=st.sampled_from([0, 1, 500, 1000, 60_000, DAY, RETENTION, RETENTION + 1000]))
def test_advance_in_two_steps_is_advance_in_one(reqs: list[Any], first: int, second: int) -> None:
    def scheduled() -> ConvexEmulator:
        model = Model()
        t = ConvexEmulator(modules=MODULES, start_time=T0)
        planned = [(how, offset, spec["kind"], model.tag(spec)) for how, offset, spec in reqs]
        t.run(lambda ctx: [ctx.scheduler.run_after(max(offset, 0), PATHS[kind], args) if how == "after"
                           else ctx.scheduler.run_at(T0 + offset, PATHS[kind], args)
                           for how, offset, kind, args in planned])
        return t

    one, two = scheduled(), scheduled()
    first, second = first * 3, second * 3  # up to three weeks: past the 7 days of retention
    one.advance(first + second)
    two.advance(first)
    two.advance(second)
    assert outcomes(one) == outcomes(two)
    one.finish_all_scheduled_functions()
    two.finish_all_scheduled_functions()
    assert outcomes(one) == outcomes(two)
    assert one.scheduled_functions("pending") == []
