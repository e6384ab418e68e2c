"""Cron jobs declared in crons.py (`cron_jobs()`): schedules at exact UTC times, Convex's
validation texts, loading errors, failures, the one-run-at-a-time rule and volume.

2030-01-01T00:00:00Z, where most tests start, is a Tuesday.
"""

from __future__ import annotations

import asyncio
import textwrap
import time
from datetime import datetime

import pytest

from convex_py import (
    ConvexError,
    cron_jobs,
    internal,
    internal_action,
    internal_mutation,
    internal_query,
    query,
)
from convex_py.errors import AppLoadError, CronDefinitionError
from emulator import ConvexEmulator

from _timeutil import iso, ms

T0 = "2030-01-01T00:00:00Z"  # a Tuesday


# --- a small app for the inline tests -------------------------------------------------------


@internal_mutation
def tick(ctx, args):
    ctx.db.insert("ticks", {"label": args.get("label", "tick")})


@internal_mutation
def boom(ctx, args):
    ctx.db.insert("ticks", {"label": "written before the error"})
    raise ValueError("boom")


@internal_mutation
def fails_with_convex_error(ctx, args):
    raise ConvexError({"code": "nope"})


@internal_action
async def slow(ctx, args):
    await asyncio.sleep(args["seconds"])
    await ctx.run_mutation(internal.jobs.tick, {"label": "slow done"})


@internal_action
def sync_action(ctx, args):
    ctx.run_mutation(internal.jobs.tick, {"label": "from action"})


@internal_action
async def failing_action(ctx, args):
    await asyncio.sleep(1)
    raise RuntimeError("action broke")


@internal_mutation
def log_now(ctx, args):
    """Record who ran and the wall clock inside the function (the virtual time under freezegun)."""
    ctx.db.insert("log", {"who": args["who"], "at": time.time() * 1000})


@internal_mutation
def schedule_at(ctx, args):
    for when in args["times"]:
        ctx.scheduler.run_at(when, internal.jobs.log_now, {"who": f"job@{iso(when)}"})


@internal_query
def a_query(ctx, args):
    return 1


@query
def ticks(ctx, args):
    return [t["label"] for t in ctx.db.query("ticks").collect()]


JOBS = {
    "tick": tick,
    "boom": boom,
    "fails_with_convex_error": fails_with_convex_error,
    "slow": slow,
    "sync_action": sync_action,
    "failing_action": failing_action,
    "log_now": log_now,
    "schedule_at": schedule_at,
    "a_query": a_query,
    "ticks": ticks,
}


@pytest.fixture
def deploy():
    """deploy(setup, start=T0): an emulator whose crons.py is `setup(crons)`."""
    made: list[ConvexEmulator] = []

    def make(setup, start=T0) -> ConvexEmulator:
        crons = cron_jobs()
        setup(crons)
        t = ConvexEmulator(modules={"jobs": JOBS, "crons": {"crons": crons}}, start_time=start)
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()


def scheduled_times(t: ConvexEmulator, name: str) -> list[str]:
    return [iso(run["scheduledTime"]) for run in t.cron_runs(name)]


def run_times(t: ConvexEmulator, name: str) -> list[str]:
    return [iso(run["time"]) for run in t.cron_runs(name)]


# --- schedules at exact UTC times -----------------------------------------------------------


def test_interval_runs_at_deploy_then_every_period(deploy):
    t = deploy(lambda c: c.interval("every 15 minutes", {"minutes": 15}, internal.jobs.tick))
    t.advance(hours=1)
    assert run_times(t, "every 15 minutes") == [
        "2030-01-01T00:00:00Z",
        "2030-01-01T00:15:00Z",
        "2030-01-01T00:30:00Z",
        "2030-01-01T00:45:00Z",
        "2030-01-01T01:00:00Z",
    ]
    assert all(run["outcome"] == "success" for run in t.cron_runs())
    assert t.query("jobs:ticks") == ["tick"] * 5


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ({"seconds": 90}, ["00:00:00", "00:01:30", "00:03:00", "00:04:30", "00:06:00"]),
        ({"minutes": 2}, ["00:00:00", "00:02:00", "00:04:00", "00:06:00"]),
        ({"hours": 2}, ["00:00:00"]),
    ],
)
def test_interval_units(deploy, schedule, expected):
    t = deploy(lambda c: c.interval("job", schedule, internal.jobs.tick))
    t.advance(minutes=6)
    assert run_times(t, "job") == [f"2030-01-01T{hms}Z" for hms in expected]


def test_interval_over_days_and_hours_units(deploy):
    t = deploy(lambda c: c.interval("job", {"hours": 12}, internal.jobs.tick))
    t.advance(days=2)
    assert run_times(t, "job") == [
        "2030-01-01T00:00:00Z",
        "2030-01-01T12:00:00Z",
        "2030-01-02T00:00:00Z",
        "2030-01-02T12:00:00Z",
        "2030-01-03T00:00:00Z",
    ]


def test_interval_does_not_drift_with_uneven_advances(deploy):
    t = deploy(lambda c: c.interval("job", {"seconds": 60}, internal.jobs.tick), start="2030-01-01T00:00:00.250Z")
    for _ in range(13):
        t.advance(seconds=7.3)
    t.advance_to("2030-01-01T00:05:00.250Z")
    assert run_times(t, "job") == [f"2030-01-01T00:0{m}:00.250Z" for m in range(6)]


def test_interval_does_not_drift_when_the_run_takes_time(deploy):
    """The next run is one period after the previous *scheduled* time, not after it ended."""
    t = deploy(lambda c: c.interval("job", {"minutes": 1}, internal.jobs.slow, {"seconds": 10}))
    t.advance(minutes=3)
    runs = t.cron_runs("job")
    # The 00:03 run is still sleeping (until 00:03:10); a run is logged when it ends.
    assert [iso(r["time"]) for r in runs] == [f"2030-01-01T00:0{m}:00Z" for m in range(3)]
    assert [iso(r["completedTime"]) for r in runs] == [f"2030-01-01T00:0{m}:10Z" for m in range(3)]
    t.finish_in_progress_scheduled_functions()
    runs = t.cron_runs("job")
    assert [r["scheduledTime"] for r in runs] == [ms(T0) + m * 60_000 for m in range(4)]
    assert [r["time"] for r in runs] == [ms(T0) + m * 60_000 for m in range(4)]
    assert all(r["outcome"] == "success" for r in runs)


def test_hourly_at_minute_utc(deploy):
    t = deploy(lambda c: c.hourly("h", {"minuteUTC": 30}, internal.jobs.tick))
    t.advance(hours=3)
    assert run_times(t, "h") == ["2030-01-01T00:30:00Z", "2030-01-01T01:30:00Z", "2030-01-01T02:30:00Z"]


def test_hourly_minute_defaults_to_zero_and_deploy_on_the_hour_does_not_run(deploy):
    t = deploy(lambda c: c.hourly("h", {}, internal.jobs.tick))
    t.advance(hours=3)
    assert run_times(t, "h") == ["2030-01-01T01:00:00Z", "2030-01-01T02:00:00Z", "2030-01-01T03:00:00Z"]


def test_daily(deploy):
    t = deploy(lambda c: c.daily("d", {"hourUTC": 7, "minuteUTC": 15}, internal.jobs.tick))
    t.advance(days=3)
    assert run_times(t, "d") == ["2030-01-01T07:15:00Z", "2030-01-02T07:15:00Z", "2030-01-03T07:15:00Z"]


def test_daily_deployed_after_todays_time_starts_tomorrow(deploy):
    t = deploy(lambda c: c.daily("d", {"hourUTC": 7}, internal.jobs.tick), start="2030-01-01T07:00:00.001Z")
    t.advance(days=2)
    assert run_times(t, "d") == ["2030-01-02T07:00:00Z", "2030-01-03T07:00:00Z"]


@pytest.mark.parametrize(
    ("day", "first"),
    [
        ("monday", "2030-01-07"),
        ("tuesday", "2030-01-08"),
        ("saturday", "2030-01-05"),
        ("sunday", "2030-01-06"),
    ],
)
def test_weekly_on_the_right_weekday(deploy, day, first):
    t = deploy(lambda c: c.weekly("w", {"dayOfWeek": day, "hourUTC": 8}, internal.jobs.tick),
               start="2030-01-01T09:00:00Z")  # Tuesday, after 08:00: Tuesday's first run is next week
    t.advance(days=28)
    times = run_times(t, "w")
    assert len(times) == 4
    assert times[0] == f"{first}T08:00:00Z"
    for earlier, later in zip(times, times[1:]):
        assert ms(later) - ms(earlier) == 7 * 86_400_000
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    assert {names[datetime.fromisoformat(x.replace("Z", "+00:00")).weekday()] for x in times} == {day}


def test_weekly_later_the_same_day(deploy):
    t = deploy(lambda c: c.weekly("w", {"dayOfWeek": "tuesday", "hourUTC": 8, "minuteUTC": 45}, internal.jobs.tick))
    t.advance(days=8)
    assert run_times(t, "w") == ["2030-01-01T08:45:00Z", "2030-01-08T08:45:00Z"]


def test_monthly_on_the_31st_skips_short_months(deploy):
    t = deploy(lambda c: c.monthly("m", {"day": 31, "hourUTC": 12, "minuteUTC": 5}, internal.jobs.tick))
    t.advance_to("2031-01-01T00:00:00Z")
    assert run_times(t, "m") == [
        f"2030-{month}-31T12:05:00Z" for month in ("01", "03", "05", "07", "08", "10", "12")
    ]


def test_monthly_on_the_29th_and_30th_skip_february(deploy):
    def setup(c):
        c.monthly("29th", {"day": 29, "hourUTC": 0}, internal.jobs.tick)
        c.monthly("30th", {"day": 30, "hourUTC": 0}, internal.jobs.tick)

    t = deploy(setup)
    t.advance_to("2031-01-01T00:00:00Z")
    months = [f"{m:02d}" for m in range(1, 13) if m != 2]
    assert run_times(t, "29th") == [f"2030-{m}-29T00:00:00Z" for m in months]  # 2030 is not a leap year
    assert run_times(t, "30th") == [f"2030-{m}-30T00:00:00Z" for m in months]


def test_monthly_on_the_29th_runs_in_a_leap_february(deploy):
    t = deploy(lambda c: c.monthly("m", {"day": 29, "hourUTC": 6}, internal.jobs.tick), start="2032-02-01T00:00:00Z")
    t.advance_to("2032-04-01T00:00:00Z")
    assert run_times(t, "m") == ["2032-02-29T06:00:00Z", "2032-03-29T06:00:00Z"]


def test_weekday_cron_string_skips_the_weekend(deploy):
    t = deploy(lambda c: c.cron("weekdays", "0 9 * * 1-5", internal.jobs.tick))
    t.advance(days=14)
    days = ["01", "02", "03", "04", "07", "08", "09", "10", "11", "14"]
    assert run_times(t, "weekdays") == [f"2030-01-{d}T09:00:00Z" for d in days]
    for x in run_times(t, "weekdays"):
        assert datetime.fromisoformat(x.replace("Z", "+00:00")).weekday() < 5


def test_cron_string_sunday_is_zero(deploy):
    t = deploy(lambda c: c.cron("sundays", "30 6 * * 0", internal.jobs.tick))
    t.advance(days=14)
    assert run_times(t, "sundays") == ["2030-01-06T06:30:00Z", "2030-01-13T06:30:00Z"]


def test_a_range_of_one_value_is_that_value_only(deploy):
    # TS: crons.cron("report", "5-5 * * * *", internal.jobs.tick)  -- hourly at :05, as Convex parses it
    # (croniter alone reads 5-5 as *, a minutely job).
    t = deploy(lambda c: c.cron("report", "5-5 * * * *", internal.jobs.tick))
    t.advance(hours=3)
    assert run_times(t, "report") == ["2030-01-01T00:05:00Z", "2030-01-01T01:05:00Z", "2030-01-01T02:05:00Z"]


def test_a_day_range_of_one_value_runs_on_that_day_only(deploy):
    # TS: crons.cron("invoice", "0 9 1-1 * *", internal.jobs.tick)
    t = deploy(lambda c: c.cron("invoice", "0 9 1-1 * *", internal.jobs.tick))
    t.advance(days=62)
    assert run_times(t, "invoice") == ["2030-01-01T09:00:00Z", "2030-02-01T09:00:00Z", "2030-03-01T09:00:00Z"]


def test_day_of_month_step_with_a_day_of_week_matches_either(deploy):
    # TS: crons.cron("c", "0 0 */2 * 1", internal.jobs.tick)
    # Convex's parser (saffron, in get-convex/convex-backend crates/model/src/cron_jobs) reads `*/2` as a
    # restricted day of month, so with a day of week restricted too a day matches either: odd days or Mondays.
    t = deploy(lambda c: c.cron("c", "0 0 */2 * 1", internal.jobs.tick))
    t.advance(days=16)
    days = ["03", "05", "07", "09", "11", "13", "14", "15", "17"]
    assert run_times(t, "c") == [f"2030-01-{d}T00:00:00Z" for d in days]


@pytest.mark.parametrize("spec", [
    "* * * * *", "0 9 * * 1-5", "*/7 */5 */3 */2 */3", "0 0 */2 * 1", "0 0 1,15 * 1", "0 0 29 2 *",
    "5-5 * * * *", "0 9 1-1 * *", "59 23 31 12 *", "0 12 * 6-8 mon-fri", "0 0 * jan-mar sun", "0 0 L * *",
    "0 0 * * 1#2", "1-59/58 1-1 * * *", "0 0 30 * 1-1", "0 */3 * * 6,0", "30 4 * jul *",
])
def test_cron_times_match_croniter_read_as_convex_reads_the_spec(spec):
    from croniter import croniter

    from convex_py._crons import croniter_spec
    from emulator._cron_times import CronTimes

    times = CronTimes(spec)
    start = ms("2030-01-01T00:00:00Z") + 12_345
    reference = croniter(croniter_spec(spec), start / 1000)
    current = start
    for _ in range(60):
        expected = reference.get_next(float) * 1000
        current = times.next_after(current)
        assert (iso(current), current) == (iso(expected), expected)


def test_cron_string_every_five_minutes_in_one_hour(deploy):
    t = deploy(lambda c: c.cron("c", "*/5 10 * * *", internal.jobs.tick))
    t.advance(days=1)
    assert run_times(t, "c") == [f"2030-01-01T10:{m:02d}:00Z" for m in range(0, 60, 5)]


@pytest.mark.parametrize(
    ("start", "setup", "first"),
    [
        ("2030-01-01T09:00:00Z", lambda c: c.cron("j", "0 9 * * *", internal.jobs.tick), "2030-01-02T09:00:00Z"),
        ("2030-01-01T08:59:59.999Z", lambda c: c.cron("j", "0 9 * * *", internal.jobs.tick), "2030-01-01T09:00:00Z"),
        ("2030-01-01T00:00:00Z", lambda c: c.daily("j", {"hourUTC": 0}, internal.jobs.tick), "2030-01-02T00:00:00Z"),
        ("2030-01-01T00:30:00Z", lambda c: c.hourly("j", {"minuteUTC": 30}, internal.jobs.tick),
         "2030-01-01T01:30:00Z"),
        ("2030-01-07T08:00:00Z", lambda c: c.weekly("j", {"dayOfWeek": "monday", "hourUTC": 8}, internal.jobs.tick),
         "2030-01-14T08:00:00Z"),
        ("2030-01-31T12:00:00Z", lambda c: c.monthly("j", {"day": 31, "hourUTC": 12}, internal.jobs.tick),
         "2030-03-31T12:00:00Z"),
        ("2030-01-01T09:00:30Z", lambda c: c.cron("j", "* * * * *", internal.jobs.tick), "2030-01-01T09:01:00Z"),
    ],
)
def test_clock_schedules_first_run_strictly_after_deploy(deploy, start, setup, first):
    t = deploy(setup, start=start)
    t.advance(0)
    assert t.cron_runs("j") == []
    t.advance_to(ms(first) - 1)
    assert t.cron_runs("j") == []
    t.advance_to(ms(first))
    assert run_times(t, "j") == [first]


def test_interval_first_run_is_at_deploy(deploy):
    t = deploy(lambda c: c.interval("j", {"hours": 1}, internal.jobs.tick), start="2030-01-01T09:00:00Z")
    t.advance(0)
    assert run_times(t, "j") == ["2030-01-01T09:00:00Z"]


def test_every_schedule_kind_together(deploy):
    def setup(c):
        c.interval("interval", {"hours": 8}, internal.jobs.tick, {"label": "interval"})
        c.hourly("hourly", {"minuteUTC": 0}, internal.jobs.tick, {"label": "hourly"})
        c.daily("daily", {"hourUTC": 23, "minuteUTC": 59}, internal.jobs.tick, {"label": "daily"})
        c.weekly("weekly", {"dayOfWeek": "friday", "hourUTC": 17}, internal.jobs.tick, {"label": "weekly"})
        c.monthly("monthly", {"day": 31, "hourUTC": 0}, internal.jobs.tick, {"label": "monthly"})
        c.cron("weekdays", "0 9 * * 1-5", internal.jobs.tick, {"label": "weekdays"})

    t = deploy(setup)
    t.advance_to("2030-03-01T00:00:00Z")  # 59 days: January and February
    counts = {name: len(t.cron_runs(name)) for name in
              ("interval", "hourly", "daily", "weekly", "monthly", "weekdays")}
    assert counts == {
        "interval": 59 * 3 + 1,  # at deploy, then every 8 hours through 2030-03-01T00:00
        "hourly": 59 * 24,
        "daily": 59,
        "weekly": 8,  # Fridays Jan 4 ... Feb 22
        "monthly": 1,  # January 31 only
        "weekdays": 43,  # 23 in January, 20 in February
    }
    assert run_times(t, "monthly") == ["2030-01-31T00:00:00Z"]
    labels = t.query("jobs:ticks")
    assert len(labels) == sum(counts.values())
    # The log is in time order.
    times = [run["scheduledTime"] for run in t.cron_runs()]
    assert times == sorted(times)


# --- validation: Convex's texts -------------------------------------------------------------


def _define(method: str, *args):
    crons = cron_jobs()
    getattr(crons, method)(*args)
    return crons


@pytest.mark.parametrize(
    ("method", "args", "message"),
    [
        ("interval", ("j", {}, "jobs:tick"), "Must specify one of seconds, minutes, or hours"),
        ("interval", ("j", {"seconds": 1, "minutes": 1}, "jobs:tick"),
         "Must specify one of seconds, minutes, or hours"),
        ("interval", ("j", {"minutes": 1, "hours": 1}, "jobs:tick"), "Must specify one of seconds, minutes, or hours"),
        ("interval", ("j", {"days": 1}, "jobs:tick"), "Must specify one of seconds, minutes, or hours"),
        ("interval", ("j", {"minutes": 0}, "jobs:tick"), "Interval must be an integer greater than 0"),
        ("interval", ("j", {"seconds": -5}, "jobs:tick"), "Interval must be an integer greater than 0"),
        ("interval", ("j", {"hours": 1.5}, "jobs:tick"), "Interval must be an integer greater than 0"),
        ("interval", ("j", {"minutes": "5"}, "jobs:tick"), "Interval must be an integer greater than 0"),
        ("hourly", ("j", {"minuteUTC": 60}, "jobs:tick"), "Minute of hour must be an integer from 0 to 59"),
        ("hourly", ("j", {"minuteUTC": -1}, "jobs:tick"), "Minute of hour must be an integer from 0 to 59"),
        ("hourly", ("j", {"minuteUTC": 0.5}, "jobs:tick"), "Minute of hour must be an integer from 0 to 59"),
        ("daily", ("j", {"hourUTC": 24}, "jobs:tick"), "Hour of day must be an integer from 0 to 23"),
        ("daily", ("j", {"hourUTC": -1}, "jobs:tick"), "Hour of day must be an integer from 0 to 23"),
        ("daily", ("j", {"hourUTC": 1.5}, "jobs:tick"), "Hour of day must be an integer from 0 to 23"),
        ("daily", ("j", {"hourUTC": 1, "minuteUTC": 75}, "jobs:tick"),
         "Minute of hour must be an integer from 0 to 59"),
        ("weekly", ("j", {"dayOfWeek": "Monday", "hourUTC": 1}, "jobs:tick"),
         'Day of week must be a string like "monday".'),
        ("weekly", ("j", {"dayOfWeek": "mon", "hourUTC": 1}, "jobs:tick"),
         'Day of week must be a string like "monday".'),
        ("weekly", ("j", {"dayOfWeek": 1, "hourUTC": 1}, "jobs:tick"), 'Day of week must be a string like "monday".'),
        ("weekly", ("j", {"dayOfWeek": "monday", "hourUTC": 30}, "jobs:tick"),
         "Hour of day must be an integer from 0 to 23"),
        ("monthly", ("j", {"day": 0, "hourUTC": 1}, "jobs:tick"), "Day of month must be an integer from 1 to 31"),
        ("monthly", ("j", {"day": 32, "hourUTC": 1}, "jobs:tick"), "Day of month must be an integer from 1 to 31"),
        ("monthly", ("j", {"day": 1.5, "hourUTC": 1}, "jobs:tick"), "Day of month must be an integer from 1 to 31"),
        ("monthly", ("j", {"day": 15, "hourUTC": 24}, "jobs:tick"), "Hour of day must be an integer from 0 to 23"),
        ("monthly", ("j", {"day": 15, "hourUTC": 1, "minuteUTC": 60}, "jobs:tick"),
         "Minute of hour must be an integer from 0 to 59"),
        ("cron", ("j", "0 0 31 2 *", "jobs:tick"), 'The cron spec "0 0 31 2 *" will never match any time'),
        ("cron", ("j", "0 0 30 2 *", "jobs:tick"), 'The cron spec "0 0 30 2 *" will never match any time'),
        ("interval", ("bad\nname", {"minutes": 1}, "jobs:tick"),
         "Invalid cron identifier bad\nname: use ASCII letters that are not control characters"),
        ("interval", ("caf\u00e9", {"minutes": 1}, "jobs:tick"),
         "Invalid cron identifier caf\u00e9: use ASCII letters that are not control characters"),
    ],
)
def test_definition_errors_have_convex_texts(method, args, message):
    with pytest.raises(CronDefinitionError) as info:
        _define(method, *args)
    assert str(info.value) == message
    assert info.value.cron_name == args[0]


@pytest.mark.parametrize("spec", ["not a cron", "* * * *", "60 * * * *", "* 24 * * *", "* * * * 8", "* * * * * *", ""])
def test_malformed_cron_string_is_an_error_at_definition(spec):
    with pytest.raises(CronDefinitionError, match="Invalid cron spec"):
        _define("cron", "j", spec, "jobs:tick")


def test_name_registered_twice():
    crons = cron_jobs()
    crons.daily("nightly cleanup", {"hourUTC": 3}, "jobs:tick")
    with pytest.raises(CronDefinitionError) as info:
        crons.interval("nightly cleanup", {"minutes": 5}, "jobs:tick")
    assert str(info.value) == "Cron identifier registered twice: nightly cleanup"


def test_printable_ascii_names_are_accepted():
    crons = cron_jobs()
    crons.interval("Send reminders: every 5 min (v2) ~!", {"minutes": 5}, "jobs:tick")
    assert list(crons.jobs) == ["Send reminders: every 5 min (v2) ~!"]


def test_valid_edge_values_are_accepted():
    crons = cron_jobs()
    crons.hourly("a", {"minuteUTC": 59}, "jobs:tick")
    crons.daily("b", {"hourUTC": 23, "minuteUTC": 0}, "jobs:tick")
    crons.daily("c", {"hourUTC": 0}, "jobs:tick")
    crons.monthly("d", {"day": 1, "hourUTC": 0}, "jobs:tick")
    crons.monthly("e", {"day": 31, "hourUTC": 23, "minuteUTC": 59}, "jobs:tick")
    crons.weekly("f", {"dayOfWeek": "saturday", "hourUTC": 0}, "jobs:tick")
    crons.cron("g", "0 0 29 2 *", "jobs:tick")  # leap days only: matches some time
    crons.interval("h", {"seconds": 1}, "jobs:tick")
    assert len(crons) == 8


# --- loading an app whose crons.py is wrong -------------------------------------------------


def _write_app(root, crons_source: str):
    convex = root / "convex"
    convex.mkdir()
    (convex / "jobs.py").write_text(textwrap.dedent("""
        from convex_py import internal_mutation, query

        @internal_mutation
        def tick(ctx, args):
            ctx.db.insert("ticks", {"n": 1})

        @query
        def count(ctx, args):
            return len(ctx.db.query("ticks").collect())
    """))
    (convex / "crons.py").write_text(textwrap.dedent(crons_source))
    return root


def test_app_with_a_valid_crons_py_loads_and_runs(tmp_path):
    app = _write_app(tmp_path, """
        from convex_py import cron_jobs, internal

        crons = cron_jobs()
        crons.daily("nightly", {"hourUTC": 3}, internal.jobs.tick)
    """)
    t = ConvexEmulator(app, start_time=T0)
    t.advance(days=2)
    assert run_times(t, "nightly") == ["2030-01-01T03:00:00Z", "2030-01-02T03:00:00Z"]
    assert t.query("jobs:count") == 2
    t.close()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('crons.daily("nightly", {"hourUTC": 24}, internal.jobs.tick)', "Hour of day must be an integer from 0 to 23"),
        ('crons.interval("sync", {}, internal.jobs.tick)', "Must specify one of seconds, minutes, or hours"),
        ('crons.cron("never", "0 0 31 2 *", internal.jobs.tick)',
         'The cron spec "0 0 31 2 *" will never match any time'),
        ('crons.weekly("w", {"dayOfWeek": "Monday", "hourUTC": 1}, internal.jobs.tick)',
         'Day of week must be a string like "monday".'),
    ],
)
def test_crons_py_failing_validation_fails_loading(tmp_path, line, message):
    app = _write_app(tmp_path, f"""
        from convex_py import cron_jobs, internal

        crons = cron_jobs()
        {line}
    """)
    with pytest.raises(AppLoadError) as info:
        ConvexEmulator(app, start_time=T0)
    text = str(info.value)
    assert "crons.py" in text
    assert message in text


def test_crons_py_registering_a_name_twice_fails_loading(tmp_path):
    app = _write_app(tmp_path, """
        from convex_py import cron_jobs, internal

        crons = cron_jobs()
        crons.daily("nightly", {"hourUTC": 1}, internal.jobs.tick)
        crons.daily("nightly", {"hourUTC": 2}, internal.jobs.tick)
    """)
    with pytest.raises(AppLoadError, match="crons.py") as info:
        ConvexEmulator(app, start_time=T0)
    assert "Cron identifier registered twice: nightly" in str(info.value)


def test_cron_pointing_at_a_missing_function_is_refused_at_load(tmp_path):
    app = _write_app(tmp_path, """
        from convex_py import cron_jobs, internal

        crons = cron_jobs()
        crons.hourly("refresh cache", {"minuteUTC": 5}, internal.jobs.does_not_exist)
    """)
    with pytest.raises(AppLoadError) as info:
        ConvexEmulator(app, start_time=T0)
    assert "refresh cache" in str(info.value)
    assert "jobs:does_not_exist" in str(info.value)


def test_cron_pointing_at_a_missing_module_is_refused_at_load(tmp_path):
    app = _write_app(tmp_path, """
        from convex_py import cron_jobs

        crons = cron_jobs()
        crons.daily("report", {"hourUTC": 5}, "reports:send")
    """)
    with pytest.raises(AppLoadError) as info:
        ConvexEmulator(app, start_time=T0)
    assert "report" in str(info.value)
    assert "reports:send" in str(info.value)


def test_cron_pointing_at_a_query_is_refused_at_load(tmp_path):
    app = _write_app(tmp_path, """
        from convex_py import api, cron_jobs

        crons = cron_jobs()
        crons.interval("count things", {"minutes": 1}, api.jobs.count)
    """)
    with pytest.raises(AppLoadError) as info:
        ConvexEmulator(app, start_time=T0)
    assert "count things" in str(info.value)
    assert "query" in str(info.value)


def test_cron_at_a_query_is_refused_with_modules_too():
    crons = cron_jobs()
    crons.interval("q", {"minutes": 1}, internal.jobs.a_query)
    with pytest.raises(AppLoadError, match="'q'"):
        ConvexEmulator(modules={"jobs": JOBS, "crons": {"crons": crons}}, start_time=T0)


# --- failures, the log, and the scheduler --------------------------------------------------


def test_a_failing_cron_run_is_recorded_and_the_schedule_goes_on(deploy):
    def setup(c):
        c.interval("flaky", {"minutes": 1}, internal.jobs.boom)
        c.interval("fine", {"minutes": 1}, internal.jobs.tick)

    t = deploy(setup)
    t.advance(minutes=3)
    runs = t.cron_runs("flaky")
    assert [iso(r["time"]) for r in runs] == [f"2030-01-01T00:0{m}:00Z" for m in range(4)]
    assert {r["outcome"] for r in runs} == {"failed"}
    assert all("boom" in r["error"] for r in runs)
    assert runs[0]["source"] == "cron"
    assert runs[0]["function"] == "jobs:boom"
    assert runs[0]["kind"] == "mutation"
    assert [r["outcome"] for r in t.cron_runs("fine")] == ["success"] * 4
    # The failing mutation's writes rolled back.
    assert t.query("jobs:ticks") == ["tick"] * 4


def test_a_convex_error_in_a_cron_is_recorded_as_failed(deploy):
    t = deploy(lambda c: c.daily("d", {"hourUTC": 1}, internal.jobs.fails_with_convex_error))
    t.advance(days=2)
    runs = t.cron_runs("d")
    assert [r["outcome"] for r in runs] == ["failed", "failed"]
    assert all("nope" in r["error"] for r in runs)


def test_a_failing_async_action_cron_is_recorded_and_goes_on(deploy):
    t = deploy(lambda c: c.interval("a", {"minutes": 1}, internal.jobs.failing_action))
    t.advance(minutes=2, seconds=30)
    runs = t.cron_runs("a")
    assert [(iso(r["time"]), iso(r["completedTime"]), r["outcome"]) for r in runs] == [
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:01Z", "failed"),
        ("2030-01-01T00:01:00Z", "2030-01-01T00:01:01Z", "failed"),
        ("2030-01-01T00:02:00Z", "2030-01-01T00:02:01Z", "failed"),
    ]
    assert all("action broke" in r["error"] for r in runs)
    assert runs[0]["kind"] == "action"


def test_a_sync_action_cron(deploy):
    t = deploy(lambda c: c.hourly("a", {"minuteUTC": 10}, internal.jobs.sync_action))
    t.advance(hours=2)
    assert [r["outcome"] for r in t.cron_runs("a")] == ["success", "success"]
    assert t.query("jobs:ticks") == ["from action", "from action"]


def test_cron_runs_are_not_scheduled_functions(deploy):
    def setup(c):
        c.interval("i", {"minutes": 1}, internal.jobs.tick)
        c.cron("c", "* * * * *", internal.jobs.slow, {"seconds": 5})

    t = deploy(setup)
    t.advance(minutes=10)
    t.finish_in_progress_scheduled_functions()
    assert len(t.cron_runs("i")) == 11
    assert len(t.cron_runs("c")) == 10
    assert t.scheduled_functions() == []
    assert t.run(lambda ctx: ctx.db.system.query("_scheduled_functions").collect()) == []
    assert t.finish_all_scheduled_functions() == 0


def test_cron_runs_name_filter_and_fields(deploy):
    def setup(c):
        c.interval("a", {"minutes": 30}, internal.jobs.tick)
        c.hourly("b", {"minuteUTC": 15}, internal.jobs.tick)

    t = deploy(setup)
    t.advance(hours=1)
    everything = t.cron_runs()
    assert [(r["name"], iso(r["time"])) for r in everything] == [
        ("a", "2030-01-01T00:00:00Z"),
        ("b", "2030-01-01T00:15:00Z"),
        ("a", "2030-01-01T00:30:00Z"),
        ("a", "2030-01-01T01:00:00Z"),
    ]
    run = t.cron_runs("b")[0]
    assert run == {
        "name": "b",
        "time": ms("2030-01-01T00:15:00Z"),
        "completedTime": ms("2030-01-01T00:15:00Z"),
        "scheduledTime": ms("2030-01-01T00:15:00Z"),
        "function": "jobs:tick",
        "kind": "mutation",
        "source": "cron",
        "outcome": "success",
        "error": None,
    }
    assert t.cron_runs("nobody") == []


def test_crons_and_scheduled_functions_due_together_run_in_time_order(deploy):
    from emulator.wall_clock import wall_clock_follows

    t = deploy(lambda c: c.interval("cron", {"minutes": 1}, internal.jobs.log_now, {"who": "cron"}))
    with wall_clock_follows(t):
        t.mutation(internal.jobs.schedule_at, {"times": [
            ms("2030-01-01T00:00:30Z"),
            ms("2030-01-01T00:01:00Z"),
            ms("2030-01-01T00:01:30Z"),
            ms("2030-01-01T00:02:00Z"),
        ]})
        t.advance(minutes=2, seconds=30)
        log = t.run(lambda ctx: [(row["who"], iso(row["at"])) for row in ctx.db.query("log").collect()])
    # Each function ran with the clock at its own due time, in time order.
    assert [at for _who, at in log] == sorted(at for _who, at in log)
    assert sorted(log) == sorted([
        ("cron", "2030-01-01T00:00:00Z"),
        ("job@2030-01-01T00:00:30Z", "2030-01-01T00:00:30Z"),
        ("cron", "2030-01-01T00:01:00Z"),
        ("job@2030-01-01T00:01:00Z", "2030-01-01T00:01:00Z"),
        ("job@2030-01-01T00:01:30Z", "2030-01-01T00:01:30Z"),
        ("cron", "2030-01-01T00:02:00Z"),
        ("job@2030-01-01T00:02:00Z", "2030-01-01T00:02:00Z"),
    ])
    # The timeline lists the same executions in the same order as they ran.
    timeline = t.timeline()
    assert [(e["source"], iso(e["time"])) for e in timeline] == [
        ("cron" if who == "cron" else "scheduled", at) for who, at in log
    ]


def test_timeline_includes_cron_runs(deploy):
    def setup(c):
        c.daily("daily report", {"hourUTC": 6}, internal.jobs.tick)
        c.daily("broken", {"hourUTC": 7}, internal.jobs.boom)

    t = deploy(setup)
    t.mutation(lambda ctx: ctx.scheduler.run_at(ms("2030-01-01T06:30:00Z"), internal.jobs.tick, {"label": "job"}))
    t.advance(days=1)
    rows = [(e["source"], e.get("name"), e["function"], iso(e["time"]), e["outcome"]) for e in t.timeline()]
    assert rows == [
        ("cron", "daily report", "jobs:tick", "2030-01-01T06:00:00Z", "success"),
        ("scheduled", None, "jobs:tick", "2030-01-01T06:30:00Z", "success"),
        ("cron", "broken", "jobs:boom", "2030-01-01T07:00:00Z", "failed"),
    ]


# --- at most one run of a job at a time -------------------------------------------------------


def test_a_run_due_while_the_previous_is_still_going_is_skipped(deploy):
    t = deploy(lambda c: c.interval("slow", {"minutes": 1}, internal.jobs.slow, {"seconds": 90}))
    t.advance(minutes=5)
    runs = [(iso(r["scheduledTime"]), r["outcome"]) for r in t.cron_runs("slow")]
    assert runs == [
        ("2030-01-01T00:01:00Z", "skipped"),  # the 00:00 run is still sleeping
        ("2030-01-01T00:00:00Z", "success"),  # ends at 00:01:30
        ("2030-01-01T00:03:00Z", "skipped"),
        ("2030-01-01T00:02:00Z", "success"),  # ends at 00:03:30
        ("2030-01-01T00:05:00Z", "skipped"),  # the 00:04 run is still going at 00:05
    ]
    t.finish_in_progress_scheduled_functions()
    assert t.now == ms("2030-01-01T00:05:30Z")
    by_time = sorted(t.cron_runs("slow"), key=lambda r: r["scheduledTime"])
    assert [(iso(r["scheduledTime"]), iso(r["time"]), iso(r["completedTime"]), r["outcome"]) for r in by_time] == [
        ("2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "2030-01-01T00:01:30Z", "success"),
        ("2030-01-01T00:01:00Z", "2030-01-01T00:01:00Z", "2030-01-01T00:01:00Z", "skipped"),
        ("2030-01-01T00:02:00Z", "2030-01-01T00:02:00Z", "2030-01-01T00:03:30Z", "success"),
        ("2030-01-01T00:03:00Z", "2030-01-01T00:03:00Z", "2030-01-01T00:03:00Z", "skipped"),
        ("2030-01-01T00:04:00Z", "2030-01-01T00:04:00Z", "2030-01-01T00:05:30Z", "success"),
        ("2030-01-01T00:05:00Z", "2030-01-01T00:05:00Z", "2030-01-01T00:05:00Z", "skipped"),
    ]
    assert all(r["error"] is None for r in by_time if r["outcome"] == "success")
    assert all(r["error"] for r in by_time if r["outcome"] == "skipped")
    # Only the runs that happened did their work.
    assert t.query("jobs:ticks") == ["slow done"] * 3


def test_skips_apply_per_job_and_to_clock_schedules(deploy):
    def setup(c):
        c.cron("slow", "* * * * *", internal.jobs.slow, {"seconds": 150})
        c.cron("fast", "* * * * *", internal.jobs.tick)

    t = deploy(setup)
    t.advance(minutes=6)
    t.finish_in_progress_scheduled_functions()
    slow_runs = sorted(t.cron_runs("slow"), key=lambda r: r["scheduledTime"])
    # Runs at 00:01 (ends 00:03:30), 00:04 (ends 00:06:30); 00:02, 00:03, 00:05, 00:06 skipped.
    assert [(iso(r["scheduledTime"])[11:16], r["outcome"]) for r in slow_runs] == [
        ("00:01", "success"), ("00:02", "skipped"), ("00:03", "skipped"),
        ("00:04", "success"), ("00:05", "skipped"), ("00:06", "skipped"),
    ]
    assert [r["outcome"] for r in t.cron_runs("fast")] == ["success"] * 6


def test_a_run_exactly_when_the_previous_ends(deploy):
    """A run that ends exactly at the next due time has ended by then, so the next run happens.

    (The emulator lets a running action's timer go before due work at the same time.)
    """
    t = deploy(lambda c: c.interval("edge", {"minutes": 1}, internal.jobs.slow, {"seconds": 60}))
    t.advance(minutes=6)  # the 00:05 run ends at 00:06, then the 00:06 run starts
    runs = sorted(t.cron_runs("edge"), key=lambda r: r["scheduledTime"])
    assert [(r["scheduledTime"], r["completedTime"], r["outcome"]) for r in runs] == [
        (ms(f"2030-01-01T00:0{m}:00Z"), ms(f"2030-01-01T00:0{m + 1}:00Z"), "success") for m in range(6)
    ]


def test_finish_in_progress_settles_what_has_started_and_stops(deploy):
    """A cron action lasting exactly two periods: each run ends when a new one is due.

    finish_in_progress_scheduled_functions() settles the run in progress (00:02 -> 00:04) and returns;
    it must not chase the runs that start after it (that chain never ends).
    """
    import threading

    t = deploy(lambda c: c.interval("long", {"minutes": 1}, internal.jobs.slow, {"seconds": 120}))
    t.advance(minutes=3)  # 00:00 ran (ended 00:02), 00:01 skipped, 00:02 running, 00:03 skipped
    assert [(iso(r["scheduledTime"])[11:16], r["outcome"]) for r in t.cron_runs("long")] == [
        ("00:01", "skipped"), ("00:00", "success"), ("00:03", "skipped")]
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(n=t.finish_in_progress_scheduled_functions()), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "finish_in_progress_scheduled_functions() did not return"
    assert t.now == ms("2030-01-01T00:04:00Z")
    done = [r for r in t.cron_runs("long") if r["outcome"] == "success"]
    assert [(iso(r["scheduledTime"]), r["completedTime"]) for r in done] == [
        ("2030-01-01T00:00:00Z", ms("2030-01-01T00:02:00Z")),
        ("2030-01-01T00:02:00Z", ms("2030-01-01T00:04:00Z")),
    ]


def test_an_action_run_ends_at_its_exact_virtual_time(deploy):
    """`await asyncio.sleep(10)` from 00:mm:00 ends at exactly 00:mm:10, run after run (no float creep)."""
    t = deploy(lambda c: c.interval("job", {"minutes": 1}, internal.jobs.slow, {"seconds": 10}))
    t.advance(minutes=30)
    t.finish_in_progress_scheduled_functions()
    runs = t.cron_runs("job")
    assert len(runs) == 31
    start = ms(T0)
    assert [r["scheduledTime"] for r in runs] == [start + m * 60_000 for m in range(31)]
    assert [r["time"] for r in runs] == [start + m * 60_000 for m in range(31)]
    assert [r["completedTime"] for r in runs] == [start + m * 60_000 + 10_000 for m in range(31)]


# --- volume -------------------------------------------------------------------------------------


def test_a_year_through_a_daily_cron_makes_365_runs(deploy):
    t = deploy(lambda c: c.daily("d", {"hourUTC": 9}, internal.jobs.tick))
    t.advance(days=365)
    runs = t.cron_runs("d")
    assert len(runs) == 365
    assert iso(runs[0]["time"]) == "2030-01-01T09:00:00Z"
    assert iso(runs[-1]["time"]) == "2030-12-31T09:00:00Z"


def test_seven_days_through_a_minute_cron_makes_10080_runs(deploy):
    t = deploy(lambda c: c.cron("m", "* * * * *", internal.jobs.tick))
    t.limits.max_documents_read = 10**9
    t.advance(days=7)  # its speed is bench/bench_crons.py's figure
    runs = t.cron_runs("m")
    assert len(runs) == 10_080
    assert runs[-1]["scheduledTime"] == ms("2030-01-08T00:00:00Z")


# --- the fixture app: every schedule kind, recorded in a table -----------------------------


@pytest.mark.convex_app("fixtures/crons")
@pytest.mark.convex_time(T0)
def test_crons_fixture_runs_every_schedule_kind(convex):
    convex.advance_to("2030-05-01T00:00:00Z")
    runs = convex.query("jobs:runs_by_job")
    assert runs["interval (6 hours)"][:3] == ["2030-01-01T00:00:00Z", "2030-01-01T06:00:00Z", "2030-01-01T12:00:00Z"]
    assert len(runs["interval (6 hours)"]) == 120 * 4 + 1
    assert runs["hourly at :30"][:2] == ["2030-01-01T00:30:00Z", "2030-01-01T01:30:00Z"]
    assert len(runs["hourly at :30"]) == 120 * 24
    assert runs["daily 07:15"][:2] == ["2030-01-01T07:15:00Z", "2030-01-02T07:15:00Z"]
    assert len(runs["daily 07:15"]) == 120
    assert runs["weekly monday 08:00"][:3] == ["2030-01-07T08:00:00Z", "2030-01-14T08:00:00Z", "2030-01-21T08:00:00Z"]
    assert len(runs["weekly monday 08:00"]) == 17  # Mondays Jan 7 ... Apr 29
    assert runs["monthly on the 31st"] == ["2030-01-31T12:00:00Z", "2030-03-31T12:00:00Z"]
    weekdays = runs["weekdays 09:00"]
    assert weekdays[:5] == [f"2030-01-0{d}T09:00:00Z" for d in (1, 2, 3, 4, 7)]
    assert all(datetime.fromisoformat(x.replace("Z", "+00:00")).weekday() < 5 for x in weekdays)
    assert len(weekdays) == 86  # weekdays from Jan 1 to Apr 30, 2030
    # What the functions recorded agrees with the emulator's log.
    for name, times in runs.items():
        assert [iso(r["time"]) for r in convex.cron_runs(name)] == times
        assert {r["outcome"] for r in convex.cron_runs(name)} == {"success"}
    assert convex.scheduled_functions() == []


# --- the user-space crons fixture: a table of crons and one self-rescheduling mutation ---------


def _log_times(convex, name):
    return [iso(row["at"]) for row in convex.query("user_crons:log", {"name": name})]


@pytest.mark.convex_app("fixtures/user_space_crons")
@pytest.mark.convex_time(T0)
def test_user_space_crons_run_each_row_on_its_own_schedule(convex):
    convex.mutation("user_crons:add", {"name": "every 10 minutes", "intervalMs": 600_000, "message": "sync"})
    convex.mutation("user_crons:add", {"name": "weekdays 09:00", "cronspec": "0 9 * * 1-5", "message": "standup"})
    pending = convex.scheduled_functions("pending")
    assert [(job["name"], iso(job["scheduledTime"])) for job in pending] == [
        ("user_crons:tick", "2030-01-01T00:10:00Z")]

    convex.advance(hours=1)
    assert _log_times(convex, "every 10 minutes") == [f"2030-01-01T00:{m}0:00Z" for m in range(1, 6)] + [
        "2030-01-01T01:00:00Z"]
    convex.advance_to("2030-01-08T00:00:00Z")
    interval_runs = _log_times(convex, "every 10 minutes")
    assert len(interval_runs) == 7 * 24 * 6
    assert all(ms(b) - ms(a) == 600_000 for a, b in zip(interval_runs, interval_runs[1:]))
    assert _log_times(convex, "weekdays 09:00") == [
        f"2030-01-0{d}T09:00:00Z" for d in (1, 2, 3, 4, 7)]  # not Saturday 5 or Sunday 6
    # Each run knew the time it was due at, and ran then.
    for row in convex.query("user_crons:log"):
        assert row["at"] == row["scheduledFor"]
    # One tick pending at a time, and it is due at the earliest nextRun.
    pending = convex.scheduled_functions("pending")
    assert [(job["name"], iso(job["scheduledTime"])) for job in pending] == [
        ("user_crons:tick", "2030-01-08T00:10:00Z")]
    assert {row["name"]: row["runs"] for row in convex.query("user_crons:list_crons")} == {
        "every 10 minutes": 1008, "weekdays 09:00": 5}
    # No crons.py and no Crons: these are scheduled functions, not cron runs.
    assert convex.cron_runs() == []
    assert {e["function"] for e in convex.timeline()} == {"user_crons:tick", "user_crons:run_one"}


@pytest.mark.convex_app("fixtures/user_space_crons")
@pytest.mark.convex_time("2030-01-01T08:00:00Z")
def test_user_space_crons_remove_and_reschedule(convex):
    convex.mutation("user_crons:add", {"name": "hourly", "cronspec": "0 * * * *", "message": "h"})
    convex.mutation("user_crons:add", {"name": "fast", "intervalMs": 60_000, "message": "f"})
    convex.advance(minutes=5)
    assert _log_times(convex, "fast") == [f"2030-01-01T08:0{m}:00Z" for m in range(1, 6)]
    convex.mutation("user_crons:remove", {"name": "fast"})
    convex.advance(hours=2)
    assert len(_log_times(convex, "fast")) == 5
    assert _log_times(convex, "hourly") == ["2030-01-01T09:00:00Z", "2030-01-01T10:00:00Z"]
    # A later-added earlier row pulls the tick forward.
    convex.mutation("user_crons:add", {"name": "soon", "intervalMs": 5_000, "message": "s"})
    convex.advance(seconds=10)
    assert _log_times(convex, "soon") == ["2030-01-01T10:05:05Z", "2030-01-01T10:05:10Z"]
    convex.mutation("user_crons:remove", {"name": "soon"})
    convex.mutation("user_crons:remove", {"name": "hourly"})
    # Nothing left: no tick pending, and nothing more runs.
    assert convex.scheduled_functions("pending") == []
    assert convex.finish_all_scheduled_functions() == 0
    convex.advance(days=1)
    assert len(convex.query("user_crons:log")) == 5 + 2 + 2
    with pytest.raises(ConvexError):
        convex.mutation("user_crons:add", {"name": "both", "intervalMs": 60_000, "cronspec": "* * * * *",
                                           "message": "x"})
    with pytest.raises(ConvexError):
        convex.mutation("user_crons:add", {"name": "neither", "message": "x"})
