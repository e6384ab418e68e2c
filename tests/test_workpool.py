"""The shipped work pool component through fixtures/workpool: a flaky weather API called with at
most 2 requests at a time, retried with exact backoff (1 s, 2 s, 4 s), results stored by the
onComplete callback. Times are virtual, relative to T0."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from convex_py import ConvexError, api, components, internal, internal_mutation, mutation
from convex_py.components.workpool import (
    DEFAULT_RETRY_BEHAVIOR,
    NonRetryableError,
    Workpool,
    is_non_retryable_error,
    on_complete_args,
    workpool,
)
from emulator import ConvexEmulator
from emulator.wall_clock import wall_clock_follows

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
APP = Path(__file__).resolve().parent.parent / "fixtures" / "workpool"


def emulator(outage_ms: float) -> Iterator[ConvexEmulator]:
    t = ConvexEmulator(APP, start_time=T0, env={"OUTAGE_UNTIL": str(T0 + outage_ms)})
    with wall_clock_follows(t):
        yield t


def calls(t: ConvexEmulator) -> list[tuple[str, float, float, bool]]:
    return [(city, start - T0, end - T0, ok) for city, start, end, ok in t.query(api.forecasts.calls)]


def test_retries_at_the_exact_backoff_times_with_two_at_a_time() -> None:
    for t in emulator(outage_ms=1300):
        ids = t.mutation(api.forecasts.request, {"cities": ["paris", "oslo", "rome"]})
        # Nothing has started before the pool's scheduled work runs (Convex's example test: "pending")
        assert [t.query(api.forecasts.status, {"id": i}) for i in ids] == [
            {"state": "pending", "previousAttempts": 0}] * 3
        t.advance(0)
        assert [t.query(api.forecasts.status, {"id": i}) for i in ids] == [
            {"state": "running", "previousAttempts": 0}, {"state": "running", "previousAttempts": 0},
            {"state": "pending", "previousAttempts": 0},
        ]
        t.advance(1300)
        assert t.query(api.forecasts.status, {"id": ids[0]}) == {"state": "running", "previousAttempts": 1}
        t.advance(10_000)
        assert calls(t) == [
            ("paris", 0, 200, False), ("oslo", 0, 200, False),  # two at a time
            ("rome", 200, 400, False),                          # starts when a slot frees
            ("paris", 1200, 1400, True), ("oslo", 1200, 1400, True),  # failed at 200, + 1000 ms
            ("rome", 1400, 1600, True),
        ]
        assert t.query(api.forecasts.forecasts) == [
            {"city": "paris", "kind": "success", "tempC": 15}, {"city": "oslo", "kind": "success", "tempC": 14},
            {"city": "rome", "kind": "success", "tempC": 14},
        ]
        assert [t.query(api.forecasts.status, {"id": i}) for i in ids] == [{"state": "finished"}] * 3


def test_backoff_doubles_and_the_callback_gets_the_failure_after_max_attempts() -> None:
    for t in emulator(outage_ms=60_000):
        [work_id] = t.mutation(api.forecasts.request, {"cities": ["lima"]})
        t.advance(20_000)
        # attempts at 0, then 1000, 2000, 4000 ms after each failure (maxAttempts 4)
        assert calls(t) == [("lima", 0, 200, False), ("lima", 1200, 1400, False), ("lima", 3400, 3600, False),
                            ("lima", 7600, 7800, False)]
        assert t.query(api.forecasts.forecasts) == [
            {"city": "lima", "kind": "failed", "error": "503 Service Unavailable (lima)"},
        ]
        assert t.query(api.forecasts.status, {"id": work_id}) == {"state": "finished"}


def test_canceling_pending_work_calls_back_canceled_and_it_never_runs() -> None:
    for t in emulator(outage_ms=0):
        ids = t.mutation(api.forecasts.request, {"cities": ["paris", "oslo", "rome"]})
        t.mutation(api.forecasts.cancel, {"id": ids[2]})
        t.advance(1000)
        assert [c[0] for c in calls(t)] == ["paris", "oslo"]
        assert t.query(api.forecasts.forecasts) == [
            {"city": "rome", "kind": "canceled"}, {"city": "paris", "kind": "success", "tempC": 15},
            {"city": "oslo", "kind": "success", "tempC": 14},
        ]


def test_a_batch_shares_its_options_and_a_non_retryable_error_ends_the_work_at_once() -> None:
    for t in emulator(outage_ms=1300):
        ids = t.mutation(api.forecasts.request_batch, {"cities": ["paris", "atlantis", "oslo"]})
        assert t.query(api.forecasts.statuses, {"ids": ids}) == [{"state": "pending", "previousAttempts": 0}] * 3
        t.advance(0)
        assert t.query(api.forecasts.statuses, {"ids": ids}) == [
            {"state": "running", "previousAttempts": 0}, {"state": "running", "previousAttempts": 0},
            {"state": "pending", "previousAttempts": 0},
        ]
        t.advance(10_000)
        assert calls(t) == [
            ("paris", 0, 200, False), ("atlantis", 0, 200, False),  # the outage (503): both retried
            ("oslo", 200, 400, False),
            ("paris", 1200, 1400, True),
            ("atlantis", 1200, 1400, False),  # 404: NonRetryableError, so no attempt 3 (maxAttempts is 4)
            ("oslo", 1400, 1600, True),
        ]
        assert t.query(api.forecasts.forecasts) == [
            {"city": "paris", "kind": "success", "tempC": 15},
            {"city": "morning batch", "kind": "failed", "error": "404 Unknown city (atlantis)"},
            {"city": "oslo", "kind": "success", "tempC": 14},
        ]
        assert t.query(api.forecasts.statuses, {"ids": ids}) == [{"state": "finished"}] * 3


def test_non_retryable_errors_are_recognized_by_their_marker() -> None:
    error = NonRetryableError("no such city")
    assert (str(error), error.data) == ("no such city", {"__convexWorkpoolNonRetryable": True, "message": "no such city"})
    assert is_non_retryable_error(error)
    assert is_non_retryable_error(ConvexError({"__convexWorkpoolNonRetryable": True, "message": "m"}))
    assert not is_non_retryable_error(ConvexError({"message": "m"}))
    assert not is_non_retryable_error(ValueError("no such city"))


# --- the client on its own ----------------------------------------------------------------------------

pool = Workpool(components.pool, {"maxParallelism": 1})


@internal_mutation
def work(ctx, args):
    ctx.db.insert("log", {"n": args["n"]})
    if args["n"] == 2:
        raise ValueError("two is not allowed")
    return args["n"] * 10


@internal_mutation(args=on_complete_args())
def finished(ctx, args):
    ctx.db.insert("results", {"workId": args["workId"], "context": args["context"], "result": args["result"]})


@mutation
def enqueue(ctx, args):
    return [pool.enqueue_mutation(ctx, internal.m.work, {"n": n}, on_complete=internal.m.finished, context=n)
            for n in (1, 2, 3)]


@mutation
def enqueue_batch(ctx, args):
    return pool.enqueue_mutation_batch(ctx, internal.m.work, [{"n": n} for n in (3, 2, 1)],
                                       {"onComplete": internal.m.finished, "context": "batch"})


@mutation
def enqueue_refusal(ctx, args):
    return pool.enqueue_mutation(ctx, internal.m.refuse, {}, on_complete=internal.m.finished, context="refusal")


@internal_mutation
def refuse(ctx, args):
    ctx.db.insert("log", {"n": 0})
    raise NonRetryableError("refused for good")


@pytest.fixture
def t() -> Iterator[ConvexEmulator]:
    emulator = ConvexEmulator(modules={"m": {"work": work, "finished": finished, "enqueue": enqueue,
                                             "enqueue_batch": enqueue_batch, "enqueue_refusal": enqueue_refusal,
                                             "refuse": refuse}},
                              start_time=T0)
    emulator.register_component("pool", workpool)
    with wall_clock_follows(emulator):
        yield emulator


def test_enqueued_mutations_run_once_each_and_report_their_results(t: ConvexEmulator) -> None:
    ids = t.mutation(internal.m.enqueue)
    t.finish_all_scheduled_functions()
    assert t.query(lambda ctx: [d["n"] for d in ctx.db.query("log").collect()]) == [1, 3]  # 2 rolled back
    results = t.query(lambda ctx: [(d["workId"], d["context"], d["result"]) for d in ctx.db.query("results").collect()])
    assert results == [
        (ids[0], 1, {"kind": "success", "returnValue": 10}),
        (ids[1], 2, {"kind": "failed", "error": "two is not allowed"}),  # mutations are not retried
        (ids[2], 3, {"kind": "success", "returnValue": 30}),
    ]


def test_a_mutation_batch_runs_one_at_a_time_in_the_order_given(t: ConvexEmulator) -> None:
    ids = t.mutation(internal.m.enqueue_batch)
    assert len(ids) == len(set(ids)) == 3
    t.finish_all_scheduled_functions()
    assert t.query(lambda ctx: [d["n"] for d in ctx.db.query("log").collect()]) == [3, 1]  # 2 rolled back
    results = t.query(lambda ctx: [(d["workId"], d["context"], d["result"]) for d in ctx.db.query("results").collect()])
    assert results == [
        (ids[0], "batch", {"kind": "success", "returnValue": 30}),
        (ids[1], "batch", {"kind": "failed", "error": "two is not allowed"}),
        (ids[2], "batch", {"kind": "success", "returnValue": 10}),
    ]


def test_a_non_retryable_error_from_a_mutation_reports_its_own_message(t: ConvexEmulator) -> None:
    work_id = t.mutation(internal.m.enqueue_refusal)
    t.finish_all_scheduled_functions()
    assert t.query(lambda ctx: ctx.db.query("log").collect()) == []  # its write rolled back
    results = t.query(lambda ctx: [(d["workId"], d["context"], d["result"]) for d in ctx.db.query("results").collect()])
    assert results == [(work_id, "refusal", {"kind": "failed", "error": "refused for good"})]


def test_options_and_defaults() -> None:
    assert DEFAULT_RETRY_BEHAVIOR == {"maxAttempts": 5, "initialBackoffMs": 250, "base": 2}
    assert Workpool(components.pool, max_parallelism=3).max_parallelism == 3
    with pytest.raises(TypeError, match="unknown option 'maxParalelism'"):
        Workpool(components.pool, {"maxParalelism": 3})
    with pytest.raises(ValueError, match="maxParallelism must be a whole number"):
        Workpool(components.pool, max_parallelism=-1)
