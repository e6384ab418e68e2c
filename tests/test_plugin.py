pytest_plugins = ["pytester"]

"""The pytest plugin: the `convex` fixture, its markers and ini options, the held wall clock, the report.

Every test runs once per wall-clock backend (time-machine, the default, and freezegun).
"""

import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDERS = str(ROOT / "fixtures" / "orders")
REMINDERS = str(ROOT / "fixtures" / "reminders")
T0 = 1893456000000.0  # 2030-01-01T00:00:00Z

SLEEPY_APP = '''
import asyncio
import time

from convex_py import action, internal, internal_action, mutation, query


@action
async def slow(ctx, args):
    before = time.time()
    await asyncio.sleep(0.02)
    await asyncio.wait_for(asyncio.sleep(0.01), timeout=5)
    return {"before": before * 1000, "after": time.time() * 1000}


@internal_action
async def slow_scheduled(ctx, args):
    await asyncio.sleep(0.01)
    await ctx.run_mutation(internal.sleepy.note, {"at": time.time() * 1000})


@mutation
def start(ctx, args):
    ctx.scheduler.run_after(args["delay"], internal.sleepy.slow_scheduled)


@mutation
def note(ctx, args):
    ctx.db.insert("notes", {"at": args["at"]})


@query
def notes(ctx, args):
    return [n["at"] for n in ctx.db.query("notes").collect()]
'''


# Plugins the inner runs do not need (hypothesis's alone costs a second per run).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark")


@pytest.fixture(params=["time-machine", "freezegun"])
def wall_clock(request):
    """The backend the inner runs select with the `convex_wall_clock` ini option."""
    return request.param


def ini(pytester, wall_clock, app=None):
    lines = ["[pytest]", f"convex_wall_clock = {wall_clock}"]
    if app is not None:
        lines.append(f"convex_app = {app}")
    pytester.makeini("\n".join(lines) + "\n")


def run(pytester, *args, subprocess=False):
    if subprocess:
        return pytester.runpytest_subprocess(*QUIET, *args)
    return pytester.runpytest(*QUIET, *args)


def write_app(pytester, name="myapp", module="sleepy", source=SLEEPY_APP):
    folder = pytester.path / name / "convex"
    folder.mkdir(parents=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(source))
    return folder.parent


def test_ini_option_names_the_app(pytester, wall_clock):
    ini(pytester, wall_clock, ORDERS)
    pytester.makepyfile(
        """
        from convex_py import api

        def test_order(convex):
            order_id = convex.mutation(api.orders.create_order, {"items": ["a"]})
            convex.advance(days=7)
            assert convex.query(api.orders.get, {"orderId": order_id})["status"] == "archived"
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_ini_option_relative_to_the_rootdir(pytester, wall_clock):
    write_app(pytester)
    ini(pytester, wall_clock, "myapp")
    pytester.makepyfile(
        """
        from convex_py import api

        def test_relative(convex):
            convex.mutation(api.sleepy.note, {"at": 1})
            assert convex.query(api.sleepy.notes) == [1]
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_pyproject_ini_option(pytester, wall_clock):
    pytester.makepyprojecttoml(
        f'[tool.pytest.ini_options]\nconvex_app = "{ORDERS}"\nconvex_wall_clock = "{wall_clock}"\n'
    )
    pytester.makepyfile(
        """
        from convex_py import api

        def test_order(convex):
            convex.mutation(api.orders.create_order, {"items": ["a"]})
            assert len(convex.scheduled_functions()) == 2
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_marker_names_the_app_and_wins_over_the_ini_option(pytester, wall_clock):
    ini(pytester, wall_clock, ORDERS)
    pytester.makepyfile(
        f"""
        import pytest
        from convex_py import api

        @pytest.mark.convex_app({REMINDERS!r})
        def test_reminders(convex):
            convex.mutation(api.reminders.create, {{"text": "hi", "delayMs": 1000}})
            convex.advance(1000)
            assert [n["text"] for n in convex.query(api.reminders.notifications)] == ["hi"]

        pytestmark = pytest.mark.convex_app({ORDERS!r})

        def test_module_marker(convex):
            convex.mutation(api.orders.create_order, {{"items": ["a"]}})
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_markers_are_registered(pytester, wall_clock):
    ini(pytester, wall_clock)
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.convex_app({ORDERS!r})
        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        @pytest.mark.convex_wall_clock("time-machine")
        def test_ok(convex):
            pass
        """
    )
    result = run(pytester, "--strict-markers")
    result.assert_outcomes(passed=1)
    markers = run(pytester, "--markers")
    markers.stdout.fnmatch_lines(["*convex_app(path)*", "*convex_time(when)*", "*convex_wall_clock(name)*"])


def test_clear_error_when_no_app_is_configured(pytester, wall_clock):
    ini(pytester, wall_clock)
    pytester.makepyfile(
        """
        def test_needs_app(convex):
            pass
        """
    )
    result = run(pytester)
    assert result.ret != 0
    assert result.parseoutcomes().get("passed", 0) == 0
    result.stdout.fnmatch_lines(["*The `convex` fixture needs an app*@pytest.mark.convex_app*convex_app*"])


def test_clear_error_when_the_app_folder_does_not_exist(pytester, wall_clock):
    ini(pytester, wall_clock)
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.convex_app("no/such/app")
        def test_missing(convex):
            pass
        """
    )
    result = run(pytester)
    assert result.ret != 0
    assert result.parseoutcomes().get("passed", 0) == 0
    result.stdout.fnmatch_lines(["*no/such/app*not found*"])


def test_convex_time_sets_the_start(pytester, wall_clock):
    ini(pytester, wall_clock, ORDERS)
    real_now = time.time()  # this process's clock is not held
    pytester.makepyfile(
        f"""
        import time
        from datetime import datetime, timedelta, timezone

        import pytest

        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        def test_iso(convex):
            assert convex.now == 1893456000000.0
            assert time.time() == 1893456000.0

        @pytest.mark.convex_time(datetime(2031, 6, 1, 12, tzinfo=timezone(timedelta(hours=2))))
        def test_datetime(convex):
            assert datetime.now(timezone.utc) == datetime(2031, 6, 1, 10, tzinfo=timezone.utc)
            assert convex.now == datetime(2031, 6, 1, 10, tzinfo=timezone.utc).timestamp() * 1000

        @pytest.mark.convex_time(1893456000000 + 1234)
        def test_ms(convex):
            assert convex.now == 1893456001234
            assert round(time.time() * 1000) == 1893456001234

        def test_default_is_the_real_time(convex):
            assert abs(convex.now / 1000 - {real_now}) < 60
            assert time.time() * 1000 == convex.now
        """
    )
    run(pytester).assert_outcomes(passed=4)


def test_each_test_gets_a_fresh_emulator(pytester, wall_clock):
    ini(pytester, wall_clock, ORDERS)
    pytester.makepyfile(
        """
        import pytest
        from convex_py import api

        pytestmark = pytest.mark.convex_time("2030-01-01T00:00:00Z")

        def test_writes(convex):
            convex.mutation(api.orders.create_order, {"items": ["a"]})
            convex.advance(days=1)
            assert len(convex.query(api.orders.by_status, {"status": "confirmed"})) == 1

        def test_sees_nothing(convex):
            assert convex.query(api.orders.by_status, {"status": "confirmed"}) == []
            assert convex.query(api.orders.by_status, {"status": "new"}) == []
            assert convex.scheduled_functions() == []
            assert convex.timeline() == []
            assert convex.now == 1893456000000.0

        def test_writes_again(convex):
            convex.mutation(api.orders.create_order, {"items": ["b"]})
            assert [o["items"] for o in convex.query(api.orders.by_status, {"status": "new"})] == [["b"]]
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_wall_clock_is_the_virtual_clock_in_the_test_and_in_functions(pytester, wall_clock):
    ini(pytester, wall_clock, ORDERS)
    pytester.makepyfile(
        """
        import time
        from datetime import datetime, timezone

        import pytest
        from convex_py import api

        T0 = 1893456000000.0

        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        def test_clock(convex):
            assert time.time() * 1000 == convex.now == T0
            assert datetime.now(timezone.utc) == datetime(2030, 1, 1, tzinfo=timezone.utc)
            convex.advance(hours=1, minutes=30)
            assert time.time() * 1000 == convex.now == T0 + 90 * 60 * 1000
            assert datetime.now(timezone.utc) == datetime(2030, 1, 1, 1, 30, tzinfo=timezone.utc)
            order_id = convex.mutation(api.orders.create_order, {"items": ["a"]})
            convex.advance_to(datetime(2030, 1, 2, tzinfo=timezone.utc))
            assert time.time() * 1000 == convex.now == T0 + 24 * 3600 * 1000
            [email] = convex.run(lambda ctx: ctx.db.query("emails").collect())
            assert email["sentAt"] == T0 + 90 * 60 * 1000  # time.time() inside the scheduled function
            seen = convex.run(lambda ctx: (time.time() * 1000, datetime.now(timezone.utc)))
            assert seen == (convex.now, datetime(2030, 1, 2, tzinfo=timezone.utc))
            convex.finish_all_scheduled_functions()
            assert time.time() * 1000 == convex.now == T0 + 90 * 60 * 1000 + 7 * 24 * 3600 * 1000
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_wall_clock_is_real_again_after_the_test(pytester, wall_clock):
    ini(pytester, wall_clock, ORDERS)
    real_now = time.time()  # this process's clock is not held
    pytester.makepyfile(
        f"""
        import time
        from datetime import datetime, timezone

        import pytest

        @pytest.mark.convex_time("2035-01-01T00:00:00Z")
        def test_frozen(convex):
            convex.advance(days=3)
            assert datetime.now(timezone.utc).year == 2035

        @pytest.mark.convex_time("2035-01-01T00:00:00Z")
        def test_frozen_and_failing(convex):
            convex.advance(days=3)
            raise AssertionError("fails while frozen")

        def test_real():
            import datetime as dt
            import time_machine
            assert not time_machine.escape_hatch.is_travelling()
            assert dt.datetime.__name__ == "datetime"  # not freezegun's FakeDatetime
            assert abs(time.time() - {real_now}) < 60
            assert datetime.now(timezone.utc).year < 2035
            first = time.time()
            time.sleep(0.01)
            assert time.time() > first
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=2, failed=1)


def test_async_action_with_asyncio_sleep(pytester, wall_clock):
    write_app(pytester)
    ini(pytester, wall_clock, "myapp")
    pytester.makepyfile(
        """
        import pytest
        from convex_py import api

        T0 = 1893456000000.0

        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        def test_direct(convex):
            result = convex.action(api.sleepy.slow)
            assert result == {"before": T0, "after": T0}

        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        def test_scheduled(convex):
            # A scheduled action's asyncio.sleep(0.01) takes 10 ms of virtual time.
            convex.mutation(api.sleepy.start, {"delay": 5000})
            convex.advance(seconds=5)
            [job] = convex.scheduled_functions()
            assert job["state"] == {"kind": "inProgress"}
            assert convex.query(api.sleepy.notes) == []
            convex.advance(ms=10)
            assert convex.query(api.sleepy.notes) == [T0 + 5010]
            [job] = convex.scheduled_functions()
            assert job["state"] == {"kind": "success"}
            assert job["completedTime"] == T0 + 5010
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_failing_test_report_shows_the_convex_timeline(pytester, wall_clock):
    ini(pytester, wall_clock, ORDERS)
    pytester.makepyfile(
        """
        import pytest
        from convex_py import api, internal

        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        def test_fails(convex):
            order_id = convex.mutation(api.orders.create_order, {"items": ["a"]})
            convex.run(lambda ctx: ctx.scheduler.run_after(1000, internal.orders.archive_order, {"orderId": "bad"}))
            convex.advance(days=7)
            assert convex.query(api.orders.get, {"orderId": order_id})["status"] == "confirmed"

        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        def test_passes(convex):
            convex.mutation(api.orders.create_order, {"items": ["a"]})
            convex.advance(days=7)
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- convex timeline -*",
            "2030-01-01 00:00:00.000Z*emails:send_confirmation*success*",
            "2030-01-01 00:00:01.000Z*orders:archive_order*failed*",
            "2030-01-08 00:00:00.000Z*orders:archive_order*success*",
            "virtual time now: 2030-01-08 00:00:00.000Z",
        ]
    )
    assert result.stdout.str().count("convex timeline") == 1  # only for the failing test


def test_runs_under_xdist(pytester, wall_clock):
    ini(pytester, wall_clock, ORDERS)
    pytester.makepyfile(
        """
        import time

        import pytest
        from convex_py import api

        @pytest.mark.parametrize("n", range(6))
        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        def test_order(convex, n):
            for _ in range(n):
                convex.mutation(api.orders.create_order, {"items": [str(n)]})
            assert len(convex.scheduled_functions()) == 2 * n
            convex.advance(days=7)
            assert len(convex.query(api.orders.by_status, {"status": "archived"})) == n
            assert time.time() * 1000 == convex.now == 1893456000000.0 + 7 * 24 * 3600 * 1000
        """
    )
    result = run(pytester, "-n", "2", subprocess=True)
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*2 workers*"])


def test_durations_report_stays_real(pytester, wall_clock):
    """pytest's own timing must not be frozen: --durations of a test using `convex` stays sane."""
    ini(pytester, wall_clock, ORDERS)
    pytester.makepyfile(
        """
        import pytest
        from convex_py import api

        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        def test_week(convex):
            convex.mutation(api.orders.create_order, {"items": ["a"]})
            convex.advance(days=7)
        """
    )
    result = run(pytester, "--durations=0", "-vv")
    result.assert_outcomes(passed=1)
    import re

    durations = [float(m) for m in re.findall(r"^([0-9.]+)s (?:setup|call|teardown)", result.stdout.str(), re.M)]
    assert all(d < 60 for d in durations), result.stdout.str()


def test_the_ini_option_and_the_marker_choose_the_wall_clock(pytester):
    pytester.makeini(f"[pytest]\nconvex_app = {ORDERS}\nconvex_wall_clock = freezegun\n")
    pytester.makepyfile(
        """
        import datetime as dt
        import time

        import pytest
        import time_machine

        def held_by():
            if dt.datetime.__name__ == "FakeDatetime":
                return "freezegun"
            return "time-machine" if time_machine.escape_hatch.is_travelling() else None

        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        def test_ini(convex):
            assert held_by() == "freezegun"
            assert time.time() == 1893456000.0

        @pytest.mark.convex_time("2030-01-01T00:00:00Z")
        @pytest.mark.convex_wall_clock("time-machine")
        def test_marker(convex):
            assert held_by() == "time-machine"
            convex.advance(seconds=1)
            assert time.time() == 1893456001.0

        def test_none():
            assert held_by() is None
        """
    )
    run(pytester).assert_outcomes(passed=3)


def test_an_unknown_wall_clock_is_a_usage_error(pytester):
    pytester.makeini(f"[pytest]\nconvex_app = {ORDERS}\nconvex_wall_clock = arrow\n")
    pytester.makepyfile(
        """
        import pytest

        def test_ini(convex):
            pass

        @pytest.mark.convex_wall_clock("freezegun", "time-machine")
        def test_marker(convex):
            pass
        """
    )
    result = run(pytester)
    assert result.parseoutcomes().get("passed", 0) == 0
    result.stdout.fnmatch_lines([
        "*the convex_wall_clock ini option: unknown wall clock 'arrow'; expected one of: time-machine, freezegun*",
        "*@pytest.mark.convex_wall_clock needs one of time-machine, freezegun*",
    ])


def test_naive_wall_clock_reads_utc_whatever_the_local_zone(pytester, wall_clock, monkeypatch):
    # Convex's functions run in UTC: `new Date().getHours()` is the UTC hour.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        ini(pytester, wall_clock, ORDERS)
        pytester.makepyfile(
            """
            import time
            from datetime import datetime

            import pytest

            @pytest.mark.convex_time("2030-01-01T09:30:00Z")
            def test_naive(convex):
                assert datetime.now() == datetime(2030, 1, 1, 9, 30)
                assert convex.run(lambda ctx: datetime.now().hour) == 9
            """
        )
        run(pytester).assert_outcomes(passed=1)
        assert time.localtime(T0 / 1000).tm_hour == 19  # the zone is the real one again after the test
    finally:
        monkeypatch.undo()
        time.tzset()


FAILING_APP = '''
from convex_py import ConvexError, mutation, v


@mutation(args={"n": v.number()})
def add(ctx, args):
    ctx.db.insert("things", {"n": args["n"]})
    if args["n"] < 0:
        raise ConvexError("negative")  # the app's line


@mutation
async def bad_insert(ctx, args):
    await ctx.db.insert("things", {"n": object()})  # the app's bad write
'''


def test_failures_point_at_the_users_lines_and_keep_the_timeline(pytester, wall_clock):
    write_app(pytester, module="things", source=FAILING_APP)
    ini(pytester, wall_clock, "myapp")
    pytester.makepyfile(
        test_lines="""
        from convex_py import api
        from emulator import ConvexEmulator

        def test_app_raises(convex):
            convex.mutation(api.things.add, {"n": -1})  # the test's line

        def test_bad_args(convex):
            convex.mutation(api.things.add, {"n": "x"})  # the test's bad call

        def test_bad_write(convex):
            convex.mutation(api.things.bad_insert)

        def test_without_the_fixture():
            ConvexEmulator("myapp").mutation(api.things.add, {"n": -2})  # a direct emulator
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    for internal in ("emulator/runtime.py", "emulator/_emulator.py", "emulator/context.py", "emulator/store.py",
                     "convex_py/_values.py", "emulator/pytest_plugin.py"):
        assert internal not in out, internal
    result.stdout.fnmatch_lines([
        "*_ test_app_raises _*",
        ">       convex.mutation(api.things.add, {\"n\": -1})  # the test's line",
        "test_lines.py:5: ",
        ">           raise ConvexError(\"negative\")  # the app's line",
        "E           convex_py.errors.ConvexError: negative",
        "myapp/convex/things.py:9: ConvexError",
        "*- convex timeline -*",
        "(no scheduled function or cron has run)",
        "*_ test_bad_args _*",
        ">       convex.mutation(api.things.add, {\"n\": \"x\"})  # the test's bad call",
        "E       convex_py.errors.ArgumentValidationError: *",
        "test_lines.py:8: ArgumentValidationError",
        "*_ test_bad_write _*",
        ">       await ctx.db.insert(\"things\", {\"n\": object()})  # the app's bad write",
        "E       convex_py.errors.InvalidValueError: object * at path .n is not a supported Convex type*",
        "myapp/convex/things.py:14: InvalidValueError",
        "*_ test_without_the_fixture _*",
        "myapp/convex/things.py:9: ConvexError",
    ])
    assert out.count("- convex timeline -") == 3  # the fixture's tests
    full = run(pytester, "--full-trace", "-k", "test_app_raises")
    full.stdout.fnmatch_lines(["*emulator/runtime.py:*", "myapp/convex/things.py:9: ConvexError"])


def test_a_finished_tests_emulator_is_freed(pytester, wall_clock):
    # pytest keeps every test item to the end of the session: the emulator (and its documents) must not stay with it.
    ini(pytester, wall_clock, ORDERS)
    pytester.makepyfile(
        """
        import gc
        import weakref

        from convex_py import api

        refs = []

        def test_writes(convex):
            convex.mutation(api.orders.create_order, {"items": ["a"]})
            refs.append(weakref.ref(convex))

        def test_after():
            gc.collect()
            assert refs[0]() is None
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_the_fixture_asked_for_during_a_test_is_that_tests(pytester, wall_clock):
    # `request.getfixturevalue("convex")` in a test body, and a test that runs another pytest session
    # in-process first: each emulator is built from its own test's markers.
    ini(pytester, wall_clock)
    pytester.makepyfile(
        test_lazy=f"""
        import pytest

        pytest_plugins = ["pytester"]

        @pytest.mark.convex_app({ORDERS!r})
        @pytest.mark.convex_time(1000)
        def test_lazy(request):
            assert request.getfixturevalue("convex").now == 1000

        @pytest.mark.convex_app({ORDERS!r})
        @pytest.mark.convex_time(2000)
        def test_after_an_inner_session(request, pytester):
            pytester.makeini("[pytest]\\nconvex_wall_clock = {wall_clock}\\n")
            pytester.makepyfile(test_inner='''
                import pytest

                @pytest.mark.convex_app({REMINDERS!r})
                @pytest.mark.convex_time(5000)
                def test_inner(convex):
                    assert convex.now == 5000
            ''')
            pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark",
                               "test_inner.py").assert_outcomes(passed=1)
            convex = request.getfixturevalue("convex")
            assert convex.now == 2000
            assert "orders:create_order" in convex.app.functions
        """
    )
    run(pytester, "test_lazy.py").assert_outcomes(passed=2)


def test_a_modules_convex_time_starts_each_of_its_tests_and_a_bad_one_is_an_error(pytester, wall_clock):
    ini(pytester, wall_clock, ORDERS)
    pytester.makepyfile(
        test_times="""
        import pytest

        pytestmark = pytest.mark.convex_time("2030-01-01T00:00:00.250Z")

        @pytest.mark.parametrize("n", range(3))
        def test_start(convex, n):
            assert convex.now == 1893456000250.0
            convex.advance(1000 * n)

        @pytest.mark.convex_time("2030-02-01 12:00")  # naive: UTC
        def test_naive(convex):
            assert convex.now == 1896177600000.0

        @pytest.mark.convex_time("yesterday")
        def test_bad(convex):
            pass

        @pytest.mark.convex_time("yesterday")
        @pytest.mark.convex_env(1)
        def test_bad_env_first(convex):
            pass
        """
    )
    result = run(pytester, "test_times.py")
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines([
        "*ERROR at setup of test_bad *",
        "E   *ClockError: start_time: 'yesterday' is not an ISO-8601 time*",
        "*ERROR at setup of test_bad_env_first *",
        "E   *UsageError: @pytest.mark.convex_env takes a dict*",
    ])


def test_the_fixture_without_the_plugin_says_how_to_enable_it(pytester):
    # The fixture imported into a conftest while the plugin itself is disabled.
    pytester.makeconftest("from emulator.pytest_plugin import convex  # noqa: F401\n")
    pytester.makepyfile(
        test_alone=f"""
        import pytest

        @pytest.mark.convex_app({ORDERS!r})
        def test_alone(convex):
            pass
        """
    )
    result = run(pytester, "-p", "no:convex_py", "test_alone.py", subprocess=True)  # a user's own run
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs convex-py's pytest plugin*pytest_plugins = *emulator.pytest_plugin*"])
