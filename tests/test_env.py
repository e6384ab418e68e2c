"""Environment variables: `from convex_py import env` reads the running deployment's variables
(`ConvexEmulator(env=...)`, `t.set_env`, the `convex_env` marker, `--env-file`), each emulator its own."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

from convex_py import action, env, internal_mutation, mutation, query
from convex_py.errors import EnvironmentVariableError, MissingEnvironmentVariableError
from emulator import ConvexEmulator

pytest_plugins = ["pytester"]

START = "2030-01-01T00:00:00Z"
ROOT = Path(__file__).resolve().parents[1]


@query
def read(ctx, args):
    return {"key": env.get("API_KEY"), "missing": env.get("NOPE"), "has": "API_KEY" in env}


@query
def strict(ctx, args):
    return env[args["name"]]


@mutation
async def read_async(ctx, args):
    ctx.db.insert("seen", {"key": env["API_KEY"]})
    return env["API_KEY"]


@action
async def read_in_action(ctx, args):
    return [env["API_KEY"], await ctx.run_query(read, {})]


@internal_mutation
def scheduled(ctx, args):
    ctx.db.insert("seen", {"key": env.get("API_KEY")})


@mutation
def schedule(ctx, args):
    ctx.scheduler.run_after(1000, scheduled, {})


MODULES = {"e": {"read": read, "strict": strict, "read_async": read_async, "read_in_action": read_in_action,
                 "scheduled": scheduled, "schedule": schedule}}


def make(env_vars=None) -> ConvexEmulator:
    return ConvexEmulator(modules=MODULES, start_time=START, env=env_vars)


def test_functions_read_their_deployment_variables() -> None:
    t = make({"API_KEY": "k1"})
    assert t.query("e:read") == {"key": "k1", "missing": None, "has": True}
    assert t.mutation("e:read_async") == "k1"
    assert t.action("e:read_in_action") == ["k1", {"key": "k1", "missing": None, "has": True}]
    assert t.query(lambda ctx: dict(env)) == {
        "API_KEY": "k1",
        "CONVEX_CLOUD_URL": "http://127.0.0.1:3210",
        "CONVEX_SITE_URL": "http://127.0.0.1:3211",
    }


def test_a_missing_variable_is_none_or_a_key_error_naming_it() -> None:
    t = make()
    assert t.query("e:read") == {"key": None, "missing": None, "has": False}
    with pytest.raises(KeyError) as caught:
        t.query("e:strict", {"name": "STRIPE_SECRET"})
    assert isinstance(caught.value, MissingEnvironmentVariableError)
    assert caught.value.name == "STRIPE_SECRET"
    assert str(caught.value).startswith("Environment variable 'STRIPE_SECRET' is not set in this deployment")


def test_set_env_changes_what_the_next_call_reads_and_none_removes() -> None:
    t = make({"API_KEY": "old"})
    t.set_env("API_KEY", "new")
    t.set_env("OTHER", "x")
    assert t.query("e:read")["key"] == "new"
    assert t.env["OTHER"] == "x"
    t.set_env("API_KEY", None)
    assert t.query("e:read")["key"] is None
    with pytest.raises(TypeError):
        t.env["API_KEY"] = "nope"  # type: ignore[index]


def test_scheduled_functions_read_the_variables_when_they_run() -> None:
    t = make({"API_KEY": "at-schedule"})
    t.mutation("e:schedule")
    t.set_env("API_KEY", "at-run")
    t.advance(seconds=1)
    assert t.run(lambda ctx: [d["key"] for d in ctx.db.query("seen").collect()]) == ["at-run"]


def test_two_emulators_in_one_process_do_not_see_each_other() -> None:
    a = make({"API_KEY": "a"})
    b = make({"API_KEY": "b"})

    def cross(ctx):  # a function of `a` that calls into `b` still reads its own deployment's after
        inner = b.query("e:read")["key"]
        return [env["API_KEY"], inner, env["API_KEY"]]

    assert a.query(cross) == ["a", "b", "a"]
    assert b.query("e:read")["key"] == "b"
    assert env.get("API_KEY") is None  # outside any deployment: nothing
    assert len(env) == 0


def test_env_is_read_only_in_functions() -> None:
    t = make({"API_KEY": "k"})

    def write(ctx):
        env["API_KEY"] = "changed"

    with pytest.raises(TypeError, match="read-only"):
        t.run(write)


def test_modules_reading_env_as_they_load_see_their_deployment(tmp_path: Path) -> None:
    app = tmp_path / "app" / "convex"
    app.mkdir(parents=True)
    (app / "config.py").write_text(textwrap.dedent('''
        from convex_py import env, query

        REGION = env.get("REGION", "unset")

        @query
        def region(ctx, args):
            return REGION
    '''))
    assert ConvexEmulator(app.parent, env={"REGION": "eu"}).query("config:region") == "eu"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"1ABC": "x"}, "The environment variable name 1ABC is invalid. Environment variable names must begin "
                        "with a letter and may only include characters a-z, A-Z, 0-9, and underscores."),
        ({"A" * 257: "x"}, "is too long. Environment variable names must be less than 256."),
        ({"CONVEX_SITE_URL": "x"}, 'Environment variable with name "CONVEX_SITE_URL" is built-in and cannot be '
                                   "overridden"),
        ({"A": "x" * 8193}, "The environment variable value is 8193 bytes, which is too large. (max size: 8192"),
        ({"A": 1}, "The value of environment variable A must be a string, got int: 1"),
    ],
)
def test_names_and_values_convex_refuses(variables: dict, message: str) -> None:
    with pytest.raises(EnvironmentVariableError) as caught:
        make(variables)
    assert message in str(caught.value)
    t = make()
    name, value = next(iter(variables.items()))
    with pytest.raises(EnvironmentVariableError):
        t.set_env(name, value)


# --- The pytest plugin ----------------------------------------------------------------------------


def test_convex_env_marker(pytester: pytest.Pytester) -> None:
    app = pytester.path / "myapp" / "convex"
    app.mkdir(parents=True)
    (app / "keys.py").write_text(textwrap.dedent('''
        from convex_py import env, query

        @query
        def key(ctx, args):
            return env.get("API_KEY")
    '''))
    pytester.makepyfile(textwrap.dedent('''
        import pytest
        from convex_py import env

        pytestmark = [pytest.mark.convex_app("myapp"), pytest.mark.convex_env(API_KEY="module", REGION="eu")]

        @pytest.mark.convex_env({"API_KEY": "test"})
        def test_closest_marker_wins(convex):
            assert convex.query("keys:key") == "test"
            assert env["REGION"] == "eu"  # the test itself reads the fixture's deployment

        def test_module_marker(convex):
            assert convex.query("keys:key") == "module"
            convex.set_env("API_KEY", "changed")
            assert convex.query("keys:key") == env["API_KEY"] == "changed"

        def test_no_fixture_no_env():
            assert env.get("API_KEY") is None
    '''))
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark")
    result.assert_outcomes(passed=3)


# --- The command line --------------------------------------------------------------------------------


def _command() -> list[str]:
    script = shutil.which("convex-py")
    return [script] if script else [sys.executable, "-m", "emulator.cli"]


ENV_APP = '''
from convex_py import env, query

@query
def key(ctx, args):
    return {"key": env.get("API_KEY"), "quoted": env.get("QUOTED"), "site": env["CONVEX_SITE_URL"]}
'''


def test_run_and_dev_read_an_env_file(tmp_path: Path) -> None:
    app = tmp_path / "app" / "convex"
    app.mkdir(parents=True)
    (app / "k.py").write_text(ENV_APP)
    env_file = tmp_path / ".env"
    env_file.write_text('# secrets\nexport API_KEY=abc123  # inline comment\n\nQUOTED="two\\nlines"\n')
    result = subprocess.run([*_command(), "run", str(app.parent), "k:key", "--env-file", str(env_file)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "key": "abc123", "quoted": "two\nlines", "site": "http://127.0.0.1:3211"}

    process = subprocess.Popen([*_command(), "dev", str(app.parent), "--port", "0", "--env-file", str(env_file)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = line.split(" at ", 1)[1].split()[0]
        request = urllib.request.Request(url + "/api/query", data=json.dumps({"path": "k:key", "args": {}}).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        assert body["status"] == "success"
        assert body["value"]["key"] == "abc123" and body["value"]["quoted"] == "two\nlines"
        site = line.split("HTTP actions at ", 1)[1].split()[0].rstrip(".")
        assert site != "http://127.0.0.1:3211" and body["value"]["site"] == site  # the port --port 0 picked
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()


def test_a_bad_env_file_is_one_line_of_error(tmp_path: Path) -> None:
    bad = tmp_path / ".env"
    bad.write_text("API_KEY=ok\nnot a line\n")
    for command in (["dev", str(ROOT / "fixtures" / "orders"), "--port", "0"], ["run", str(ROOT / "fixtures" / "orders"),
                                                                                  "orders:list_orders"]):
        result = subprocess.run([*_command(), *command, "--env-file", str(bad)], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"convex-py {command[0]}: error: {bad}, line 2: expected NAME=value, got 'not a line'"]
    result = subprocess.run([*_command(), "run", str(ROOT / "fixtures" / "orders"), "x:y", "--env-file",
                             str(tmp_path / "missing.env")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "cannot read env file" in result.stderr and "Traceback" not in result.stderr
