"""The wall clock outside pytest: `with ConvexEmulator(app) as t:` holds time.time()/datetime.now() at virtual time."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine
from freezegun import freeze_time

from convex_py import api, internal, internal_action, internal_mutation, mutation, query
from convex_py.errors import WallClockError
from emulator import ConvexEmulator
from emulator.wall_clock import WallClock

ORDERS = Path(__file__).resolve().parents[1] / "fixtures" / "orders"
T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
DAY = 24 * 3600 * 1000


def _held() -> bool:
    return time_machine.escape_hatch.is_travelling() or dt.datetime.__name__ == "FakeDatetime"


@mutation
def plan(ctx, args):
    for delay in args["delays"]:
        ctx.scheduler.run_after(delay, internal.m.note, {"delay": delay})


@internal_mutation
def note(ctx, args):
    ctx.db.insert("notes", {
        "delay": args["delay"],
        "time": time.time() * 1000,
        "utc": datetime.now(timezone.utc).isoformat(),
        "naive": datetime.now().isoformat(),
    })


@internal_action
async def nap(ctx, args):
    await asyncio.sleep(args["seconds"])
    await ctx.run_mutation(internal.m.note, {"delay": -1})


@mutation
def start_nap(ctx, args):
    ctx.scheduler.run_after(0, internal.m.nap, {"seconds": args["seconds"]})


@query
def notes(ctx, args):
    return [{k: n[k] for k in ("delay", "time", "utc", "naive")} for n in ctx.db.query("notes").collect()]


class _M:
    plan, note, nap, start_nap, notes = plan, note, nap, start_nap, notes


def make() -> ConvexEmulator:
    return ConvexEmulator(modules={"m": _M}, start_time=T0)


def test_a_value_written_with_time_time_lands_at_the_creation_time():
    # TS: `await ctx.db.insert("emails", { sentAt: Date.now() })` in a job: sentAt is the job's time.
    with ConvexEmulator(ORDERS, start_time="2030-01-01T00:00:00Z") as t:
        t.advance(hours=2)
        t.mutation(api.orders.create_order, {"items": ["book"]})
        t.advance(0)
        [email] = t.run(lambda ctx: ctx.db.query("emails").collect())
    assert email["sentAt"] == T0 + 2 * 3600 * 1000  # not the real 2026
    assert email["_creationTime"] // 1 == email["sentAt"]  # _creationTime adds a fraction of a ms


def test_the_caller_and_functions_read_virtual_time_inside_the_block_and_real_time_after():
    before = time.time()
    t = make()
    with t as held:
        assert held is t
        assert time.time() * 1000 == t.now == T0
        assert datetime.now(timezone.utc) == datetime(2030, 1, 1, tzinfo=timezone.utc)
        assert datetime.now() == datetime(2030, 1, 1)  # naive: UTC, as Convex's functions run in UTC
        t.advance(days=1, hours=1)
        assert time.time() * 1000 == t.now == T0 + DAY + 3600 * 1000
        assert t.run(lambda ctx: time.time() * 1000) == T0 + DAY + 3600 * 1000
    assert not _held()
    assert before <= time.time() < before + 60
    t.advance(days=1)  # moving the clock after the block leaves the real clock alone
    assert time.time() < before + 60


@pytest.mark.parametrize("backend", ["time-machine", "freezegun"])
def test_each_job_sees_its_own_time(backend):
    t = make()
    hold = t._hold_wall_clock(backend)
    try:
        t.mutation(api.m.plan, {"delays": [1500, 250, 86_400_000, 3_600_000]})
        assert t.finish_all_scheduled_functions() == 4
        assert time.time() * 1000 == t.now == T0 + DAY
    finally:
        hold.stop()
    assert not _held()
    assert [(n["delay"], n["time"], n["utc"], n["naive"]) for n in t.query(api.m.notes)] == [
        (250, T0 + 250, "2030-01-01T00:00:00.250000+00:00", "2030-01-01T00:00:00.250000"),
        (1500, T0 + 1500, "2030-01-01T00:00:01.500000+00:00", "2030-01-01T00:00:01.500000"),
        (3_600_000, T0 + 3_600_000, "2030-01-01T01:00:00+00:00", "2030-01-01T01:00:00"),
        (86_400_000, T0 + DAY, "2030-01-02T00:00:00+00:00", "2030-01-02T00:00:00"),
    ]


@pytest.mark.parametrize("backend", ["time-machine", "freezegun"])
def test_an_action_asleep_in_virtual_time_wakes_at_the_microsecond(backend):
    t = make()
    hold = t._hold_wall_clock(backend)
    try:
        t.mutation(api.m.start_nap, {"seconds": 0.004321})
        t.advance(ms=10)
    finally:
        hold.stop()
    [woke] = t.query(api.m.notes)
    assert round(woke["time"] * 1000) == round((T0 + 4.321) * 1000)
    assert woke["utc"] == "2030-01-01T00:00:00.004321+00:00"


def test_holds_nest_and_the_outer_one_keeps_holding():
    t = make()
    with t:
        with t:
            t.advance(seconds=1)
        assert _held()
        t.advance(seconds=1)
        assert time.time() * 1000 == T0 + 2000
    assert not _held()


def test_time_machine_refuses_kindly_under_freezegun():
    t = make()
    with freeze_time("2020-01-01"):
        with pytest.raises(WallClockError, match="already frozen by freezegun.*convex_wall_clock = freezegun"):
            t.__enter__()
    assert not _held()
    with t:  # the failed start left nothing half-held
        assert time.time() * 1000 == T0


def test_an_unknown_backend_is_refused():
    with pytest.raises(WallClockError, match="unknown wall clock 'arrow'; expected one of: time-machine, freezegun"):
        WallClock(make().clock, "arrow")
