"""Crons inside a component (fixtures/ticker installs the ticker component twice): the jobs of its
`crons.py` deploy with each instance and run in it, and `convex_py.crons.Crons` called from its
mutations keeps jobs in its own `_crons`. Convex keeps cron jobs per component too (the backend's
`CronModel` is built for one component). Times are virtual, relative to T0."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import components, internal
from convex_py.errors import ComponentError
from emulator import ConvexEmulator

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
APP = Path(__file__).resolve().parent.parent / "fixtures" / "ticker"
MINUTE, HOUR = 60_000, 3_600_000


@pytest.fixture
def t() -> ConvexEmulator:
    return ConvexEmulator(APP, start_time=T0)


def ticks(t: ConvexEmulator, component: str = "ticker") -> list[tuple[str, float]]:
    return [(source, round(at - T0)) for source, at in t.query(getattr(components, component).ticks.ticks)]


def runs(t: ConvexEmulator, component: str) -> list[tuple[str, float, str, str]]:
    return [(r["name"], r["scheduledTime"] - T0, r["function"], r["outcome"]) for r in t.cron_runs(component=component)]


def test_each_instance_runs_its_crons_py_in_its_own_tables(t: ConvexEmulator) -> None:
    t.advance(minutes=2)
    expected = [("minute", 0), ("minute", MINUTE), ("minute", 2 * MINUTE)]  # at deploy, then every minute
    assert ticks(t, "ticker") == ticks(t, "ticker2") == expected
    assert t.query(lambda ctx: ctx.db.query("ticks").collect()) == []  # the app's own `ticks` table
    assert t.cron_runs() == []  # the app has no crons of its own
    assert runs(t, "ticker") == [("every minute", 0, "ticks:record", "success"),
                                 ("every minute", MINUTE, "ticks:record", "success"),
                                 ("every minute", 2 * MINUTE, "ticks:record", "success")]
    assert [(e["time"] - T0, e["component"], e["function"], e["source"]) for e in t.timeline()] == [
        (0, "ticker", "ticks:record", "cron"), (0, "ticker2", "ticks:record", "cron"),
        (MINUTE, "ticker", "ticks:record", "cron"), (MINUTE, "ticker2", "ticks:record", "cron"),
        (2 * MINUTE, "ticker", "ticks:record", "cron"), (2 * MINUTE, "ticker2", "ticks:record", "cron"),
    ]


def test_an_action_cron_of_a_component_runs_in_it(t: ConvexEmulator) -> None:
    # Its action calls `internal.ticks.record`, which exists only inside the component.
    t.advance(hours=1)
    assert ticks(t)[-2:] == [("hourly action", HOUR), ("minute", HOUR)]  # queued at deploy: first at the hour
    [run] = [r for r in t.cron_runs(component="ticker2") if r["name"] == "on the hour"]
    assert (run["scheduledTime"] - T0, run["kind"], run["outcome"], run["error"]) == (HOUR, "action", "success", None)


def test_a_component_registers_runtime_crons_in_its_own_crons_table(t: ConvexEmulator) -> None:
    t.advance(10_000)
    job_id = t.mutation(components.ticker.ticks.start_heartbeat, {"ms": 30_000})
    assert t.query(components.ticker.ticks.registered) == [
        ["heartbeat", "ticks:record", {"kind": "interval", "ms": 30_000.0}, False]]
    assert t.query(components.ticker2.ticks.registered) == []
    assert t.query(internal.app.app_crons) == []  # the app's `_crons` has no such job
    assert t.run(lambda ctx: ctx.db.system.get(job_id)) is None
    t.advance(60_000)  # to T0 + 70 s: beats at 40 s and 70 s after T0
    assert [at for source, at in ticks(t) if source == "heartbeat"] == [40_000, 70_000]
    assert [at for source, at in ticks(t, "ticker2") if source == "heartbeat"] == []
    assert [r["scheduledTime"] - T0 for r in t.cron_runs("heartbeat", component="ticker")] == [40_000, 70_000]
    t.mutation(components.ticker.ticks.pause_heartbeat)
    t.advance(60_000)
    assert t.query(components.ticker.ticks.registered)[0][3] is True
    assert [at for source, at in ticks(t) if source == "heartbeat"] == [40_000, 70_000]


def test_an_app_mutation_registering_through_a_component_commits_or_rolls_back_with_it(t: ConvexEmulator) -> None:
    with pytest.raises(ValueError, match="changed my mind"):
        t.mutation(internal.app.start_then_fail)
    assert t.query(components.ticker.ticks.registered) == []
    t.advance(60_000)
    assert [source for source, _at in ticks(t)] == ["minute", "minute"]
    t.mutation(internal.app.start_heartbeat)
    t.advance(30_000)
    assert [source for source, _at in ticks(t)] == ["minute", "minute", "heartbeat"]


def test_a_component_registered_by_hand_deploys_its_crons_then(t: ConvexEmulator) -> None:
    t.advance(90_000)
    t.register_component("late", APP / "convex" / "ticker")
    t.advance(60_000)
    assert ticks(t, "late") == [("minute", 90_000), ("minute", 150_000)]


def test_a_bad_crons_py_in_a_component_names_the_component(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "convex_config.py").write_text("from convex_py import define_component\nbroken = define_component('broken')\n")
    (folder / "jobs.py").write_text("from convex_py import query\n@query\ndef q(ctx, args):\n    return 1\n")
    (folder / "crons.py").write_text(
        "from convex_py import cron_jobs, internal\ncrons = cron_jobs()\n"
        "crons.interval('j', {'minutes': 1}, internal.jobs.q)\n")
    t = ConvexEmulator(modules={}, start_time=T0)
    with pytest.raises(ComponentError, match="Component 'broken': Cron job 'j': `jobs:q` is a query"):
        t.register_component("broken", folder)
