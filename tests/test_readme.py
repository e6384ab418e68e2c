"""The README's reference sections run as written: its app, its sessions, and every line of its port table.

The app `my_app` is assembled from the README's `# my_app/convex/...` blocks; the `pycon`
sessions run as doctests against it, in order; each Python line of "Porting from
TypeScript" runs in the kind of function (or test) its table names.
"""

from __future__ import annotations

import asyncio
import base64
import doctest
import io
import json
import os
import re
import shutil
import subprocess
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from convex_py import (
    UNSET,
    ConvexError,
    SchemaDefinition,
    TableDefinition,
    Validator,
    api,
    define_schema,
    define_table,
    internal,
    internal_action,
    internal_mutation,
    v,
)
from convex_py.errors import DirectCallWarning
from emulator import ConvexEmulator
from emulator.app import import_app_modules
from emulator.server import DevServer

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
T0 = 1893456000000.0  # 2030-01-01T00:00:00Z

# The sections this file answers for (others' sections have their own tests).
REFERENCE_SECTIONS = (
    "Queries: the reference",
    "`UNSET` and `None`",
    "Identity: `with_identity` and `ctx.auth`",
    "System tables: `ctx.db.system`",
    "Function references",
    "Numbers: `int` and `float`",
    "Porting from TypeScript",
)
PORT_CONTEXTS = {
    "In a query or mutation": "mutation",
    "In an action": "action",
    "In `schema.py`": "schema",
    "In a test": "test",
}
APP_FILE = re.compile(r"# (my_app/convex/[\w/]+\.py)( \(continued\))?\n")


# --- Reading the README -------------------------------------------------------------------


def sections(text: str, level: str = "## ") -> dict[str, str]:
    """Each heading of `level` and the text under it (up to the next heading of that level)."""
    out: dict[str, str] = {}
    title = None
    for line in text.splitlines(keepends=True):
        if line.startswith(level):
            title = line[len(level):].strip()
            out[title] = ""
        elif title is not None:
            out[title] += line
    return out


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of each fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.S | re.M)]


SECTIONS = sections(README)


def reference_blocks() -> list[tuple[str, str, str]]:
    """(section, language, code) of every block in the reference sections, in README order."""
    missing = [title for title in REFERENCE_SECTIONS if title not in SECTIONS]
    assert not missing, f"README sections not found: {missing}"
    return [(title, lang, code) for title in SECTIONS if title in REFERENCE_SECTIONS
            for lang, code in code_blocks(SECTIONS[title])]


@dataclass(frozen=True)
class PortRow:
    context: str  # mutation, action, schema or test
    typescript: str
    python: str
    note: str

    def __str__(self) -> str:
        return self.python


def port_rows() -> list[PortRow]:
    """The rows of every table in "Porting from TypeScript", each with the context its heading names."""
    porting = SECTIONS.get("Porting from TypeScript")
    assert porting is not None, "README has no 'Porting from TypeScript' section"
    rows = []
    for heading, body in sections(porting, "### ").items():
        context = next((kind for prefix, kind in PORT_CONTEXTS.items() if heading.startswith(prefix)), None)
        assert context is not None, f"Port table heading {heading!r}: say which context it runs in (PORT_CONTEXTS)"
        lines = [line for line in body.splitlines() if line.startswith("|")]
        assert lines[:2] == ["| TypeScript | Python | note |", "| --- | --- | --- |"], heading
        for line in lines[2:]:
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            assert len(cells) == 3, f"{heading}: a row needs TypeScript | Python | note: {line}"
            ts, py, note = cells
            ts_code = re.fullmatch(r"`([^`]+)`", ts)
            py_code = re.fullmatch(r"`([^`]+)`", py)
            assert ts_code and py_code, f"{heading}: both sides are one code span each: {line}"
            rows.append(PortRow(context, ts_code.group(1), py_code.group(1), note))
    return rows


PORT_ROWS = port_rows()


# --- The app -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding `my_app/convex/`, written from the README's blocks."""
    root = tmp_path_factory.mktemp("readme")
    for _section, lang, code in reference_blocks():
        match = APP_FILE.match(code)
        if lang != "python" or match is None:
            continue
        path = root / match.group(1)
        path.parent.mkdir(parents=True, exist_ok=True)
        if match.group(2):
            assert path.exists(), f"{match.group(1)} is continued before it is begun"
            path.write_text(path.read_text() + "\n\n" + code[match.end():])
        else:
            assert not path.exists(), f"{match.group(1)} is begun twice"
            path.write_text(code)
    assert (root / "my_app/convex/schema.py").exists() and (root / "my_app/convex/messages.py").exists()
    return root


def seed(t: ConvexEmulator) -> list[str]:
    """The README session's four messages; their ids in order."""
    rows = [("ada", "hi", 2), ("bob", "yo", 4), ("ada", "ok", 7), ("bot", "beep", 8)]
    return [t.mutation(api.messages.send, {"author": a, "body": b, "score": s}) for a, b, s in rows]


def test_the_app_blocks_make_one_app(workdir: Path) -> None:
    t = ConvexEmulator(workdir / "my_app", start_time=T0)
    public = sorted(path for path, fn in t.app.functions.items() if fn.visibility == "public")
    assert public == ["messages:count", "messages:count_as_number", "messages:digest", "messages:even_scores",
                      "messages:expire_later", "messages:job_state", "messages:latest_by", "messages:page",
                      "messages:send", "messages:set_note", "messages:whoami"]
    assert sorted(t.app.schema.tables) == ["messages"]


# --- The sessions and the other snippets ---------------------------------------------------------


def test_the_reference_sessions_run_as_shown(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.DONT_ACCEPT_TRUE_FOR_1)
    globs: dict = {}  # one session through the README, as a reader would type it
    sessions = [(section, code) for section, lang, code in reference_blocks() if lang == "pycon"]
    assert len(sessions) >= 6
    for number, (section, code) in enumerate(sessions):
        test = parser.get_doctest(code, globs, f"README {section} #{number}", "README.md", 0)
        out = io.StringIO()
        result = runner.run(test, out=out.write, clear_globs=False)
        assert result.failed == 0, out.getvalue()
        globs = test.globs  # a DocTest works on a copy: carry its names on to the next session
    assert runner.summarize(verbose=False).attempted >= 20


def test_the_standalone_python_snippets_run(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    snippets = [code for _s, lang, code in reference_blocks() if lang == "python" and not APP_FILE.match(code)]
    assert snippets, "the porting section shows a whole function in Python"
    for code in snippets:
        namespace: dict = {}
        exec(compile(code, "README.md", "exec"), namespace)
        assert namespace["send"].kind == "mutation"


def test_the_emulator_snippet_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    (code,) = [code for lang, code in code_blocks(SECTIONS["The emulator from Python"]) if lang == "python"]
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    t = namespace["t"]
    assert t.now == T0 + 7 * 24 * 3600 * 1000  # `t.now` is a property: the virtual time in ms
    assert t.run(lambda ctx: ctx.db.get(namespace["order_id"]))["status"] == "archived"


def test_the_readme_no_longer_calls_jwts_unverified() -> None:
    assert "not verified (yet)" not in README
    row = next(line for line in README.splitlines() if line.startswith("| `convex-py dev`"))
    assert "--jwks" in row and "unverified by default" in row


# --- The port table ------------------------------------------------------------------------


def test_the_port_table_covers_the_porting_habits() -> None:
    counts = {kind: sum(1 for r in PORT_ROWS if r.context == kind) for kind in PORT_CONTEXTS.values()}
    assert all(n >= 5 for n in counts.values()), counts
    python = "\n".join(r.python for r in PORT_ROWS)
    for idiom in ("asyncio.gather", "ctx.run_mutation", "ctx.run_query", "ctx.run_action", "v.optional",
                  ".with_index(", "q.lt(\"score\", 10).gt(", "q.and_(", "q.or_(", "q.not_(", "q.add(",
                  "UNSET", "take(args[\"count\"])", "\"staged\": True", "ctx.db.system", "get_user_identity",
                  "with_identity", "t.now", "asyncio.sleep", "run_after", "run_at", ".paginate(", ".unique()",
                  ".first()", "async for", "raise ConvexError", "\"auditLog\""):
        assert idiom in python, f"the port table has no line with {idiom}"


def _row_id(row: PortRow) -> str:
    return f"{row.context}:{row.python[:60]}"


def _fresh(workdir: Path, extra: dict | None = None) -> tuple[ConvexEmulator, dict]:
    """The README app with its four messages (and `extra` modules), the names a row may use."""
    if extra is None:
        t = ConvexEmulator(workdir / "my_app", start_time=T0)
    else:
        modules = dict(import_app_modules((workdir / "my_app" / "convex").resolve()))
        t = ConvexEmulator(modules={**modules, **extra}, start_time=T0)
    ids = seed(t)
    job_id = t.run(lambda ctx: ctx.scheduler.run_after(3_600_000, internal.messages.expire, {"messageId": ids[3]}))
    args = {"author": "ada", "count": 2.0, "messageId": ids[1], "ids": ids,
            "paginationOpts": {"numItems": 2.0, "cursor": None}, "when": T0 + 60_000}
    return t, {"ids": ids, "message_id": ids[0], "job_id": job_id, "args": args}


def _row_app(row: PortRow, workdir: Path, wrap) -> tuple[ConvexEmulator, dict]:
    """The README app plus `readme_rows:row`, an `async def row(ctx, args): <the line>` defined
    in a namespace like the app module's own (with `message_id` and `job_id` of this app)."""
    modules = import_app_modules((workdir / "my_app" / "convex").resolve())
    namespace = {**vars(modules["messages"]), "asyncio": asyncio, "ConvexError": ConvexError, "UNSET": UNSET,
                 "api": api, "internal": internal, "__name__": "readme_rows"}
    exec(compile(f"async def row(ctx, args):\n    {row.python}\n", f"README port row: {row.python}", "exec"), namespace)
    t, names = _fresh(workdir, {"readme_rows": {"row": wrap(namespace["row"])}})
    namespace.update(message_id=names["message_id"], job_id=names["job_id"])
    return t, names


def _expect_outcome(row: PortRow, call) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if row.python.startswith("raise "):
            with pytest.raises(ConvexError) as raised:
                call()
            assert raised.value.data == {"code": "NOT_FOUND"}
        else:
            call()
    direct = [w for w in caught if issubclass(w.category, DirectCallWarning)]
    assert bool(direct) == ("DirectCallWarning" in row.note), [str(w.message) for w in caught]


@pytest.mark.parametrize("row", [r for r in PORT_ROWS if r.context == "mutation"], ids=_row_id)
def test_port_row_in_a_query_or_mutation(row: PortRow, workdir: Path) -> None:
    # Each line runs in a fresh app, in an async internal mutation given the table's `args`.
    t, names = _row_app(row, workdir, internal_mutation)
    _expect_outcome(row, lambda: t.mutation("readme_rows:row", names["args"]))


@pytest.mark.parametrize("row", [r for r in PORT_ROWS if r.context == "action"], ids=_row_id)
def test_port_row_in_an_action(row: PortRow, workdir: Path) -> None:
    # Each line runs in a fresh app, in an async internal action run by the scheduler (virtual time).
    t, names = _row_app(row, workdir, internal_action)

    def run() -> None:
        job = t.run(lambda ctx: ctx.scheduler.run_after(0, "readme_rows:row", names["args"]))
        t.advance(0)
        t.finish_in_progress_scheduled_functions()
        state = next(j["state"] for j in t.scheduled_functions() if j["_id"] == job)
        assert state == {"kind": "success"}, state

    _expect_outcome(row, run)


@pytest.mark.parametrize("row", [r for r in PORT_ROWS if r.context == "schema"], ids=_row_id)
def test_port_row_in_the_schema(row: PortRow) -> None:
    value = eval(row.python, {"v": v, "define_schema": define_schema, "define_table": define_table})
    # Each line is a whole schema, a table or a validator, and Convex's schema checks accept it.
    if isinstance(value, Validator):
        value = define_table({"field": value})
    if isinstance(value, TableDefinition):
        value = define_schema({"things": value})
    assert isinstance(value, SchemaDefinition)
    ConvexEmulator(modules={}, schema=value)


@pytest.mark.parametrize("row", [r for r in PORT_ROWS if r.context == "test"], ids=_row_id)
def test_port_row_in_a_test(row: PortRow, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    t, names = _fresh(workdir)
    namespace = {"ConvexEmulator": ConvexEmulator, "api": api, "internal": internal, "t": t,
                 "message_id": names["message_id"]}
    _expect_outcome(row, lambda: exec(compile(row.python, "README port row", "exec"), namespace))


# --- The worked example: an int reaches JavaScript as a bigint -------------------------------------


def _query_json(url: str, path: str) -> object:
    request = urllib.request.Request(url + "/api/query", method="POST",
                                     data=json.dumps({"path": path, "args": [{}], "format": "convex_encoded_json"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["value"]


def _app_with_three_messages(workdir: Path) -> ConvexEmulator:
    t = ConvexEmulator(workdir / "my_app")
    for body in ("a", "b", "c"):
        t.mutation(api.messages.send, {"author": "ada", "body": body, "score": 1})
    return t


NPM_DIR = Path(os.environ.get("CONVEX_NPM_DIR", "/tmp/convex-py-npm"))

BIGINT_SCRIPT = r"""
const { ConvexHttpClient } = require("convex/browser");
const { anyApi } = require("convex/server");
(async () => {
  const client = new ConvexHttpClient(process.argv[2]);
  const n = await client.query(anyApi.messages.count, {});
  const m = await client.query(anyApi.messages.count_as_number, {});
  let mixed = null;
  try { n + 1; } catch (e) { mixed = String(e.message); }
  console.log(JSON.stringify({ n: typeof n, nValue: String(n), m: typeof m, mValue: m, equal: n === 3, mixed }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_a_len_reaches_javascript_as_a_bigint_and_returns_v_number_as_a_number(workdir: Path) -> None:
    # The README's worked example, through `convex-py dev`: on the wire, then in Convex's JavaScript client.
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node and npm are needed to check what Convex's JavaScript client receives")
    if not (NPM_DIR / "node_modules" / "convex" / "package.json").exists():  # .ci/run installs it ahead
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "init", "-y"], cwd=NPM_DIR, check=True, capture_output=True)
        subprocess.run(["npm", "install", "--silent", "convex@1.48.0"], cwd=NPM_DIR, check=True,
                       capture_output=True, timeout=600)
    dev = DevServer(_app_with_three_messages(workdir), port=0).start()
    try:
        count = _query_json(dev.url, "messages:count")
        as_number = _query_json(dev.url, "messages:count_as_number")
        script = NPM_DIR / "readme_bigint_check.cjs"
        script.write_text(BIGINT_SCRIPT)
        result = subprocess.run(["node", str(script), dev.url], capture_output=True, text=True, timeout=60)
    finally:
        dev.stop()
    assert count == {"$integer": "AwAAAAAAAAA="} == {"$integer": base64.b64encode((3).to_bytes(8, "little")).decode()}
    assert as_number == 3 and type(as_number) is float
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {"n": "bigint", "nValue": "3", "m": "number", "mValue": 3, "equal": False,
                   "mixed": "Cannot mix BigInt and other types, use explicit conversions"}
