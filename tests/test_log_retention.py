"""What the execution log keeps: a job's entry goes with its row (7 days after it ends), each cron
keeps its newest runs, and the CLI's simulate still prints every execution of a long window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from convex_py import internal, internal_action, internal_mutation, mutation
from emulator import ConvexEmulator

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
DAY = 24 * 3600 * 1000
WEEK = 7 * DAY
ROOT = Path(__file__).resolve().parent.parent


@internal_mutation
def work(ctx, args):
    ctx.db.insert("log", {"n": args.get("n", 0)})


@internal_action
def act(ctx, args):
    return None


@mutation
def schedule(ctx, args):
    for i, delay in enumerate(args["delays"]):
        ctx.scheduler.run_after(delay, internal.m.work if i % 2 == 0 else internal.m.act, {"n": i})


def make() -> ConvexEmulator:
    return ConvexEmulator(modules={"m": {"work": work, "act": act, "schedule": schedule}}, start_time=T0)


def test_a_tests_whole_history_stays_however_far_the_clock_moves() -> None:
    t = make()
    t.mutation("m:schedule", {"delays": [0, 1000]})
    t.advance(days=30)
    assert t.scheduled_functions() == []  # the rows went after 7 days
    assert [(e["function"], e["time"], e["outcome"]) for e in t.timeline()] == [
        ("m:work", T0, "success"),
        ("m:act", T0 + 1000, "success"),
    ]
    t.close()


def test_past_the_newest_entries_those_older_than_7_days_go_as_new_ones_come() -> None:
    t = make()
    t._scheduler.executions.keep = 3
    t.mutation("m:schedule", {"delays": [0, 1000, 2000, 3000, 4000]})
    t.advance(4000)
    assert len(t.timeline()) == 5  # all ended less than 7 days ago
    t.advance_to(T0 + 1000 + WEEK)
    t.mutation("m:schedule", {"delays": [0]})
    t.advance(0)
    # The new entry ended at T0 + 1000 + 7 days: the T0 one is older than that by more than 7 days and goes;
    # the T0 + 1000 one is exactly 7 days older and stays.
    assert [e["time"] - T0 for e in t.timeline()] == [1000, 2000, 3000, 4000, 1000 + WEEK]
    t.advance_to(T0 + 10 * DAY)
    t.mutation("m:schedule", {"delays": [0, 0]})
    t.advance(0)
    # Only the newest 3 are left: all the older ones ended more than 7 days ago.
    assert [e["time"] - T0 for e in t.timeline()] == [1000 + WEEK, 10 * DAY, 10 * DAY]
    t.close()


def test_a_long_run_keeps_about_a_week_of_log() -> None:
    t = make()
    t._scheduler.executions.keep = 100
    for day in range(0, 30, 3):
        t.advance_to(T0 + day * DAY)
        t.mutation("m:schedule", {"delays": [i * 60_000 for i in range(200)]})  # 200 jobs a minute apart
        t.advance(days=1)
    # 2000 executions ran; what ended in the last 7 days is kept: the batches of days 21, 24 and 27.
    assert len(t.timeline()) == 600
    assert min(e["time"] for e in t.timeline()) == T0 + 21 * DAY
    t.close()


def test_cron_runs_are_trimmed_the_same_way() -> None:
    from convex_py import cron_jobs

    crons = cron_jobs()
    crons.interval("often", {"minutes": 1}, internal.m.work)
    crons.interval("rare", {"hours": 24}, internal.m.work)
    t = ConvexEmulator(modules={"m": {"work": work, "act": act, "schedule": schedule}, "crons": {"crons": crons}},
                       start_time=T0)
    t._crons.runs.keep = 5
    t._scheduler.executions.keep = 5
    t.advance(days=10)
    week_of_minutes = 7 * 24 * 60
    often = [r["time"] - T0 for r in t.cron_runs("often")]
    assert often[0] == 10 * DAY - week_of_minutes * 60_000 and often[-1] == 10 * DAY
    assert len(often) == week_of_minutes + 1  # every run of the last 7 days, the one exactly 7 days old included
    assert [r["time"] - T0 for r in t.cron_runs("rare")] == [day * DAY for day in range(3, 11)]
    assert [(e["name"], e["time"]) for e in t.timeline()] == [(r["name"], r["time"]) for r in t.cron_runs()]
    t.close()


def test_simulate_prints_every_execution_of_a_window_longer_than_the_retention() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "simulate", str(ROOT / "fixtures" / "orders"), "--for", "15d",
         "--start", "2030-01-01T00:00:00Z", "--json", "--call", 'orders:create_order {"items": ["book"]}'],
        capture_output=True, text=True, env=env, check=True,
    )
    report = json.loads(result.stdout)
    # The confirmation ran at the start: its row went after 7 days, but simulate still lists it.
    assert [(e["source"], e["function"], e["time"]) for e in report["executions"]][:2] == [
        ("call", "orders:create_order", "2030-01-01 00:00:00.000Z"),
        ("scheduled", "emails:send_confirmation", "2030-01-01 00:00:00.000Z"),
    ]
