"""The pytest plugin (entry point `convex_py`): the `convex` fixture and its markers.

`convex` is a fresh `ConvexEmulator` per test, for the app named by
`@pytest.mark.convex_app(path)` or the `convex_app` ini option, starting at
`@pytest.mark.convex_time(...)` if given, with the environment variables of
`@pytest.mark.convex_env({...})` (which `convex_py.env` also reads in the test). While it lives, the wall clock is held
at the emulator's virtual time (time-machine, or freezegun when the
`convex_wall_clock` ini option or marker says so), so `time.time()` and
`datetime.now()` agree with `convex.now` in the test and inside functions.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convex_py._env import current_env
from convex_py.errors import WallClockError

from ._emulator import ConvexEmulator
from .clock import ClockError, to_ms
from .timeline import format_timeline
from .wall_clock import BACKENDS, DEFAULT_BACKEND, backend_name

_STASH = pytest.StashKey[ConvexEmulator]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("convex_app", "Default app folder for the `convex` fixture (relative to the rootdir).", default=None)
    parser.addini(
        "convex_wall_clock",
        f"What holds time.time()/datetime.now() at the `convex` fixture's virtual time: {' or '.join(BACKENDS)} "
        f"(default {DEFAULT_BACKEND}).",
        default=DEFAULT_BACKEND,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "convex_app(path): the app folder the `convex` fixture loads for this test."
    )
    config.addinivalue_line(
        "markers",
        "convex_time(when): the virtual start time of the `convex` fixture (ISO string, aware datetime or ms).",
    )
    config.addinivalue_line(
        "markers",
        "convex_env(variables={}, **more): environment variables of the `convex` fixture's deployment.",
    )
    config.addinivalue_line(
        "markers",
        f"convex_wall_clock(name): what holds the wall clock for the `convex` fixture: {' or '.join(BACKENDS)}.",
    )


def _markers(node: pytest.Item) -> tuple[dict[str, pytest.Mark], list[pytest.Mark]]:
    """The closest `convex_app`, `convex_time` and `convex_wall_clock` markers of a test, and its
    `convex_env` markers closest first: one walk up the node chain for all four."""
    closest: dict[str, pytest.Mark] = {}
    env: list[pytest.Mark] = []
    for mark in node.iter_markers():
        name = getattr(mark, "name", None)
        if name == "convex_env":
            env.append(mark)
        elif name in _CLOSEST and name not in closest:
            closest[name] = mark
    return closest, env


_CLOSEST = frozenset({"convex_app", "convex_time", "convex_wall_clock"})


def _app_path(node: pytest.Item, marker: pytest.Mark | None = None) -> Path:
    if marker is not None:
        if not marker.args:
            raise pytest.UsageError("@pytest.mark.convex_app needs the app folder, e.g. convex_app('fixtures/orders')")
        raw = marker.args[0]
        source = "@pytest.mark.convex_app"
    else:
        raw = node.config.getini("convex_app")
        source = "the convex_app ini option"
        if not raw:
            raise pytest.UsageError(
                "The `convex` fixture needs an app: mark the test with @pytest.mark.convex_app('path/to/app') "
                "or set `convex_app = path/to/app` in the [pytest] / [tool.pytest.ini_options] section."
            )
    test_file = node.path  # one Path object for a module's tests: its hash is computed once
    rootpath = node.config.rootpath
    key = (str(raw), os.getcwd(), test_file, rootpath)
    found = _app_paths.get(key)
    if found is None:
        found = _app_paths[key] = _find_app(raw, source, rootpath, test_file.parent)
    return found


_app_paths: dict[tuple[Any, ...], Path] = {}  # the lookup below, once per app, cwd and test file


def _find_app(raw: Any, source: str, rootpath: Path, test_dir: Path) -> Path:
    path = Path(str(raw)).expanduser()
    if path.is_absolute():
        return path
    for base in (rootpath, Path.cwd(), test_dir):
        candidate = base / path
        if candidate.exists():
            return candidate
    raise pytest.UsageError(f"{source}: app folder {str(raw)!r} not found (looked relative to the rootdir and cwd).")


def _start_time(marker: pytest.Mark | None) -> Any:
    if marker is None:
        return float(int(time.time() * 1000))
    if not marker.args:
        raise pytest.UsageError("@pytest.mark.convex_time needs a time, e.g. convex_time('2030-01-01T00:00:00Z')")
    when = marker.args[0]
    if type(when) is str:  # an ISO string, parsed once (a module's marker serves each of its tests)
        ms = _marked_times.get(when)
        if ms is None:
            try:
                ms = to_ms(when, what="start_time")
            except ClockError:
                return when  # the emulator reports it, after what it checks first
            if len(_marked_times) < 1024:
                _marked_times[when] = ms
        return ms
    return when


_marked_times: dict[str, float] = {}


def _env(markers: list[pytest.Mark]) -> dict[str, Any]:
    """The variables of every `convex_env` marker on the test (`markers`: closest first), the closest winning."""
    variables: dict[str, Any] = {}
    for marker in reversed(markers):
        if len(marker.args) > 1 or (marker.args and not isinstance(marker.args[0], dict)):
            raise pytest.UsageError(
                "@pytest.mark.convex_env takes a dict and/or keywords, e.g. convex_env({'API_KEY': 'k'}) "
                "or convex_env(API_KEY='k')"
            )
        if marker.args:
            variables.update(marker.args[0])
        variables.update(marker.kwargs)
    return variables


def _wall_clock(node: pytest.Item, marker: pytest.Mark | None) -> str:
    if marker is not None:
        if len(marker.args) != 1:
            raise pytest.UsageError(
                f"@pytest.mark.convex_wall_clock needs one of {', '.join(BACKENDS)}, "
                "e.g. convex_wall_clock('freezegun')"
            )
        return _backend(marker.args[0], "@pytest.mark.convex_wall_clock")
    return _backend(node.config.getini("convex_wall_clock") or DEFAULT_BACKEND, "the convex_wall_clock ini option")


def _backend(value: object, source: str) -> str:
    try:
        return backend_name(value, source=source)
    except WallClockError as exc:
        raise pytest.UsageError(str(exc)) from None


# The tests running now, innermost last (a pytester run inside a test nests one). The fixture reads
# its test here rather than asking for `request`: pytest 9 builds a FixtureDef, with a signature
# inspection, each time a fixture's `request` argument is filled (about 50 µs a test).
_running: list[pytest.Item] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


@pytest.fixture
def convex() -> Iterator[ConvexEmulator]:
    """A fresh emulator of the configured app, with the wall clock held at its virtual time."""
    if not _running:
        raise pytest.UsageError(
            "The `convex` fixture needs convex-py's pytest plugin, which follows the running test: it is not "
            "active (disabled with `-p no:convex_py`, or the fixture imported on its own). Enable it, or add "
            "`pytest_plugins = [\"emulator.pytest_plugin\"]` to your conftest.py."
        )
    node = _running[-1]
    closest, env = _markers(node)
    get = closest.get
    emulator = ConvexEmulator(_app_path(node, get("convex_app")), start_time=_start_time(get("convex_time")),
                              env=_env(env))
    node.stash[_STASH] = emulator
    token = current_env.set(emulator._runtime.env)  # `convex_py.env` in the test reads this deployment's
    try:
        hold = emulator._hold_wall_clock(_wall_clock(node, get("convex_wall_clock")))
        try:
            yield emulator
        finally:
            hold.stop()
    finally:
        try:
            current_env.reset(token)
        except ValueError:  # torn down in another context than it was set up in
            current_env.set(None)
        emulator.close()


# convex-py's own packages: their frames are plumbing between a test's line and the app's line.
_INTERNAL_PACKAGES = frozenset({"emulator", "convex_py"})
_hidden_upto = [0]


def _hide_internal_frames() -> None:
    """Mark convex-py's modules with `__tracebackhide__`, so a failure shows the test's and the app's lines.

    pytest reads the flag from a frame's globals too; `--full-trace` still shows every frame.
    Done when a test fails (not at import), so modules imported later are covered as well.
    """
    if len(sys.modules) == _hidden_upto[0]:
        return
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] in _INTERNAL_PACKAGES:
            namespace = getattr(module, "__dict__", None)
            if namespace is not None:
                namespace.setdefault("__tracebackhide__", True)
    _hidden_upto[0] = len(sys.modules)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    if call.excinfo is not None:
        _hide_internal_frames()
    report = yield
    if report.failed and call.when == "call":
        emulator = item.stash.get(_STASH, None)
        if emulator is not None:
            report.sections.append(("convex timeline", format_timeline(emulator.timeline(), emulator.now)))
    elif call.when == "teardown" and _STASH in item.stash:
        del item.stash[_STASH]  # pytest keeps every item to the end: let the test's documents go now
    return report
