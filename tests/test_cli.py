"""The `convex-py` console script, run as a subprocess: each command and each user mistake."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDERS = str(ROOT / "fixtures" / "orders")
START = "2030-01-01T00:00:00Z"


def convex_py(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    script = shutil.which("convex-py")
    command = [script] if script else [sys.executable, "-m", "emulator.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def assert_user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_version() -> None:
    result = convex_py("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == "convex-py 0.1.0"


def test_run_prints_the_result_as_json_on_the_last_line() -> None:
    result = convex_py("run", ORDERS, "orders:create_order", '{"items": ["book"]}', "--start", START)
    assert result.returncode == 0, result.stderr
    order_id = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(order_id, str) and len(order_id) == 32


def test_run_a_query_with_an_identity() -> None:
    result = convex_py("run", ORDERS, "orders:my_orders", "--identity", '{"subject": "u1"}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_run_an_internal_function_is_allowed() -> None:
    result = convex_py("run", ORDERS, "emails:send_confirmation", '{"orderId": "' + "0" * 32 + '"}')
    # An id of no table is refused by the validator, which names the function: internal was reachable.
    assert_user_error(result, "emails:send_confirmation", "ArgumentValidationError")


def test_run_without_args_means_empty_object() -> None:
    result = convex_py("run", ORDERS, "orders:my_orders")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_convex_error_reaches_the_user_with_its_data() -> None:
    result = convex_py("run", ORDERS, "orders:create_order", '{"items": []}')
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'convex-py run: ConvexError: {"code": "EMPTY_ORDER", "message": "An order needs at least one item"}'
    )


def test_missing_app_folder() -> None:
    assert_user_error(convex_py("run", "no/such/app", "orders:get", "{}"), "App folder 'no/such/app' does not exist")


def test_unknown_function() -> None:
    assert_user_error(convex_py("run", ORDERS, "orders:nope", "{}"), "orders:nope", "Functions in orders:")


def test_arguments_that_fail_validation() -> None:
    assert_user_error(
        convex_py("run", ORDERS, "orders:create_order", '{"items": [1]}'),
        "ArgumentValidationError", "Path: .items[0]", "Function: orders:create_order",
    )


def test_bad_json() -> None:
    assert_user_error(convex_py("run", ORDERS, "orders:create_order", "{bad"), "ARGS_JSON is not valid JSON")


def test_json_that_is_not_an_object() -> None:
    assert_user_error(convex_py("run", ORDERS, "orders:create_order", "[1]"), "must be a JSON object")


@pytest.fixture
def broken_app(tmp_path: Path) -> Path:
    folder = tmp_path / "broken" / "convex"
    folder.mkdir(parents=True)
    (folder / "ok.py").write_text("from convex_py import query\n\n@query\ndef f(ctx, args):\n    return 1\n")
    (folder / "bad.py").write_text(textwrap.dedent("""\
        from convex_py import query

        x = 1
        raise RuntimeError("config missing")
    """))
    return folder.parent


def test_an_app_that_fails_to_import_names_module_and_line(broken_app: Path) -> None:
    assert_user_error(
        convex_py("run", str(broken_app), "ok:f"),
        "convex/bad.py, line 4", "RuntimeError: config missing",
    )


def test_debug_shows_the_traceback(broken_app: Path) -> None:
    result = convex_py("--debug", "run", str(broken_app), "ok:f")
    assert result.returncode == 2
    assert "Traceback" in result.stderr


def test_simulate_prints_a_timeline_and_a_summary() -> None:
    result = convex_py(
        "simulate", ORDERS, "--for", "7d", "--start", START, "--call", 'orders:create_order {"items": ["book"]}'
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "2030-01-01 00:00:00.000Z -> 2030-01-08 00:00:00.000Z"
    assert lines[1].split() == ["2030-01-01", "00:00:00.000Z", "orders:create_order", "call", "mutation", "success"]
    assert lines[2].split() == ["2030-01-01", "00:00:00.000Z", "emails:send_confirmation", "scheduled", "mutation",
                                "success"]
    assert lines[3].split() == ["2030-01-08", "00:00:00.000Z", "orders:archive_order", "scheduled", "mutation",
                                "success"]
    assert lines[4] == "3 executions: 3 success"


def test_simulate_stops_short_of_the_end_of_the_window() -> None:
    result = convex_py(
        "simulate", ORDERS, "--for", "6d23h59m59s", "--start", START, "--call", 'orders:create_order {"items": ["a"]}'
    )
    assert result.returncode == 0, result.stderr
    assert "orders:archive_order" not in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "2 executions: 2 success"


def test_simulate_json() -> None:
    result = convex_py(
        "simulate", ORDERS, "--for", "36h", "--start", START, "--json",
        "--call", 'orders:create_order {"items": ["a"]}', "--call", 'orders:create_order {"items": []}',
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["start"] == "2030-01-01 00:00:00.000Z"
    assert report["end"] == "2030-01-02 12:00:00.000Z"
    assert [(e["function"], e["source"], e["outcome"]) for e in report["executions"]] == [
        ("orders:create_order", "call", "success"),
        ("orders:create_order", "call", "failed"),
        ("emails:send_confirmation", "scheduled", "success"),
    ]
    assert "EMPTY_ORDER" in report["executions"][1]["error"]
    assert report["summary"] == {"success": 2, "failed": 1}


def test_simulate_reads_the_virtual_time_inside_functions() -> None:
    result = convex_py(
        "simulate", ORDERS, "--for", "90m", "--start", START, "--json", "--call", 'orders:create_order {"items": ["a"]}',
    )
    assert result.returncode == 0, result.stderr
    run = convex_py("run", ORDERS, "orders:by_status", '{"status": "confirmed"}', "--start", START)
    assert run.returncode == 0  # a fresh app: nothing persisted between commands
    assert json.loads(run.stdout) == []


@pytest.mark.parametrize("duration", ["7x", "", "d7", "7 days"])
def test_simulate_bad_duration(duration: str) -> None:
    assert_user_error(convex_py("simulate", ORDERS, "--for", duration), "bad duration")


def test_simulate_bad_call_json() -> None:
    assert_user_error(
        convex_py("simulate", ORDERS, "--for", "1d", "--call", "orders:create_order {oops"), "is not valid JSON"
    )


def test_simulate_unknown_function_in_a_call() -> None:
    assert_user_error(convex_py("simulate", ORDERS, "--for", "1d", "--call", "orders:nope {}"), "orders:nope")


def test_simulate_bad_start_time() -> None:
    assert_user_error(convex_py("simulate", ORDERS, "--for", "1d", "--start", "yesterday"), "not an ISO-8601 time")


def test_simulate_missing_app() -> None:
    assert_user_error(convex_py("simulate", "nowhere", "--for", "1d"), "does not exist")


def test_dev_prints_its_start_up_line_and_stops_on_ctrl_c() -> None:
    import signal

    script = shutil.which("convex-py")
    command = [script] if script else [sys.executable, "-m", "emulator.cli"]
    process = subprocess.Popen([*command, "dev", ORDERS, "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(f"convex-py dev: serving {ORDERS} at http://127.0.0.1:")
        assert "(6 functions, 4 public; 0 crons; state in memory)" in line
        assert "Auth tokens are NOT verified" in line
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
        assert process.returncode == 0
        assert "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()


def test_dev_port_in_use_is_a_user_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_user_error(convex_py("dev", ORDERS, "--port", str(port)), f"cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize("options, fragment", [
    (["--port", "99999"], "--port 99999: expected a port number from 0 (pick a free one) to 65535"),
    (["--port", "0", "--site-port", "-1"], "--site-port -1: expected a port number from 0"),
    (["--port", "65535"], "--port 65535 leaves no port for HTTP actions (--port + 1): give --site-port too"),
])
def test_dev_port_out_of_range_is_a_user_error(options: list[str], fragment: str) -> None:
    assert_user_error(convex_py("dev", ORDERS, *options), fragment)
