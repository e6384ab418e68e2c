"""The `convex-py` command line: `run` one function, `simulate` an app on the virtual clock, `dev` to serve it.

A user's mistake (a missing app, bad JSON, an unknown function, arguments that
fail validation, a bad duration) is one line on stderr and exit status 2, with
no traceback unless `--debug` is given.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import re
import sys
import traceback
from collections import Counter
from collections.abc import Sequence
from typing import Any

from convex_py import __version__
from convex_py.errors import ConvexError, ConvexPyError

from .clock import ClockError, to_ms
from .timeline import format_time

USAGE_ERROR = 2
FUNCTION_ERROR = 1

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class CliError(Exception):
    """A mistake in how the command was called: reported in one line, exit status 2."""


def parse_duration(text: str) -> float:
    """Milliseconds in a duration like `7d`, `36h`, `90m`, `30s`, `1d12h` or `500ms`."""
    compact = text.strip().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise CliError(f"bad duration {text!r}: use a number and a unit, e.g. 7d, 36h, 90m, 30s (or 1d12h)")
    return sum(float(n) * _UNIT_MS[u] for n, u in parts)


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{what} is not valid JSON ({exc.msg} at column {exc.colno}): {text}") from None
    if not isinstance(value, dict):
        raise CliError(f"{what} must be a JSON object like '{{\"name\": \"value\"}}', got {text}")
    return value


def to_json(value: Any) -> Any:
    """A Convex value as plain JSON for people and scripts (bytes as {"$bytes": base64})."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": repr(value)}
    if isinstance(value, str):
        return str(value)
    return value


def _one_line(message: str) -> str:
    return " | ".join(line.strip() for line in str(message).splitlines() if line.strip())


def _load(app: str, start: str | None = None, env_file: str | None = None) -> Any:
    from ._emulator import ConvexEmulator
    from .env_vars import parse_env_file

    env = None if env_file is None else parse_env_file(env_file)
    return ConvexEmulator(app, start_time=start, env=env)


def _caller(emulator: Any, identity: str | None) -> Any:
    if identity is None:
        return emulator
    return emulator.with_identity(parse_json_object(identity, "--identity"))


def _call(caller: Any, emulator: Any, path: str, args: dict[str, Any]) -> tuple[str, Any]:
    _path, fn = emulator.app.resolve(path)
    method = {"query": caller.query, "mutation": caller.mutation, "action": caller.action}[fn.kind]
    return fn.kind, method(path, args)


# --- run -----------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from .wall_clock import wall_clock_follows

    call_args = parse_json_object(args.args, "ARGS_JSON") if args.args is not None else {}
    emulator = _load(args.app, args.start, args.env_file)
    with wall_clock_follows(emulator):
        try:
            _kind, result = _call(_caller(emulator, args.identity), emulator, args.function, call_args)
        finally:
            emulator.close()
    print(json.dumps(to_json(result), ensure_ascii=False))
    return 0


# --- simulate ------------------------------------------------------------------


def _parse_call(text: str) -> tuple[str, dict[str, Any]]:
    path, _, rest = text.strip().partition(" ")
    if not path:
        raise CliError(f"--call needs 'PATH {{json args}}', got {text!r}")
    return path, parse_json_object(rest, f"--call {path} arguments") if rest.strip() else {}


def _advance_with_progress(emulator: Any, total_ms: float, show: bool) -> None:
    target = emulator.now + total_ms
    if not show or total_ms <= 86_400_000:
        emulator.advance_to(target)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    steps = 100
    with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), transient=True, console=_console(sys.stderr)) as progress:
        task = progress.add_task("", total=steps)
        start = emulator.now
        for step in range(1, steps + 1):
            emulator.advance_to(start + total_ms * step / steps)
            progress.update(task, advance=1, description=format_time(emulator.now))


def _console(stream: Any) -> Any:
    from rich.console import Console

    return Console(file=stream, highlight=False)


def _summary(entries: list[dict[str, Any]]) -> str:
    counts = Counter(entry["outcome"] for entry in entries)
    parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    return f"{len(entries)} executions" + (f": {parts}" if parts else "")


_OUTCOME_STYLE = {"success": "green", "failed": "bold red", "skipped": "yellow", "canceled": "magenta"}


def cmd_simulate(args: argparse.Namespace) -> int:
    from .wall_clock import wall_clock_follows

    duration = parse_duration(args.duration)
    calls = [_parse_call(text) for text in args.call or []]
    emulator = _load(args.app, args.start, args.env_file)
    entries: list[dict[str, Any]] = []
    start = emulator.now
    executed: list[dict[str, Any]] = []
    emulator._scheduler.executions.archive = executed  # all of them: the timeline trims
    with wall_clock_follows(emulator):
        try:
            caller = _caller(emulator, args.identity)
            for path, call_args in calls:
                try:
                    kind, result = _call(caller, emulator, path, call_args)
                    entries.append({"time": emulator.now, "function": path, "kind": kind, "source": "call",
                                    "outcome": "success", "error": None, "result": to_json(result)})
                except (ConvexError, Exception) as exc:
                    if isinstance(exc, ConvexPyError) and not isinstance(exc, ConvexError):
                        raise
                    entries.append({"time": emulator.now, "function": path, "kind": "?", "source": "call",
                                    "outcome": "failed", "error": _one_line(str(exc))})
            _advance_with_progress(emulator, duration, sys.stderr.isatty() and not args.json)
        finally:
            emulator.close()
    entries.extend(dict(entry) for entry in executed)
    entries.sort(key=lambda entry: entry["time"])  # stable: calls first at the start time
    end = emulator.now
    if args.json:
        print(json.dumps({
            "app": args.app,
            "start": format_time(start),
            "end": format_time(end),
            "executions": [
                {**{k: to_json(v) for k, v in entry.items() if k != "job_id"}, "time": format_time(entry["time"])}
                for entry in entries
            ],
            "summary": dict(Counter(entry["outcome"] for entry in entries)),
        }, ensure_ascii=False))
        return 0
    _print_timeline(entries, start, end, sys.stdout.isatty())
    return 0


def _print_timeline(entries: list[dict[str, Any]], start: float, end: float, rich_output: bool) -> None:
    header = f"{format_time(start)} -> {format_time(end)}"
    if rich_output:
        from rich.table import Table

        table = Table(title=header, title_justify="left")
        for column in ("time (UTC)", "function", "kind", "outcome", "error"):
            table.add_column(column)
        for entry in entries:
            style = _OUTCOME_STYLE.get(entry["outcome"], "")
            table.add_row(format_time(entry["time"]), entry["function"], f"{entry['source']} {entry['kind']}",
                          f"[{style}]{entry['outcome']}[/]" if style else entry["outcome"],
                          _one_line(entry.get("error") or ""))
        console = _console(sys.stdout)
        console.print(table)
        console.print(_summary(entries))
        return
    print(header)
    width = max((len(e["function"]) for e in entries), default=8)
    for entry in entries:
        line = (f"{format_time(entry['time'])}  {entry['function']:<{width}}  "
                f"{entry['source'] + ' ' + entry['kind']:<18}  {entry['outcome']}")
        if entry.get("error"):
            line += f"  {_one_line(entry['error'])}"
        print(line)
    print(_summary(entries))


# --- dev --------------------------------------------------------------------------


def cmd_dev(args: argparse.Namespace) -> int:
    import logging

    from .server import DevServer, startup_line

    if args.static is not None and not os.path.isdir(args.static):
        raise CliError(f"--static {args.static}: not a folder")
    for option, port in (("--port", args.port), ("--site-port", args.site_port)):
        if port is not None and not 0 <= port <= 65535:
            raise CliError(f"{option} {port}: expected a port number from 0 (pick a free one) to 65535")
    if args.site_port is None and args.port == 65535:
        raise CliError("--port 65535 leaves no port for HTTP actions (--port + 1): give --site-port too")
    emulator = _load(args.app, env_file=args.env_file)
    try:
        server = DevServer(emulator, args.host, args.port, db=args.db, jwks=args.jwks,
                           auth_issuer=args.auth_issuer, auth_audience=args.auth_audience, site_port=args.site_port,
                           static=args.static)
    except OSError as exc:
        emulator.close()
        ports = f"{args.port} or {args.site_port if args.site_port is not None else args.port + 1 if args.port else 0}"
        raise CliError(f"cannot listen on {args.host}:{ports}: {exc.strerror or exc}") from None
    except BaseException:
        emulator.close()
        raise
    # The deployment's own URLs, as Convex gives every deployment: the ports bound (--port 0 picks
    # them, --site-port moves HTTP actions off --port + 1).
    emulator._runtime.env.update({"CONVEX_CLOUD_URL": server.url, "CONVEX_SITE_URL": server.site_url})
    # Functions' logging calls at every level reach their log lines (Convex keeps console.debug too);
    # the HTTP stack's own chatter stays out.
    logging.getLogger().setLevel(logging.DEBUG)
    logging.getLogger("uvicorn").setLevel(logging.ERROR)
    try:
        server.serve_forever(on_ready=lambda: print(startup_line(server, args.app), flush=True))
    except KeyboardInterrupt:
        server.stop()
    print("convex-py dev: stopped", flush=True)
    return 0


# --- main ------------------------------------------------------------------------


def _command(commands: Any, name: str, help: str, handler: Any) -> argparse.ArgumentParser:
    """A subcommand taking the app folder, accepting --debug after it too."""
    command = commands.add_parser(name, help=help)
    command.add_argument("app", metavar="APP", help="the app folder (or its convex/ folder)")
    command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    command.set_defaults(handler=handler)
    return command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convex-py",
        description="Run Convex-style apps written in Python on a virtual clock.",
    )
    parser.add_argument("--version", action="version", version=f"convex-py {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = _command(commands, "run", "call one function and print its result as JSON", cmd_run)
    run.add_argument("function", metavar="FUNCTION", help='the function path, e.g. "orders:create_order"')
    run.add_argument("args", metavar="ARGS_JSON", nargs="?", help="the arguments as a JSON object")
    run.add_argument("--identity", metavar="JSON", help="call as this user (a JSON object of claims)")
    run.add_argument("--start", metavar="ISO", help="the virtual time to start at (default: now)")
    run.add_argument("--env-file", metavar="FILE", help="the deployment's environment variables (NAME=value lines)")

    simulate = _command(commands, "simulate", "run an app forward on the virtual clock and print what ran",
                        cmd_simulate)
    simulate.add_argument("--for", dest="duration", metavar="DURATION", required=True,
                          help="how long to simulate: 7d, 36h, 90m, 30s")
    simulate.add_argument("--start", metavar="ISO", help="the virtual start time (default: now)")
    simulate.add_argument("--call", action="append", metavar="'PATH {json}'",
                          help="a call to make at the start (repeatable)")
    simulate.add_argument("--identity", metavar="JSON", help="make the calls as this user")
    simulate.add_argument("--json", action="store_true", help="print machine-readable JSON")
    simulate.add_argument("--env-file", metavar="FILE",
                          help="the deployment's environment variables (NAME=value lines)")

    dev = _command(commands, "dev", "serve Convex's HTTP API on loopback, on the real clock", cmd_dev)
    dev.add_argument("--port", type=int, default=3210, help="the port (default 3210; 0 picks a free one)")
    dev.add_argument("--site-port", type=int, metavar="PORT",
                     help="the port of HTTP actions (default: --port + 1, as Convex's 3210 and 3211)")
    dev.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    dev.add_argument("--db", metavar="FILE", help="keep documents, jobs, cron state and files in this SQLite file")
    dev.add_argument("--jwks", metavar="FILE", help="verify auth tokens' signatures with the keys of this JWKS file")
    dev.add_argument("--auth-issuer", metavar="ISS", help="with --jwks: the issuer (iss) tokens must have")
    dev.add_argument("--auth-audience", metavar="AUD",
                     help="with --jwks: the audience (aud) tokens must have (Convex's applicationID)")
    dev.add_argument("--env-file", metavar="FILE",
                     help="the deployment's environment variables, NAME=value lines (convex_py.env reads them)")
    dev.add_argument("--static", metavar="DIR", help="also serve the files of this folder at / (a web page)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `convex-py` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    try:
        return int(args.handler(args))
    except (CliError, ClockError, ConvexPyError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"convex-py {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return USAGE_ERROR
    except ConvexError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"convex-py {args.command}: ConvexError: {json.dumps(to_json(exc.data))}", file=sys.stderr)
        return FUNCTION_ERROR
    except Exception as exc:  # the app's own code raised
        hint = ""
        if args.debug:
            traceback.print_exc()
        else:
            hint = " (--debug shows the traceback)"
        print(f"convex-py {args.command}: the function raised {type(exc).__name__}: {_one_line(str(exc))}{hint}",
              file=sys.stderr)
        return FUNCTION_ERROR


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main", "parse_duration", "to_ms"]
