"""Tests import the app's helper modules as `convex.<module>`: the same modules the emulator runs."""

pytest_plugins = ["pytester"]

import textwrap

import pytest

RETRIES = '''
from convex_py import mutation, query, v

from .backoff import delay_ms

ATTEMPTS: list[int] = []


@mutation(args={"attempt": v.number()})
def record(ctx, args):
    ATTEMPTS.append(int(args["attempt"]))
    ctx.db.insert("attempts", {"attempt": args["attempt"], "delayMs": delay_ms(int(args["attempt"]))})
    return delay_ms(int(args["attempt"]))
'''

BACKOFF = '''
BASE_MS = 250


def delay_ms(attempt: int) -> int:
    return BASE_MS * 2 ** attempt
'''

USERS = '''
from convex_py import query

LABEL = "admin users"


@query
def attempts(ctx, args):
    return [row["delayMs"] for row in ctx.db.query("attempts").collect()]
'''

TEST = '''
import time

from convex.admin.users import LABEL, attempts
from convex.backoff import BASE_MS, delay_ms
from convex.retries_example import ATTEMPTS, record
from emulator import ConvexEmulator


def test_helpers_in_the_fixture(convex):
    # TS: import { delayMs } from "../convex/backoff";
    assert delay_ms(3) == 8 * BASE_MS == 2000
    assert convex.mutation(record, {"attempt": 2}) == 1000  # the imported function is the app's
    assert ATTEMPTS == [2]  # one module: the emulator's run changed the test's list
    assert convex.query(attempts) == [1000]
    assert LABEL == "admin users"


def test_helpers_with_a_direct_emulator():
    ATTEMPTS.clear()
    with ConvexEmulator(".", start_time="2030-01-01T00:00:00Z") as t:
        assert t.mutation(record, {"attempt": 0}) == 250
        assert time.time() == 1893456000.0
    assert ATTEMPTS == [0]
'''


def make_project(pytester, *, package_init=False):
    root = pytester.path
    for path, source in {
        "convex/retries_example.py": RETRIES,
        "convex/backoff.py": BACKOFF,
        "convex/admin/users.py": USERS,
        "tests/test_retries.py": TEST,
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(source))
    if package_init:
        (root / "convex" / "__init__.py").write_text("")
    pytester.makeini("[pytest]\nconvex_app = .\npythonpath = .\n")


@pytest.mark.parametrize("package_init", [False, True], ids=["client-owns-convex", "app-owns-convex"])
def test_a_test_imports_the_apps_modules_as_convex_dot_module(pytester, package_init):
    # Without convex/__init__.py, `import convex` is the Convex client (PyPI `convex`, a test dependency):
    # the app's modules are served as convex.<module> anyway. With it (and pythonpath = .), the folder is `convex`.
    # A subprocess each: the client's Rust core cannot be imported twice in one process.
    make_project(pytester, package_init=package_init)
    pytester.makepyfile(test_missing="from convex.no_such_module import x\n\n\ndef test_x():\n    pass\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:benchmark", "--continue-on-collection-errors"
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ModuleNotFoundError: No module named 'convex.no_such_module'*"])
