"""Runtime crons (convex_py.crons.Crons): register, get, list, pause, resume, delete; time zones
and daylight saving; six-field specs; error texts; rollback; and the fixture app end to end."""

from __future__ import annotations

import asyncio

import pytest

from convex_py import ConvexError, internal, internal_action, internal_mutation, internal_query, mutation, query, v
from convex_py.crons import Crons
from convex_py.errors import CronDefinitionError, CronNotFoundError, ReadOnlyError
from emulator import ConvexEmulator

from _timeutil import iso, ms

T0 = "2030-01-01T00:00:00Z"  # a Tuesday
crons = Crons()


# --- an inline app ----------------------------------------------------------------------------


@internal_mutation
def tick(ctx, args):
    ctx.db.insert("ticks", {"label": args.get("label", "tick")})


@internal_mutation
def boom(ctx, args):
    raise ValueError("boom")


@internal_action
async def slow(ctx, args):
    await asyncio.sleep(args["seconds"])


@internal_query
def a_query(ctx, args):
    return 1


@mutation(args={"schedule": v.any(), "name": v.optional(v.string()), "fn": v.optional(v.string()),
                "args": v.optional(v.any())})
def register(ctx, args):
    return crons.register(ctx, args["schedule"], args.get("fn", "m:tick"), args.get("args", {}),
                          name=args.get("name"))


@mutation(args={"schedule": v.any(), "name": v.string()})
def register_then_fail(ctx, args):
    crons.register(ctx, args["schedule"], internal.m.tick, {}, name=args["name"])
    raise ConvexError("rolled back")


@mutation(args={"id": v.optional(v.string()), "name": v.optional(v.string())})
def pause(ctx, args):
    return crons.pause(ctx, **args)


@mutation(args={"id": v.optional(v.string()), "name": v.optional(v.string())})
def resume(ctx, args):
    return crons.resume(ctx, **args)


@mutation(args={"id": v.optional(v.string()), "name": v.optional(v.string())})
def delete(ctx, args):
    return crons.delete(ctx, **args)


@mutation(args={"name": v.string()})
def pause_then_fail(ctx, args):
    crons.pause(ctx, name=args["name"])
    raise ConvexError("rolled back")


@mutation(args={"name": v.string()})
def delete_then_fail(ctx, args):
    crons.delete(ctx, name=args["name"])
    raise ConvexError("rolled back")


@query(args={"id": v.optional(v.string()), "name": v.optional(v.string())})
def get(ctx, args):
    return crons.get(ctx, **args)


@query
def list_crons(ctx, args):
    return crons.list(ctx)


@query
def register_from_query(ctx, args):
    return crons.register(ctx, {"kind": "interval", "ms": 60_000}, internal.m.tick, {})


@mutation
async def register_async(ctx, args):
    job_id = await crons.register(ctx, {"kind": "interval", "ms": 5000}, internal.m.tick, {}, name="async")
    got = await crons.get(ctx, id=job_id)
    return [job_id, got["name"], len(await crons.list(ctx))]


@query
def ticks(ctx, args):
    return [t["label"] for t in ctx.db.query("ticks").collect()]


@mutation
def register_then_schedule(ctx, args):
    crons.register(ctx, {"kind": "interval", "ms": 1000}, internal.m.tick, {"label": "cron"}, name="c")
    ctx.scheduler.run_after(1000, internal.m.tick, {"label": "job"})


@mutation
def schedule_then_register(ctx, args):
    ctx.scheduler.run_after(1000, internal.m.tick, {"label": "job"})
    crons.register(ctx, {"kind": "interval", "ms": 1000}, internal.m.tick, {"label": "cron"}, name="c")


@mutation
def register_through_a_query(ctx, args):
    return ctx.run_query(internal.m.register_from_query, {})


MODULES = {"m": {name: value for name, value in globals().items() if hasattr(value, "kind") and name[0] != "_"}}


@pytest.fixture
def make():
    made: list[ConvexEmulator] = []

    def build(start=T0) -> ConvexEmulator:
        t = ConvexEmulator(modules=MODULES, start_time=start)
        made.append(t)
        return t

    yield build
    for t in made:
        t.close()


@pytest.fixture
def t(make):
    return make()


def times(t: ConvexEmulator, name: str, field: str = "time") -> list[str]:
    return [iso(r[field]) for r in t.cron_runs(name)]


INTERVAL_MINUTE = {"kind": "interval", "ms": 60_000}


# --- schedules --------------------------------------------------------------------------------


def test_interval_first_runs_one_interval_after_registration(t):
    t.advance(seconds=10)
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "sync"})
    t.advance(0)
    assert t.cron_runs("sync") == []
    t.advance(minutes=3)
    assert times(t, "sync") == ["2030-01-01T00:01:10Z", "2030-01-01T00:02:10Z", "2030-01-01T00:03:10Z"]
    run = t.cron_runs("sync")[0]
    assert run["source"] == "cron"
    assert run["function"] == "m:tick"
    assert run["outcome"] == "success"
    assert run["scheduledTime"] == ms("2030-01-01T00:01:10Z")
    assert t.query("m:ticks") == ["tick"] * 3


def test_interval_of_at_least_one_second(t):
    t.mutation("m:register", {"schedule": {"kind": "interval", "ms": 1000}, "name": "fast"})
    t.advance(seconds=5)
    assert times(t, "fast") == [f"2030-01-01T00:00:0{s}Z" for s in range(1, 6)]


def test_an_unnamed_cron_is_logged_under_its_id(t):
    job_id = t.mutation("m:register", {"schedule": INTERVAL_MINUTE})
    t.advance(minutes=2)
    assert times(t, job_id) == ["2030-01-01T00:01:00Z", "2030-01-01T00:02:00Z"]
    assert t.query("m:get", {"id": job_id})["name"] is None


def test_cronspec_without_tz_is_utc(t):
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "0 9 * * 1-5"}, "name": "weekdays"})
    t.advance(days=7)
    assert times(t, "weekdays") == [f"2030-01-{d}T09:00:00Z" for d in ("01", "02", "03", "04", "07")]


def test_cronspec_first_run_is_strictly_after_registration(make):
    t = make("2030-01-01T09:00:00Z")
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "0 9 * * *"}, "name": "daily"})
    t.advance(days=2)
    assert times(t, "daily") == ["2030-01-02T09:00:00Z", "2030-01-03T09:00:00Z"]


def test_cronspec_range_of_one_value_is_that_value_only(t):
    # TS: await crons.register(ctx, { kind: "cron", cronspec: "5-5 * * * *" }, internal.m.tick, {}, "report")
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "5-5 * * * *"}, "name": "report"})
    t.advance(hours=2)
    assert times(t, "report") == ["2030-01-01T00:05:00Z", "2030-01-01T01:05:00Z"]


def test_six_field_cronspec_has_seconds_first(t):
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "*/20 * * * * *"}, "name": "every 20 s"})
    t.advance(minutes=1)
    assert times(t, "every 20 s") == ["2030-01-01T00:00:20Z", "2030-01-01T00:00:40Z", "2030-01-01T00:01:00Z"]


def test_six_field_cronspec_at_a_given_second(t):
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "30 15 10 * * *"}, "name": "j"})
    t.advance(days=2)
    assert times(t, "j") == ["2030-01-01T10:15:30Z", "2030-01-02T10:15:30Z"]


def test_europe_paris_across_the_spring_daylight_saving_change(make):
    """Europe/Paris moves to summer time on 2030-03-31: 09:00 Paris is 08:00Z before, 07:00Z after."""
    t = make("2030-03-29T00:00:00Z")
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "0 9 * * *", "tz": "Europe/Paris"},
                              "name": "paris"})
    t.advance_to("2030-04-02T00:00:00Z")
    assert times(t, "paris") == [
        "2030-03-29T08:00:00Z",
        "2030-03-30T08:00:00Z",
        "2030-03-31T07:00:00Z",
        "2030-04-01T07:00:00Z",
    ]


def test_europe_paris_across_the_autumn_change(make):
    """Back to winter time on 2030-10-27: 09:00 Paris is 07:00Z before, 08:00Z after."""
    t = make("2030-10-25T12:00:00Z")
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "0 9 * * *", "tz": "Europe/Paris"},
                              "name": "paris"})
    t.advance_to("2030-10-29T00:00:00Z")
    assert times(t, "paris") == [
        "2030-10-26T07:00:00Z",
        "2030-10-27T08:00:00Z",
        "2030-10-28T08:00:00Z",
    ]


def test_a_repeated_wall_clock_time_runs_once(make):
    """02:30 happens twice in Paris on 2030-10-27 (clocks go back at 03:00): one run that day."""
    t = make("2030-10-26T12:00:00Z")
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "30 2 * * *", "tz": "Europe/Paris"},
                              "name": "j"})
    t.advance_to("2030-10-29T00:00:00Z")
    assert times(t, "j") == ["2030-10-27T00:30:00Z", "2030-10-28T01:30:00Z"]


def test_a_skipped_wall_clock_time_still_runs_once_that_day(make):
    """02:30 does not exist in Paris on 2030-03-31 (clocks jump from 02:00 to 03:00)."""
    t = make("2030-03-30T12:00:00Z")
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "30 2 * * *", "tz": "Europe/Paris"},
                              "name": "j"})
    t.advance_to("2030-04-02T00:00:00Z")
    runs = times(t, "j")
    assert len(runs) == 2
    assert runs[0].startswith("2030-03-31T0")
    assert runs[1] == "2030-04-01T00:30:00Z"


def test_america_new_york_across_the_daylight_saving_change(make):
    """New York moves to summer time on 2030-03-10: 09:00 there is 14:00Z before, 13:00Z after."""
    t = make("2030-03-08T00:00:00Z")
    t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "0 9 * * *", "tz": "America/New_York"},
                              "name": "nyc"})
    t.advance_to("2030-03-12T00:00:00Z")
    assert times(t, "nyc") == [
        "2030-03-08T14:00:00Z",
        "2030-03-09T14:00:00Z",
        "2030-03-10T13:00:00Z",
        "2030-03-11T13:00:00Z",
    ]


def test_interval_ignores_daylight_saving(make):
    t = make("2030-03-30T23:00:00Z")
    t.mutation("m:register", {"schedule": {"kind": "interval", "ms": 3_600_000}, "name": "hourly"})
    t.advance(hours=4)
    assert times(t, "hourly") == [f"2030-03-31T0{h}:00:00Z" for h in range(4)]


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("ms_value", [999, 0, -1000, 0.5])
def test_interval_below_one_second(t, ms_value):
    with pytest.raises(CronDefinitionError) as info:
        t.mutation("m:register", {"schedule": {"kind": "interval", "ms": ms_value}})
    assert str(info.value) == "Interval must be >= 1000ms"
    assert t.query("m:list_crons") == []


@pytest.mark.parametrize("spec", ["not a cron", "0 9 * *", "61 * * * *", "* * * * * * *", "0 25 * * *"])
def test_invalid_cronspec(t, spec):
    with pytest.raises(CronDefinitionError) as info:
        t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": spec}})
    assert str(info.value) == f"Invalid cronspec: {spec}"


def test_unknown_time_zone(t):
    with pytest.raises(CronDefinitionError, match="Mars/Olympus_Mons"):
        t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "0 9 * * *", "tz": "Mars/Olympus_Mons"}})


def test_name_already_exists(t):
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "x"})
    with pytest.raises(CronDefinitionError) as info:
        t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "0 9 * * *"}, "name": "x"})
    assert str(info.value) == 'Cron with name "x" already exists'
    assert len(t.query("m:list_crons")) == 1


@pytest.mark.parametrize("method", ["m:pause", "m:resume", "m:delete"])
def test_not_found_by_name(t, method):
    with pytest.raises(CronNotFoundError) as info:
        t.mutation(method, {"name": "x"})
    assert str(info.value) == 'Cron "x" not found'


@pytest.mark.parametrize("method", ["m:pause", "m:resume", "m:delete"])
def test_not_found_by_id_of_a_deleted_cron(t, method):
    job_id = t.mutation("m:register", {"schedule": INTERVAL_MINUTE})
    t.mutation("m:delete", {"id": job_id})
    with pytest.raises(CronNotFoundError) as info:
        t.mutation(method, {"id": job_id})
    assert str(info.value) == f'Cron "{job_id}" not found'


@pytest.mark.parametrize("mutation_name, expected", [
    ("m:register_then_schedule", ["cron", "job"]),
    ("m:schedule_then_register", ["job", "cron"]),
])
def test_a_cron_and_a_job_due_together_run_in_the_order_the_mutation_made_them(t, mutation_name, expected):
    t.mutation(mutation_name)
    t.advance(1000)
    assert t.query("m:ticks") == expected


def test_registering_a_query_or_a_missing_function_is_refused(t):
    with pytest.raises(CronDefinitionError, match="query"):
        t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "fn": "m:a_query"})
    with pytest.raises(CronDefinitionError, match="m:nope"):
        t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "fn": "m:nope"})
    assert t.query("m:list_crons") == []


def test_register_from_a_query_is_refused(t):
    with pytest.raises(ReadOnlyError):
        t.query("m:register_from_query")
    # A query run by a mutation shares its transaction, not its right to write.
    with pytest.raises(ReadOnlyError):
        t.mutation("m:register_through_a_query")
    assert t.query("m:list_crons") == []


# --- get, list, pause, resume, delete -----------------------------------------------------


def test_get_by_id_and_by_name_and_list(t):
    first = t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "a", "args": {"label": "A"}})
    second = t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "0 9 * * *", "tz": "Europe/Paris"},
                                       "name": "b"})
    third = t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "*/20 * * * * *"}})
    by_id = t.query("m:get", {"id": first})
    assert by_id == {
        "id": first,
        "name": "a",
        "schedule": {"kind": "interval", "ms": 60_000},
        "functionName": "m:tick",
        "args": {"label": "A"},
        "paused": False,
    }
    assert t.query("m:get", {"name": "a"}) == by_id
    assert t.query("m:get", {"name": "b"})["schedule"] == {"kind": "cron", "cronspec": "0 9 * * *",
                                                            "tz": "Europe/Paris"}
    assert t.query("m:get", {"name": "nobody"}) is None
    assert [c["id"] for c in t.query("m:list_crons")] == [first, second, third]
    assert [c["name"] for c in t.query("m:list_crons")] == ["a", "b", None]


def test_get_with_an_id_of_another_table_is_none(t):
    other = t.run(lambda ctx: ctx.db.insert("ticks", {"label": "x"}))
    assert t.query("m:get", {"id": other}) is None


def test_crons_from_an_async_mutation(t):
    job_id, name, count = t.mutation("m:register_async")
    assert name == "async" and count == 1
    t.advance(seconds=10)
    assert times(t, "async") == ["2030-01-01T00:00:05Z", "2030-01-01T00:00:10Z"]
    assert t.query("m:get", {"id": job_id})["id"] == job_id


def test_pause_stops_runs_and_resume_restarts_from_now(t):
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "sync"})
    t.advance(minutes=1, seconds=30)
    t.mutation("m:pause", {"name": "sync"})
    assert t.query("m:get", {"name": "sync"})["paused"] is True
    t.advance(minutes=10)
    assert times(t, "sync") == ["2030-01-01T00:01:00Z"]  # nothing while paused
    t.mutation("m:resume", {"name": "sync"})  # at 00:11:30
    assert t.query("m:get", {"name": "sync"})["paused"] is False
    t.advance(minutes=2)
    assert times(t, "sync") == ["2030-01-01T00:01:00Z", "2030-01-01T00:12:30Z", "2030-01-01T00:13:30Z"]
    assert t.query("m:ticks") == ["tick"] * 3


def test_pause_and_resume_a_cronspec_job_by_id(t):
    job_id = t.mutation("m:register", {"schedule": {"kind": "cron", "cronspec": "0 * * * *"}, "name": "hourly"})
    t.advance(hours=1, minutes=30)
    t.mutation("m:pause", {"id": job_id})
    t.advance(hours=2)  # 03:30: 02:00 and 03:00 are not run
    t.mutation("m:resume", {"id": job_id})
    t.advance(hours=2)
    assert times(t, "hourly") == ["2030-01-01T01:00:00Z", "2030-01-01T04:00:00Z", "2030-01-01T05:00:00Z"]


def test_pause_twice_and_resume_twice_change_nothing_more(t):
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "j"})
    t.mutation("m:pause", {"name": "j"})
    t.mutation("m:pause", {"name": "j"})
    t.advance(minutes=5)
    assert t.cron_runs("j") == []
    t.mutation("m:resume", {"name": "j"})
    t.advance(seconds=30)
    t.mutation("m:resume", {"name": "j"})  # already running: does not restart the schedule
    t.advance(minutes=2)
    assert times(t, "j") == ["2030-01-01T00:06:00Z", "2030-01-01T00:07:00Z"]


def test_delete_by_name_and_by_id(t):
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "a"})
    b = t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "b"})
    t.advance(minutes=1)
    t.mutation("m:delete", {"name": "a"})
    t.mutation("m:delete", {"id": b})
    assert t.query("m:list_crons") == []
    assert t.query("m:get", {"name": "a"}) is None
    assert t.query("m:get", {"id": b}) is None
    t.advance(minutes=10)
    assert len(t.cron_runs("a")) == 1
    assert len(t.cron_runs(b)) == 0 and len(t.cron_runs("b")) == 1


def test_a_name_can_be_reused_after_delete(t):
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "x", "args": {"label": "old"}})
    t.advance(seconds=30)
    t.mutation("m:delete", {"name": "x"})
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "x", "args": {"label": "new"}})
    t.advance(minutes=2)
    assert times(t, "x") == ["2030-01-01T00:01:30Z", "2030-01-01T00:02:30Z"]
    assert t.query("m:ticks") == ["new", "new"]


# --- transactions -----------------------------------------------------------------------------


def test_a_registration_rolls_back_with_its_mutation(t):
    with pytest.raises(ConvexError):
        t.mutation("m:register_then_fail", {"schedule": {"kind": "interval", "ms": 1000}, "name": "ghost"})
    assert t.query("m:list_crons") == []
    assert t.query("m:get", {"name": "ghost"}) is None
    t.advance(minutes=5)
    assert t.cron_runs() == []
    assert t.query("m:ticks") == []
    # The name is free.
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "ghost"})
    assert len(t.query("m:list_crons")) == 1


def test_pause_and_delete_roll_back_with_their_mutation(t):
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "a"})
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "b"})
    with pytest.raises(ConvexError):
        t.mutation("m:pause_then_fail", {"name": "a"})
    with pytest.raises(ConvexError):
        t.mutation("m:delete_then_fail", {"name": "b"})
    assert [(c["name"], c["paused"]) for c in t.query("m:list_crons")] == [("a", False), ("b", False)]
    t.advance(minutes=2)
    assert len(t.cron_runs("a")) == 2
    assert len(t.cron_runs("b")) == 2


# --- runs ---------------------------------------------------------------------------------


def test_a_failing_runtime_cron_is_recorded_and_goes_on(t):
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "bad", "fn": "m:boom"})
    t.advance(minutes=3)
    runs = t.cron_runs("bad")
    assert [(iso(r["time"]), r["outcome"]) for r in runs] == [
        ("2030-01-01T00:01:00Z", "failed"), ("2030-01-01T00:02:00Z", "failed"), ("2030-01-01T00:03:00Z", "failed"),
    ]
    assert all("boom" in r["error"] for r in runs)


def test_a_runtime_cron_run_still_going_skips_the_next(t):
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "slow", "fn": "m:slow", "args": {"seconds": 90}})
    t.advance(minutes=5)
    t.finish_in_progress_scheduled_functions()
    runs = sorted(t.cron_runs("slow"), key=lambda r: r["scheduledTime"])
    assert [(iso(r["scheduledTime"])[11:16], r["outcome"], iso(r["completedTime"])[11:19]) for r in runs] == [
        ("00:01", "success", "00:02:30"),
        ("00:02", "skipped", "00:02:00"),
        ("00:03", "success", "00:04:30"),
        ("00:04", "skipped", "00:04:00"),
        ("00:05", "success", "00:06:30"),
        ("00:06", "skipped", "00:06:00"),  # due while settling the 00:05 run
    ]


def test_runtime_cron_runs_are_not_scheduled_functions_and_are_in_the_timeline(t):
    t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "sync"})
    t.advance(minutes=3)
    assert t.scheduled_functions() == []
    entries = [(e["source"], e.get("name"), iso(e["time"])) for e in t.timeline()]
    assert entries == [("cron", "sync", f"2030-01-01T00:0{m}:00Z") for m in (1, 2, 3)]


def test_runtime_rows_are_visible_in_the_system_table(t):
    job_id = t.mutation("m:register", {"schedule": INTERVAL_MINUTE, "name": "sync"})
    row = t.run(lambda ctx: ctx.db.system.get(job_id))
    assert row["name"] == "sync" and row["paused"] is False


# --- the fixture app ----------------------------------------------------------------------------


def event_times(convex, label):
    return [iso(e["at"]) for e in convex.query("jobs:events", {"label": label})]


@pytest.mark.convex_app("fixtures/runtime_crons")
@pytest.mark.convex_time("2030-03-28T00:00:00Z")  # a Thursday, before Paris's summer time
def test_runtime_crons_fixture_end_to_end(convex):
    heartbeat = convex.mutation("schedules:start_heartbeat")
    report = convex.mutation("schedules:start_morning_report", {"tz": "Europe/Paris"})
    assert [c["name"] for c in convex.query("schedules:list_all")] == ["heartbeat", "morning report"]
    assert convex.query("schedules:get_by_id", {"id": report})["schedule"] == {
        "kind": "cron", "cronspec": "0 9 * * 1-5", "tz": "Europe/Paris"}

    convex.advance(minutes=3)
    assert event_times(convex, "heartbeat") == ["2030-03-28T00:01:00Z", "2030-03-28T00:02:00Z",
                                               "2030-03-28T00:03:00Z"]
    convex.mutation("schedules:pause", {"name": "heartbeat"})
    convex.advance(hours=1)
    assert len(event_times(convex, "heartbeat")) == 3
    convex.mutation("schedules:resume", {"name": "heartbeat"})  # at 01:03
    convex.advance(minutes=2)
    assert event_times(convex, "heartbeat")[3:] == ["2030-03-28T01:04:00Z", "2030-03-28T01:05:00Z"]
    convex.mutation("schedules:remove", {"name": "heartbeat"})
    assert convex.query("schedules:get_by_id", {"id": heartbeat}) is None

    convex.advance_to("2030-04-03T00:00:00Z")
    assert len(event_times(convex, "heartbeat")) == 5
    # Weekdays at 09:00 Paris: Thu 28 and Fri 29 at 08:00Z (winter), Mon 1 and Tue 2 April at 07:00Z (summer).
    assert event_times(convex, "morning report") == [
        "2030-03-28T08:00:00Z", "2030-03-29T08:00:00Z", "2030-04-01T07:00:00Z", "2030-04-02T07:00:00Z"]
    assert {r["kind"] for r in convex.cron_runs("morning report")} == {"action"}

    with pytest.raises(ConvexError):
        convex.mutation("schedules:register_then_fail", {"name": "ghost"})
    assert [c["name"] for c in convex.query("schedules:list_all")] == ["morning report"]
    convex.advance(minutes=1)
    assert convex.cron_runs("ghost") == []
    assert convex.scheduled_functions() == []


@pytest.mark.convex_app("fixtures/runtime_crons")
@pytest.mark.convex_time(T0)
def test_runtime_crons_fixture_errors(convex):
    convex.mutation("schedules:start_heartbeat")
    with pytest.raises(CronDefinitionError, match='Cron with name "heartbeat" already exists'):
        convex.mutation("schedules:start_heartbeat")
    with pytest.raises(CronNotFoundError, match='Cron "nope" not found'):
        convex.mutation("schedules:pause", {"name": "nope"})
    with pytest.raises(CronDefinitionError, match="Interval must be >= 1000ms"):
        convex.mutation("schedules:register", {"schedule": {"kind": "interval", "ms": 500}, "label": "x"})
    with pytest.raises(CronDefinitionError, match="Invalid cronspec: 0 9"):
        convex.mutation("schedules:register", {"schedule": {"kind": "cron", "cronspec": "0 9"}, "label": "x"})
    convex.mutation("schedules:register", {"name": "seconds", "schedule": {"kind": "cron",
                                                                             "cronspec": "*/20 * * * * *"},
                                           "label": "seconds"})
    convex.advance(minutes=1)
    assert event_times(convex, "seconds") == ["2030-01-01T00:00:20Z", "2030-01-01T00:00:40Z", "2030-01-01T00:01:00Z"]
    assert event_times(convex, "heartbeat") == ["2030-01-01T00:01:00Z"]
