"""The dev server's --db file: one server per file, durable answers, a failed commit applies nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from convex.http_client import ConvexHttpClient

from convex_py import internal, internal_mutation, mutation, query, v
from convex_py.errors import PersistenceError
from emulator import ConvexEmulator
from emulator.server import DevServer

from _server_http import post

ORDERS = str(Path(__file__).resolve().parent.parent / "fixtures" / "orders")
CLI = [sys.executable, "-m", "emulator.cli"]


@mutation(args={"table": v.string(), "n": v.number()})
def put(ctx, args):
    ctx.db.insert(args["table"], {"n": args["n"]})
    ctx.scheduler.run_after(60_000, internal.m.later, {})


@internal_mutation
def later(ctx, args):
    pass


@query(args={"table": v.string()})
def rows(ctx, args):
    return [d["n"] for d in ctx.db.query(args["table"]).collect()]


MODULES = {"m": {"put": put, "later": later, "rows": rows}}


def put_over_http(server, table: str, n: float):
    return post(server, "/api/mutation", {"path": "m:put", "args": {"table": table, "n": n}})


def rows_over_http(server, table: str):
    status, body = post(server, "/api/query", {"path": "m:rows", "args": {"table": table}})
    assert status == 200
    return body["value"]


def test_a_second_server_on_the_same_file_refuses_to_start(tmp_path):
    db = str(tmp_path / "state.sqlite")
    first = DevServer(ConvexEmulator(modules=MODULES), port=0, db=db).start()
    try:
        with pytest.raises(PersistenceError) as caught:
            DevServer(ConvexEmulator(modules=MODULES), port=0, db=db)
        assert str(caught.value).startswith(f"--db {db} is in use by process {os.getpid()} (")
        assert put_over_http(first, "items", 1)[0] == 200  # the first one is undisturbed
    finally:
        first.stop()
    second = DevServer(ConvexEmulator(modules=MODULES), port=0, db=db).start()  # free again once stopped
    try:
        assert rows_over_http(second, "items") == [1.0]
    finally:
        second.stop()


def test_a_second_dev_command_on_the_same_file_exits_2_naming_the_file_and_the_holder(tmp_path):
    db = str(tmp_path / "state.sqlite")
    first = subprocess.Popen([*CLI, "dev", ORDERS, "--port", "0", "--db", db], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().startswith("convex-py dev: serving")
        second = subprocess.run([*CLI, "dev", ORDERS, "--port", "0", "--db", db], capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 2
        assert second.stdout == ""
        lines = second.stderr.splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"convex-py dev: error: --db {db} is in use by process {first.pid} (")
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=20)
    assert first.returncode == 0


@pytest.mark.parametrize(("content", "reason"), [
    (b"this is not a database, just some text" * 100, "is not a usable convex-py database: file is not a database"),
    (None, "is an SQLite database of something else (tables: accounts); give a new file name"),
], ids=["not-sqlite", "another-apps-sqlite"])
def test_a_bad_db_file_is_one_line_naming_it_and_exit_2(tmp_path, content, reason):
    db = tmp_path / "state.sqlite"
    if content is None:
        with sqlite3.connect(db) as other:
            other.execute("CREATE TABLE accounts (id INTEGER)")
        other.close()
    else:
        db.write_bytes(content)
    result = subprocess.run([*CLI, "dev", ORDERS, "--port", "0", "--db", str(db)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"convex-py dev: error: --db {db} {reason}\n"


def test_a_failed_commit_answers_an_error_and_applies_nothing(tmp_path):
    db = str(tmp_path / "state.sqlite")
    server = DevServer(ConvexEmulator(modules=MODULES), port=0, tick_seconds=0.01, db=db).start()
    try:
        assert put_over_http(server, "items", 1)[0] == 200
        with server.persistence.lock:  # the disk refuses rows of one table, as a full disk would refuse all
            server.persistence.db.execute("CREATE TRIGGER refuse BEFORE INSERT ON documents WHEN NEW.tbl = 'boom' "
                                          "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
        status, body = put_over_http(server, "boom", 2)
        assert status == 500 and body["code"] == "InternalServerError"
        assert body["message"] == f"Could not write the commit to {db}: disk I/O error; nothing was applied"
        assert rows_over_http(server, "boom") == []
        assert len(server.emulator.scheduled_functions()) == 1  # only the first mutation's job
        assert put_over_http(server, "items", 3)[0] == 200  # and the server goes on
        assert rows_over_http(server, "items") == [1.0, 3.0]
    finally:
        server.stop()
    with sqlite3.connect(db) as check:
        tables = sorted(t for t, in check.execute("SELECT tbl FROM documents"))
    check.close()
    assert tables == ["_scheduled_functions", "_scheduled_functions", "items", "items"]


def test_with_the_file_locked_by_another_process_a_mutation_fails_whole_and_a_retry_writes_once(tmp_path):
    db = str(tmp_path / "state.sqlite")
    server = DevServer(ConvexEmulator(modules=MODULES), port=0, db=db).start()
    server.persistence.busy_timeout = 0.05
    server.persistence.db.execute("PRAGMA busy_timeout = 50")
    try:
        other = sqlite3.connect(db, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        status, body = put_over_http(server, "items", 1)
        assert (status, body["code"]) == (500, "InternalServerError")
        assert body["message"] == f"Could not write the commit to {db}: database is locked; nothing was applied"
        other.execute("ROLLBACK")
        other.close()
        assert rows_over_http(server, "items") == []
        client = ConvexHttpClient(server.url)
        client.mutation("m:put", {"table": "items", "n": 1.0})  # the client's retry
        assert rows_over_http(server, "items") == [1.0]  # applied exactly once
    finally:
        server.stop()


def test_acknowledged_writes_survive_kill_9(tmp_path):
    db = str(tmp_path / "state.sqlite")
    app = tmp_path / "app" / "convex"
    app.mkdir(parents=True)
    (app / "m.py").write_text(
        "from convex_py import mutation, query, v\n"
        "@mutation(args={'n': v.number()})\n"
        "def put(ctx, args):\n    ctx.db.insert('items', {'n': args['n']})\n"
        "@query\n"
        "def rows(ctx, args):\n    return [d['n'] for d in ctx.db.query('items').collect()]\n")
    first = subprocess.Popen([*CLI, "dev", str(app.parent), "--port", "0", "--db", db], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        url = first.stdout.readline().split(" at ")[1].split(" ")[0]
        client = ConvexHttpClient(url)
        for n in range(20):
            client.mutation("m:put", {"n": float(n)})
    finally:
        first.kill()  # SIGKILL: no chance to save anything more
        first.communicate(timeout=20)
    second = subprocess.Popen([*CLI, "dev", str(app.parent), "--port", "0", "--db", db], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        line = second.stdout.readline()
        assert "(20 documents restored)" in line
        assert ConvexHttpClient(line.split(" at ")[1].split(" ")[0]).query("m:rows") == [float(n) for n in range(20)]
    finally:
        second.send_signal(signal.SIGINT)
        out, err = second.communicate(timeout=20)
    assert second.returncode == 0 and "Traceback" not in err, err
