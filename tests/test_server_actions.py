"""Scheduled actions on the dev server's loop, in real time, and where function logs go."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

from convex_py import internal, internal_action, internal_mutation, mutation, query, v
from emulator import ConvexEmulator
from emulator.server import DevServer

from _server_http import post, wait_for

GATES: dict[str, threading.Event] = {}


@internal_mutation(args={"text": v.string()})
def record(ctx, args):
    ctx.db.insert("records", {"text": args["text"]})


@query
def records(ctx, args):
    return [r["text"] for r in ctx.db.query("records").collect()]


@internal_action(args={"port": v.number()})
async def fetch_line(ctx, args):
    reader, writer = await asyncio.open_connection("127.0.0.1", int(args["port"]))
    line = await reader.readline()
    writer.close()
    await ctx.run_mutation(internal.m.record, {"text": line.decode().strip()})


@internal_action(args={"gate": v.string()})
def wait_at_gate(ctx, args):
    ctx.run_mutation(internal.m.record, {"text": "started"})
    GATES[args["gate"]].wait(20)
    ctx.run_mutation(internal.m.record, {"text": "finished"})


@mutation(args={"ref": v.string(), "args": v.any()})
def schedule(ctx, args):
    ref = {"fetch_line": internal.m.fetch_line, "wait_at_gate": internal.m.wait_at_gate,
           "noisy": internal.m.noisy, "noisy_action": internal.m.noisy_action}[args["ref"]]
    return ctx.scheduler.run_after(0, ref, args["args"])


@internal_mutation
def noisy(ctx, args):
    print("hello from a job")
    logging.getLogger("app").warning("careful: %s", "job")


@internal_action
async def noisy_action(ctx, args):
    await asyncio.sleep(0)
    print("hello from an action")


@query
def logs_in_a_query(ctx, args):
    print("first")
    logging.getLogger("app").warning("second %d", 2)
    logging.getLogger("app").error("third")
    return None


MODULES = {"m": {"record": record, "records": records, "fetch_line": fetch_line, "wait_at_gate": wait_at_gate,
                 "schedule": schedule, "noisy": noisy, "noisy_action": noisy_action,
                 "logs_in_a_query": logs_in_a_query}}


@pytest.fixture
def server():
    dev = DevServer(ConvexEmulator(modules=MODULES), port=0, tick_seconds=0.01).start()
    yield dev
    dev.stop()


def call(server, kind: str, path: str, args: dict | None = None):
    status, body = post(server, f"/api/{kind}", {"path": path, "args": args or {}}, timeout=5)
    assert status == 200 and body["status"] == "success", body
    return body["value"]


def job_states(server) -> list[str]:
    return [j["state"]["kind"] for j in server.emulator.scheduled_functions()]


def test_a_scheduled_async_action_doing_network_io_finishes_when_the_answer_comes(server):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_after_a_round_trip():
        conn, _ = listener.accept()
        time.sleep(0.2)  # a 200 ms round trip
        conn.sendall(b"pong\n")
        conn.close()

    peer = threading.Thread(target=answer_after_a_round_trip, daemon=True)
    peer.start()
    try:
        call(server, "mutation", "m:schedule", {"ref": "fetch_line", "args": {"port": float(port)}})
        wait_for(lambda: job_states(server) == ["success"], what="the action to finish")
        assert call(server, "query", "m:records") == ["pong"]
    finally:
        listener.close()
        peer.join(5)


def test_a_blocking_sync_action_does_not_hold_up_queries_and_mutations(server):
    GATES["g1"] = gate = threading.Event()
    try:
        call(server, "mutation", "m:schedule", {"ref": "wait_at_gate", "args": {"gate": "g1"}})
        wait_for(lambda: job_states(server) == ["inProgress"], what="the action to start")
        # While it blocks, queries and mutations are answered (a 5 s client timeout would fail otherwise).
        assert wait_for(lambda: call(server, "query", "m:records") == ["started"], what="the first record")
        call(server, "mutation", "m:schedule", {"ref": "noisy", "args": {}})
        wait_for(lambda: job_states(server)[1:] == ["success"], what="the scheduled mutation to run")
        assert job_states(server)[0] == "inProgress"
        gate.set()
        wait_for(lambda: job_states(server)[0] == "success", what="the action to finish")
        assert call(server, "query", "m:records") == ["started", "finished"]
    finally:
        gate.set()


def test_prints_and_logging_in_a_request_come_back_as_its_log_lines(server):
    status, body = post(server, "/api/query", {"path": "m:logs_in_a_query", "args": {}})
    assert body["logLines"] == ["[LOG] first", "[WARN] second 2", "[ERROR] third"]


def test_concurrent_requests_keep_their_own_log_lines(server):
    results: list[list[str]] = []

    def one():
        results.append(post(server, "/api/query", {"path": "m:logs_in_a_query", "args": {}})[1]["logLines"])

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [["[LOG] first", "[WARN] second 2", "[ERROR] third"]] * 8


def test_scheduled_functions_log_to_the_server_log_with_their_path(server, capsys):
    call(server, "mutation", "m:schedule", {"ref": "noisy", "args": {}})
    call(server, "mutation", "m:schedule", {"ref": "noisy_action", "args": {}})
    wait_for(lambda: job_states(server) == ["success", "success"], what="both jobs")
    out = capsys.readouterr().out.splitlines()
    assert "convex-py dev: [m:noisy] [LOG] hello from a job" in out
    assert "convex-py dev: [m:noisy] [WARN] careful: job" in out
    assert "convex-py dev: [m:noisy_action] [LOG] hello from an action" in out


def test_print_outside_functions_is_untouched_while_the_server_runs(server, capsys):
    import sys

    stdout = sys.stdout
    print("plain")
    assert sys.stdout is stdout
    assert capsys.readouterr().out == "plain\n"


def test_the_servers_execution_log_keeps_only_its_newest_entries():
    # A server runs for days and shows no timeline: each log keeps its newest `max_log_entries`.
    emulator = ConvexEmulator(modules=MODULES)
    dev = DevServer(emulator, port=0, tick_seconds=0.01)
    dev.max_log_entries = 3
    dev.start()
    try:
        for n in range(5):
            call(dev, "mutation", "m:schedule", {"ref": "noisy", "args": {}})
        wait_for(lambda: job_states(dev) == ["success"] * 5, what="the five jobs")
        assert len(emulator.timeline()) == 3
        assert [entry["function"] for entry in emulator.timeline()] == ["m:noisy"] * 3
    finally:
        dev.stop()
