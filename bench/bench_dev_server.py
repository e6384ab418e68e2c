"""Load test of the dev server (emulator/server/) over its HTTP API, in memory and with --db.

Run: python bench/bench_dev_server.py [--clients 1,8,32,128] [--seconds 5] [--mix alternate|mutations]

For each storage (memory, a fresh --db file) and each client count, a server
runs in its own process (so the clients do not share its interpreter lock) and
N client threads, each with one keep-alive http.client connection, call
`counter:add` (a mutation inserting one document) and, with --mix alternate,
`counter:count` (a query counting that client's documents through an index)
in turn, until the time runs out. Printed per run: requests/s, mutations/s,
p50/p99 latency, errors, and whether the data is intact: each client's count
over HTTP equals its acknowledged adds and, with --db, after the server is
stopped the file holds exactly those documents. Exits non-zero on any error.
Targets (issue 13): with --db, >= 1,000 mutations/s at 8 clients; p99 < 100 ms
at 32 clients; zero errors.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import math
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convex_py import define_schema, define_table, mutation, query, v  # noqa: E402

SCHEMA = define_schema({
    "entries": define_table({"client": v.string(), "seq": v.number()}).index("by_client", ["client"]),
})


@mutation(args={"client": v.string(), "seq": v.number()})
def add(ctx, args):
    return ctx.db.insert("entries", {"client": args["client"], "seq": args["seq"]})


@query(args={"client": v.string()})
def count(ctx, args):
    return len(ctx.db.query("entries").with_index("by_client", lambda q: q.eq("client", args["client"])).collect())


MODULES = {"counter": {"add": add, "count": count}}
HEADERS = {"Content-Type": "application/json"}


def serve(db: str | None) -> None:
    """The server process: print the URL, serve until SIGINT."""
    from emulator import ConvexEmulator
    from emulator.server import DevServer

    server = DevServer(ConvexEmulator(modules=MODULES, schema=SCHEMA), port=0, db=db)
    print(server.url, flush=True)
    server.serve_forever()


def decode_int(value: Any) -> int:
    """A count from Convex-encoded JSON: {"$integer": base64 of 8 little-endian bytes}."""
    if isinstance(value, dict) and set(value) == {"$integer"}:
        return struct.unpack("<q", base64.b64decode(value["$integer"]))[0]
    raise ValueError(f"not an integer: {value!r}")


def call(conn: http.client.HTTPConnection, kind: str, path: str, args: dict[str, Any]) -> Any:
    body = json.dumps({"path": path, "args": args, "format": "convex_encoded_json"})
    conn.request("POST", f"/api/{kind}", body=body, headers=HEADERS)
    response = conn.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {payload[:200]!r}")
    answer = json.loads(payload)
    if answer.get("status") != "success":
        raise RuntimeError(f"{answer.get('status')}: {answer.get('errorMessage') or answer}")
    return answer.get("value")


@dataclass
class ClientStats:
    name: str
    latencies: list[float] = field(default_factory=list)
    adds_ok: int = 0
    errors: int = 0
    stale_counts: int = 0
    first_error: str | None = None


def client_loop(host: str, port: int, stats: ClientStats, mix: str, end: list[float], start: threading.Barrier) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    start.wait()
    i = 0
    try:
        while time.perf_counter() < end[0]:
            is_add = mix == "mutations" or i % 2 == 0
            i += 1
            began = time.perf_counter()
            try:
                if is_add:
                    call(conn, "mutation", "counter:add", {"client": stats.name, "seq": float(i)})
                    stats.adds_ok += 1
                else:
                    seen = decode_int(call(conn, "query", "counter:count", {"client": stats.name}))
                    stats.stale_counts += seen != stats.adds_ok
            except Exception as exc:  # counted and shown: the bench fails on any
                stats.errors += 1
                stats.first_error = stats.first_error or f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
            stats.latencies.append(time.perf_counter() - began)
    finally:
        conn.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = math.ceil(fraction * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def run(clients: int, seconds: float, mix: str, db: str | None) -> dict[str, Any]:
    process = subprocess.Popen([sys.executable, __file__, "--serve"] + (["--db", db] if db else []),
                               stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        stats = [ClientStats(f"client-{n}") for n in range(clients)]
        barrier = threading.Barrier(clients + 1)
        end = [math.inf]
        threads = [threading.Thread(target=client_loop, args=(host, int(port), s, mix, end, barrier)) for s in stats]
        for thread in threads:
            thread.start()
        began = time.perf_counter()
        end[0] = began + seconds
        barrier.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        intact = all(decode_int(call(conn, "query", "counter:count", {"client": s.name})) == s.adds_ok for s in stats)
        conn.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    expected = sum(s.adds_ok for s in stats)
    if db is not None:
        with sqlite3.connect(db) as check:
            on_disk = check.execute("SELECT count(*) FROM documents WHERE tbl = 'entries'").fetchone()[0]
        check.close()
        intact = intact and on_disk == expected
    latencies = sorted(x for s in stats for x in s.latencies)
    errors = [s.first_error for s in stats if s.first_error]
    return {
        "clients": clients, "storage": "--db" if db else "memory", "requests": len(latencies),
        "rps": len(latencies) / elapsed, "mps": expected / elapsed,
        "p50": percentile(latencies, 0.5) * 1000, "p99": percentile(latencies, 0.99) * 1000,
        "errors": sum(s.errors for s in stats), "first_error": errors[0] if errors else None,
        "stale": sum(s.stale_counts for s in stats), "intact": intact and not sum(s.stale_counts for s in stats),
    }


def fsync_ms(folder: str, samples: int = 20) -> tuple[float, float]:
    """p50 and p90 of an fsync after a 4 KiB append in `folder`: the floor under a durable commit."""
    path = Path(folder) / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    times = []
    try:
        for _ in range(samples):
            os.write(fd, b"x" * 4096)
            began = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - began) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return percentile(times, 0.5), percentile(times, 0.9)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,8,32,128", help="client counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per run (default 5)")
    parser.add_argument("--mix", choices=["alternate", "mutations"], default="alternate",
                        help="alternate mutation and query (default), or only mutations")
    parser.add_argument("--storage", default="memory,db", help="memory, db or both (default)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    opts = parser.parse_args(argv)
    if opts.serve:
        serve(opts.db)
        return 0
    print(f"python bench/bench_dev_server.py --clients {opts.clients} --seconds {opts.seconds:g} --mix {opts.mix}")
    print(f"{'storage':<8} {'clients':>7} {'requests':>9} {'req/s':>8} {'mut/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6}  intact")
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        p50, p90 = fsync_ms(folder)
        print(f"machine: {os.cpu_count()} CPUs, load average {load}; fsync of a 4 KiB append: "
              f"p50 {p50:.2f} ms, p90 {p90:.2f} ms")
        for storage in opts.storage.split(","):
            for clients in [int(c) for c in opts.clients.split(",")]:
                db = str(Path(folder) / f"bench-{clients}.sqlite") if storage == "db" else None
                r = run(clients, opts.seconds, opts.mix, db)
                print(f"{r['storage']:<8} {r['clients']:>7} {r['requests']:>9} {r['rps']:>8.0f} {r['mps']:>8.0f} "
                      f"{r['p50']:>8.2f} {r['p99']:>8.2f} {r['errors']:>6}  {'yes' if r['intact'] else 'NO'}",
                      flush=True)
                if r["first_error"]:
                    print(f"  first error: {r['first_error']}")
                ok = ok and r["intact"] and r["errors"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
