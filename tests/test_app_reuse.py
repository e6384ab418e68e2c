"""An app folder is read once and reused by the next emulators (one per test): what changes in the
folder or in its modules between two emulators must still show in the second, and emulators of one
folder stay independent."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from convex_py import api, mutation
from convex_py.errors import AppLoadError, FunctionNotFoundError
from emulator import ConvexEmulator
from emulator.app import import_app_modules

START = "2030-01-01T00:00:00Z"

NOTES = """
    from convex_py import mutation, query

    @mutation
    def add(ctx, args):
        return ctx.db.insert("notes", {"text": args["text"]})

    @query
    def texts(ctx, args):
        return [n["text"] for n in ctx.db.query("notes").collect()]
"""

PING = """
    from convex_py import query

    @query
    def ping(ctx, args):
        return "pong"
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


@pytest.fixture
def app(tmp_path: Path) -> Path:
    write(tmp_path / "app" / "convex" / "notes.py", NOTES)
    return tmp_path / "app"


def paths(t: ConvexEmulator) -> list[str]:
    return sorted(t.app.functions)


def test_a_module_added_between_two_emulators_is_loaded_by_the_second(app: Path) -> None:
    first = ConvexEmulator(app, start_time=START)
    assert paths(first) == ["notes:add", "notes:texts"]
    write(app / "convex" / "ping.py", PING)  # at once: in the same tick of the file system's clock
    second = ConvexEmulator(app, start_time=START)
    assert paths(second) == ["notes:add", "notes:texts", "ping:ping"]
    assert second.query(api.ping.ping) == "pong"
    assert paths(first) == ["notes:add", "notes:texts"]  # the first emulator's app is its own


def test_a_module_added_in_a_new_subfolder_is_loaded(app: Path) -> None:
    ConvexEmulator(app)
    write(app / "convex" / "admin" / "tools.py", PING)
    assert "admin/tools:ping" in paths(ConvexEmulator(app))
    write(app / "convex" / "admin" / "more.py", PING)  # a change in the subfolder only
    assert {"admin/tools:ping", "admin/more:ping"} <= set(paths(ConvexEmulator(app)))


def test_a_removed_module_is_gone_from_the_next_emulator(app: Path) -> None:
    write(app / "convex" / "ping.py", PING)
    assert "ping:ping" in paths(ConvexEmulator(app))
    (app / "convex" / "ping.py").unlink()
    t = ConvexEmulator(app)
    assert paths(t) == ["notes:add", "notes:texts"]
    with pytest.raises(FunctionNotFoundError):
        t.query(api.ping.ping)


def test_a_subfolder_that_becomes_a_component_is_no_longer_app_modules(app: Path) -> None:
    write(app / "convex" / "counter" / "counts.py", PING)
    assert "counter/counts:ping" in paths(ConvexEmulator(app))
    write(app / "convex" / "counter" / "convex_config.py", """
        from convex_py.components import define_component

        counter = define_component("counter")
    """)
    assert paths(ConvexEmulator(app)) == ["notes:add", "notes:texts"]


def test_a_convex_folder_made_in_an_app_folder_of_modules_is_loaded_from_then_on(tmp_path: Path) -> None:
    write(tmp_path / "flat" / "ping.py", PING)
    assert paths(ConvexEmulator(tmp_path / "flat")) == ["ping:ping"]
    write(tmp_path / "flat" / "convex" / "notes.py", NOTES)
    assert paths(ConvexEmulator(tmp_path / "flat")) == ["notes:add", "notes:texts"]


def test_an_app_folder_removed_between_two_emulators_is_an_app_load_error(app: Path) -> None:
    ConvexEmulator(app)
    shutil.rmtree(app)
    with pytest.raises(AppLoadError, match="does not exist"):
        ConvexEmulator(app)


def test_its_convex_folder_removed_leaves_an_app_folder_without_modules(app: Path) -> None:
    ConvexEmulator(app)
    shutil.rmtree(app / "convex")
    with pytest.raises(AppLoadError, match="no convex/ folder and no Python modules"):
        ConvexEmulator(app)


def test_a_relative_app_path_follows_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "one" / "app" / "convex" / "notes.py", NOTES)
    write(tmp_path / "two" / "app" / "convex" / "ping.py", PING)
    monkeypatch.chdir(tmp_path / "one")
    assert paths(ConvexEmulator("app")) == ["notes:add", "notes:texts"]
    monkeypatch.chdir(tmp_path / "two")
    assert paths(ConvexEmulator("app")) == ["ping:ping"]


def test_a_function_patched_into_a_module_is_seen_by_the_next_emulator(app: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    t = ConvexEmulator(app, start_time=START)
    module = import_app_modules((app / "convex").resolve())["notes"]
    assert module.add is t.app.functions["notes:add"]

    @mutation
    def add(ctx, args):
        return ctx.db.insert("notes", {"text": args["text"] + "!"})

    monkeypatch.setattr(module, "add", add)
    patched = ConvexEmulator(app, start_time=START)
    patched.mutation(api.notes.add, {"text": "hi"})
    assert patched.query(api.notes.texts) == ["hi!"]
    monkeypatch.undo()
    again = ConvexEmulator(app, start_time=START)
    again.mutation(api.notes.add, {"text": "hi"})
    assert again.query(api.notes.texts) == ["hi"]


def test_a_module_imported_again_is_used_by_the_next_emulator(app: Path) -> None:
    first = ConvexEmulator(app)
    module = import_app_modules((app / "convex").resolve())["notes"]
    del sys.modules[module.__name__]
    second = ConvexEmulator(app)
    assert second.app.functions["notes:add"] is not first.app.functions["notes:add"]
    assert sys.modules[module.__name__].add is second.app.functions["notes:add"]


def test_changing_one_emulators_functions_leaves_the_next_ones_alone(app: Path) -> None:
    first = ConvexEmulator(app)
    del first.app.functions["notes:texts"]
    assert paths(ConvexEmulator(app)) == ["notes:add", "notes:texts"]


def test_a_module_fixed_after_failing_to_import_loads(app: Path) -> None:
    write(app / "convex" / "broken.py", "raise RuntimeError('not yet')\n")
    with pytest.raises(AppLoadError, match="not yet"):
        ConvexEmulator(app)
    write(app / "convex" / "broken.py", PING)
    assert "broken:ping" in paths(ConvexEmulator(app))


CRONS_APP = Path(__file__).resolve().parent.parent / "fixtures" / "crons"


def _ms(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp() * 1000


@pytest.mark.parametrize(("start", "first_31st", "first_weekday"), [
    ("2030-01-01T00:00:00Z", "2030-01-31T12:00:00Z", "2030-01-01T09:00:00Z"),
    ("2030-01-01T00:00:59.999Z", "2030-01-31T12:00:00Z", "2030-01-01T09:00:00Z"),  # the same minute
    ("2030-01-31T12:00:00Z", "2030-03-31T12:00:00Z", "2030-02-01T09:00:00Z"),
    ("2030-02-01T00:00:00Z", "2030-03-31T12:00:00Z", "2030-02-01T09:00:00Z"),
])
def test_crons_deployed_again_start_from_each_emulators_own_start(start: str, first_31st: str,
                                                                   first_weekday: str) -> None:
    ConvexEmulator(CRONS_APP, start_time="2030-06-01T00:00:00Z")  # an earlier deploy of the same specs
    t = ConvexEmulator(CRONS_APP, start_time=start)
    t.advance(days=70)
    assert t.cron_runs("monthly on the 31st")[0]["scheduledTime"] == _ms(first_31st)
    assert t.cron_runs("weekdays 09:00")[0]["scheduledTime"] == _ms(first_weekday)
