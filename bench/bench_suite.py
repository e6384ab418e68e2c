"""What a user's test suite feels: per-test cost under pytest, side by side with convex-test under vitest.

Run: python bench/bench_suite.py [N] [REPEATS]      (default 200 3)
     CONVEX_TEST=0 python bench/bench_suite.py      (skip the JavaScript side)

Generates N tests per suite (in 2 files) on the orders app (fixtures/orders):
  plain    `assert 1 == 1`, no fixture
  fixture  the `convex` fixture only
  typical  one mutation (create_order), advance(days=1), one query (get)
and runs each suite with pytest serially and with `-n 2`; per-test ms is the
suite's wall time minus a 2-test suite's, divided by N (as the convex-test
anchor's suite.sh does for vitest, which runs the same three suites on the same
app in TypeScript). pytest runs with bytecode written (as by default, even where
PYTHONDONTWRITEBYTECODE is set): a suite run again reads its rewritten test
modules from __pycache__. The fixture and typical suites run again with
`convex_wall_clock = freezegun`.

Then the drain: one test schedules 1,000 jobs at distinct times and drains them
(each job reads time.time()) under the fixture (time-machine, freezegun) and with
a bare ConvexEmulator (no wall clock held), interleaved; best of REPEATS*5 each.
Targets (issue: fast test suites): typical >= 3x faster than convex-test's,
fixture alone <= 1 ms, the drain under the fixture within 1.5x of the bare one.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared beside the checkout (a worktree sits one level deeper); CONVEX_TEST_ANCHOR overrides.
ANCHOR = Path(os.environ.get("CONVEX_TEST_ANCHOR") or next(
    (base / "shared" / "anchors" / "convex-test" for base in ROOT.parents
     if (base / "shared" / "anchors" / "convex-test").is_dir()), ROOT.parent / "shared" / "anchors" / "convex-test"))
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
          "-p", "no:benchmark"]

HEADER = '''import pytest
from convex_py import api

pytestmark = pytest.mark.convex_time("2030-01-01T00:00:00Z")
'''

BODIES = {
    "plain": "def test_t{f}_{i}():\n    assert 1 == 1\n",
    "fixture": "def test_t{f}_{i}(convex):\n    pass\n",
    "typical": (
        "def test_t{f}_{i}(convex):\n"
        "    order_id = convex.mutation(api.orders.create_order, {{\"items\": [\"book{i}\"]}})\n"
        "    convex.advance(days=1)\n"
        "    assert convex.query(api.orders.get, {{\"orderId\": order_id}})[\"status\"] == \"confirmed\"\n"
    ),
}

DRAIN_MODULE = '''"""1,000 jobs at distinct times, each reading the wall clock."""

import time

from convex_py import internal, internal_mutation, mutation


@mutation
def plan(ctx, args):
    for i in range(args["n"]):
        ctx.scheduler.run_after(1000 * i + 1, internal.drain.tick, {})


@internal_mutation
def tick(ctx, args):
    ctx.db.insert("ticks", {"at": time.time() * 1000})
'''

DRAIN_TESTS = '''import json
import os
import time

import pytest
from convex_py import api
from emulator import ConvexEmulator

OUT = os.environ["DRAIN_OUT"]
N = 1000
REAL_CLOCK = (time.perf_counter,)  # in a tuple: freezegun's module scan would swap a plain reference
KINDS = [
    pytest.param("bare", id="bare"),
    pytest.param("time-machine", marks=pytest.mark.convex_wall_clock("time-machine"), id="time-machine"),
    pytest.param("freezegun", marks=pytest.mark.convex_wall_clock("freezegun"), id="freezegun"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("r", range({repeats}))  # repeats outermost: the three kinds interleave
@pytest.mark.convex_time("2030-01-01T00:00:00Z")
def test_drain(request, r, kind):
    if kind == "bare":
        t = ConvexEmulator("app", start_time="2030-01-01T00:00:00Z")  # no wall clock held
    else:
        t = request.getfixturevalue("convex")
    for _ in range(N // 500):
        t.mutation(api.drain.plan, {{"n": 500}})
    start = REAL_CLOCK[0]()
    ran = t.finish_all_scheduled_functions()
    elapsed = REAL_CLOCK[0]() - start
    assert ran == N
    if kind != "bare":
        assert time.time() * 1000 == t.now
    with open(OUT, "a") as out:
        out.write(json.dumps([kind, elapsed]) + "\\n")
'''

# Per-item time, in the pytest process: setup + call + teardown of each test (not collection).
# Kept in memory and written once at the end, so the measuring adds no file I/O to any test.
CONFTEST = '''import json
import os
import time

import pytest

_OUT = os.environ.get("BENCH_ITEMS")
_TIMES = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        _TIMES.append(time.perf_counter() - start)


def pytest_sessionfinish(session):
    if _OUT and _TIMES:
        data = "".join(json.dumps(t) + "\\n" for t in _TIMES).encode()
        fd = os.open(_OUT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, data)  # one append per process (xdist workers each write their own)
        finally:
            os.close(fd)
'''


def build(work: Path, n: int, repeats: int) -> None:
    shutil.copytree(ROOT / "fixtures" / "orders", work / "app")
    (work / "app" / "convex" / "drain.py").write_text(DRAIN_MODULE)
    (work / "pytest.ini").write_text("[pytest]\nconvex_app = app\n")
    (work / "conftest.py").write_text(CONFTEST)
    for suite in ("empty", "plain", "fixture", "typical"):
        folder = work / "suite" / suite
        folder.mkdir(parents=True)
        count = 1 if suite == "empty" else n // 2
        body = BODIES["plain" if suite == "empty" else suite]
        for f in (1, 2):
            tests = "\n\n".join(body.format(f=f, i=i) for i in range(count))
            (folder / f"test_s{f}.py").write_text(HEADER + "\n\n" + tests)
    (work / "suite" / "drain").mkdir()
    (work / "suite" / "drain" / "test_drain.py").write_text(DRAIN_TESTS.format(repeats=repeats))


def _pytest_env(**extra: str) -> dict[str, str]:
    """The environment of a pytest run: this one, but with bytecode written as Python's default does.

    Under PYTHONDONTWRITEBYTECODE pytest rewrites and compiles every test module's asserts again
    on each run (about 0.5 ms a test here); a user's second run reads them from `__pycache__`.
    Each suite is timed best of REPEATS, so what is compared is the run a user makes again and again.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall(work: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall s, CPU s of pytest and its workers) of one pytest run."""
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(PYTEST + args, cwd=work, capture_output=True, text=True, env=env)
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"pytest {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed, cpu


def python_suites(work: Path, n: int, repeats: int) -> dict[str, dict[str, float]]:
    """suite -> per-test ms: "serial", "par2" (wall), "cpu" (serial), "item" (median setup+call+teardown)."""
    runs = [("empty", "empty", []), ("plain", "plain", []), ("fixture", "fixture", []),
            ("typical", "typical", []),
            ("fixture (freezegun)", "fixture", ["-o", "convex_wall_clock=freezegun"]),
            ("typical (freezegun)", "typical", ["-o", "convex_wall_clock=freezegun"])]
    best: dict[tuple[str, str], float] = {}
    per_item: dict[str, list[float]] = {}
    items = work / "items.jsonl"
    for _ in range(repeats):
        for label, suite, extra in runs:
            for mode, flags in (("serial", ["-p", "no:xdist"]), ("par2", ["-n", "2"])):
                items.unlink(missing_ok=True)
                s, cpu = wall(work, [f"suite/{suite}", *flags, *extra], env=_pytest_env(BENCH_ITEMS=str(items)))
                best[label, mode] = min(best.get((label, mode), s), s)
                if mode == "serial":
                    best[label, "cpu"] = min(best.get((label, "cpu"), cpu), cpu)
                    per_item.setdefault(label, []).extend(map(json.loads, items.read_text().splitlines()))
    result = {
        label: {mode: (best[label, mode] - best["empty", mode]) * 1000 / n for mode in ("serial", "par2", "cpu")}
        for label, _suite, _extra in runs if label != "empty"
    }
    for label, row in result.items():
        row["item"] = statistics.median(per_item[label]) * 1000
    return result


def drains(work: Path) -> dict[str, float]:
    """Best drain time (ms) of 1,000 jobs: bare, under the fixture with each wall clock (interleaved runs)."""
    out = work / "drain.jsonl"
    wall(work, ["suite/drain", "-p", "no:xdist"], env=_pytest_env(DRAIN_OUT=str(out)))
    best: dict[str, float] = {}
    for kind, seconds in map(json.loads, out.read_text().splitlines()):
        best[kind] = min(best.get(kind, seconds), seconds)
    return {"bare ConvexEmulator": best["bare"] * 1000, "fixture, time-machine": best["time-machine"] * 1000,
            "fixture, freezegun": best["freezegun"] * 1000}


def fixture_parts() -> dict[str, float]:
    """µs per fixture setup/teardown part, in-process (best of 5 x 200)."""
    from emulator import ConvexEmulator

    orders, crons = ROOT / "fixtures" / "orders", ROOT / "fixtures" / "crons"

    def per_call(fn, n=200) -> float:
        fn()
        best = min(_timed(fn, n) for _ in range(5))
        return best * 1e6 / n

    emulator = ConvexEmulator(orders)

    def hold(backend: str):
        return lambda: emulator._hold_wall_clock(backend).stop()

    def whole():
        t = ConvexEmulator(orders, start_time="2030-01-01T00:00:00Z")
        t._hold_wall_clock("time-machine").stop()
        t.close()

    return {
        "ConvexEmulator(fixtures/orders)": per_call(lambda: ConvexEmulator(orders)),
        "ConvexEmulator(fixtures/crons), crons deployed": per_call(lambda: ConvexEmulator(crons)),
        "hold + release, time-machine": per_call(hold("time-machine")),
        "hold + release, freezegun": per_call(hold("freezegun"), 10),
        "whole fixture body (orders, time-machine)": per_call(whole),
    }


def _timed(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def convex_test(n: int, repeats: int) -> dict[str, dict[str, float]] | None:
    """The anchor's suite.sh on convex-test, from a copy with node_modules; None if it cannot run."""
    if os.environ.get("CONVEX_TEST", "1") == "0" or shutil.which("npm") is None or not ANCHOR.is_dir():
        return None
    work = Path(os.environ.get("CONVEX_TEST_DIR", "/tmp/convex-test-anchor"))
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-r", f"{ANCHOR}/.", str(work)], check=True)
    subprocess.run(["chmod", "-R", "u+w", str(work)], check=True)
    stamp = work / "node_modules" / ".anchor-package.json"
    if not stamp.is_file() or stamp.read_bytes() != (work / "package.json").read_bytes():
        print(f"[bench_suite] npm install in {work}", file=sys.stderr)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=work, check=True,
                       stdout=sys.stderr, stderr=sys.stderr)
        shutil.copy(work / "package.json", stamp)
    suite_dir = tempfile.mkdtemp(prefix="ct-suite-")
    try:
        done = subprocess.run(["bash", str(work / "suite.sh"), str(n), str(repeats)], cwd=work, capture_output=True,
                              text=True, timeout=3600, check=True, env={**os.environ, "WORK": suite_dir})
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"[bench_suite] convex-test suite failed: {exc}", file=sys.stderr)
        return None
    rows = {}
    for line in done.stdout.splitlines():
        match = re.match(r"(plain|fixture|full)\s+[\d.]+\s+([\d.-]+)\s+[\d.]+\s+([\d.-]+)", line)
        if match:
            rows["typical" if match[1] == "full" else match[1]] = {"serial": float(match[2]), "par2": float(match[3])}
    for suite, row in rows.items():
        row["item"] = _vitest_item_ms(Path(suite_dir), "full" if suite == "typical" else suite, repeats)
    return rows or None


def _vitest_item_ms(suite_dir: Path, suite: str, repeats: int) -> float:
    """Median duration vitest reports per test (its beforeEach, body and afterEach), serial runs."""
    durations: list[float] = []
    report = suite_dir / "report.json"
    for _ in range(repeats):
        subprocess.run(["./node_modules/.bin/vitest", "run", "--config", "vitest.suite.config.mts", f"suite/{suite}/",
                        "--no-file-parallelism", "--maxWorkers=1", "--reporter=json", f"--outputFile={report}"],
                       cwd=suite_dir, capture_output=True, check=True, env={**os.environ, "NO_COLOR": "1"})
        results = json.loads(report.read_text())["testResults"]
        durations += [test["duration"] for file in results for test in file["assertionResults"]]
    return statistics.median(durations)


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 200
    repeats = int(argv[1]) if len(argv) > 1 else 3
    if n < 2 or n % 2:
        sys.exit("N must be an even number >= 2")
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        work = Path(tmp)
        build(work, n, repeats * 5)
        ours = python_suites(work, n, repeats)
        drain = drains(work)
    theirs = convex_test(n, repeats)
    parts = fixture_parts()

    print(f"\nper test, ms: {n} tests per suite (2 files), best of {repeats}, wall time minus a 2-test suite's")
    print(f"{'suite':<22}{'pytest serial':>15}{'(CPU)':>8}{'(item)':>8}{'pytest -n 2':>13}{'vitest serial':>15}"
          f"{'(item)':>8}{'vitest 2 wkr':>14}{'ratio serial':>14}{'ratio item':>12}")
    for label, row in ours.items():
        peer = (theirs or {}).get(label) if "freezegun" not in label else None
        ratio = f"{peer['serial'] / row['serial']:.1f}x" if peer and row["serial"] > 0 else "-"
        ratio_item = f"{peer['item'] / row['item']:.1f}x" if peer else "-"
        peer_s, peer_i, peer_p = (f"{peer[k]:.2f}" for k in ("serial", "item", "par2")) if peer else "---"
        print(f"{label:<22}{row['serial']:>15.2f}{row['cpu']:>8.2f}{row['item']:>8.2f}{row['par2']:>13.2f}"
              f"{peer_s:>15}{peer_i:>8}{peer_p:>14}{ratio:>14}{ratio_item:>12}")
    print("(CPU): pytest's CPU time per test, serial; (item): median time of one test's setup, call and teardown "
          "(vitest: its reported duration, beforeEach to afterEach)")
    if theirs is None:
        print("(convex-test side skipped: CONVEX_TEST=0, no npm, or the anchor is missing)")

    bare = drain["bare ConvexEmulator"]
    print(f"\ndrain of 1,000 jobs at distinct times (each reads time.time()), best of {repeats * 5}, ms")
    for label, ms in drain.items():
        print(f"{label:<24}{ms:>9.2f}   {ms / bare:.2f}x bare")

    print("\nfixture setup/teardown parts, in-process, µs per call")
    for label, us in parts.items():
        print(f"{label:<48}{us:>9.1f}")
    print(f"\ncommand: python bench/bench_suite.py {n} {repeats}")


if __name__ == "__main__":
    main(sys.argv[1:])
