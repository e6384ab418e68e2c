"""Load test of the dev server (emulator/server.py) over its HTTP API.

Run: python bench/bench_dev_server.py [--clients 8] [--seconds 10] [--requests 2000]

Starts a DevServer in-process on 127.0.0.1 (a free port), then N client threads,
each with one keep-alive http.client.HTTPConnection, alternate
`counter:add` (a mutation inserting one document) and `counter:count` (a query
counting that client's documents through an index) until the time limit or the
per-client request budget runs out, whichever comes first. Prints throughput,
latency percentiles and errors, then checks that each client's document count,
read through the HTTP API and from the emulator directly, equals its
successful adds. Exits non-zero if the data is not intact.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import math
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convex_py import define_schema, define_table, mutation, query, v  # noqa: E402
from emulator import ConvexEmulator  # noqa: E402
from emulator.server import DevServer  # noqa: E402

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


def decode_int(value: Any) -> int:
    """A count from Convex-encoded JSON: {"$integer": base64 of 8 little-endian bytes}."""
    if isinstance(value, dict) and set(value) == {"$integer"}:
        return struct.unpack("<q", base64.b64decode(value["$integer"]))[0]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    raise ValueError(f"not an integer: {value!r}")


def call(conn: http.client.HTTPConnection, kind: str, path: str, args: dict[str, Any]) -> Any:
    """One request on a keep-alive connection; the function's value, or an exception."""
    body = json.dumps({"path": path, "args": args, "format": "convex_encoded_json"})
    conn.request("POST", f"/api/{kind}", body=body, headers=HEADERS)
    response = conn.getresponse()
    payload = response.read()  # read it all, so the connection can be reused
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {payload[:200]!r}")
    answer = json.loads(payload)
    if answer.get("status") != "success":
        raise RuntimeError(f"{answer.get('status')}: {answer.get('errorMessage') or answer}")
    return answer.get("value")


@dataclass
class ClientStats:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, every request, failed ones too
    adds_ok: int = 0
    adds_unknown: int = 0  # transport failures during an add: it may or may not have committed
    errors: int = 0
    stale_counts: int = 0  # a count that did not equal this client's successful adds so far
    first_error: str | None = None


def client_loop(host: str, port: int, stats: ClientStats, requests: int, deadline: list[float],
                start: threading.Barrier) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    start.wait()  # the main thread sets deadline[0] before it reaches the barrier
    end = deadline[0]
    try:
        for i in range(requests):
            if time.perf_counter() >= end:
                break
            is_add = i % 2 == 0
            began = time.perf_counter()
            try:
                if is_add:
                    call(conn, "mutation", "counter:add", {"client": stats.name, "seq": float(i // 2)})
                    stats.adds_ok += 1
                else:
                    seen = decode_int(call(conn, "query", "counter:count", {"client": stats.name}))
                    if seen != stats.adds_ok and stats.adds_unknown == 0:
                        stats.stale_counts += 1
            except (OSError, http.client.HTTPException) as exc:  # the connection broke: start a new one
                stats.errors += 1
                stats.adds_unknown += is_add
                stats.first_error = stats.first_error or f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
            except (RuntimeError, ValueError) as exc:  # the server answered with an error
                stats.errors += 1
                stats.first_error = stats.first_error or str(exc)
            finally:
                stats.latencies.append(time.perf_counter() - began)
    finally:
        conn.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = math.ceil(fraction * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit (default 10)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per client (default 2000)")
    opts = parser.parse_args(argv)

    server = DevServer(ConvexEmulator(modules=MODULES, schema=SCHEMA), host="127.0.0.1", port=0).start()
    host, port = server.address
    print(f"dev server at {server.url}; {opts.clients} clients, at most {opts.seconds:g} s "
          f"or {opts.requests} requests each", flush=True)
    intact = False
    try:
        stats = [ClientStats(f"client-{n}") for n in range(opts.clients)]
        start = threading.Barrier(opts.clients + 1)
        deadline: list[float] = []
        threads = [threading.Thread(target=client_loop, name=f"bench-{s.name}",
                                    args=(host, port, s, opts.requests, deadline, start)) for s in stats]
        for thread in threads:
            thread.start()
        began = time.perf_counter()
        deadline.append(began + opts.seconds)
        start.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began

        latencies = sorted(x for s in stats for x in s.latencies)
        total = len(latencies)
        errors = sum(s.errors for s in stats)
        print(f"total requests: {total} in {elapsed:.2f} s")
        print(f"requests/s: {total / elapsed:.0f}" if elapsed > 0 else "requests/s: -")
        print(f"latency ms: p50 {percentile(latencies, 0.50) * 1000:.2f}, "
              f"p99 {percentile(latencies, 0.99) * 1000:.2f}, max {latencies[-1] * 1000 if latencies else 0:.2f}")
        print(f"errors: {errors}")
        for s in stats:
            if s.first_error:
                print(f"  {s.name}: {s.errors} errors, first: {s.first_error}")
        stale = sum(s.stale_counts for s in stats)
        print(f"counts not matching the client's own prior adds: {stale}")

        # The data check: every successful add is there, nothing more.
        intact = True
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            for s in stats:
                over_http = decode_int(call(conn, "query", "counter:count", {"client": s.name}))
                direct = server.emulator.query("counter:count", {"client": s.name})
                if not over_http == direct == s.adds_ok:
                    intact = False
                    print(f"  {s.name}: {s.adds_ok} successful adds ({s.adds_unknown} unknown), "
                          f"count over HTTP {over_http}, in the emulator {direct}")
        finally:
            conn.close()
        documents = len(server.emulator.query(lambda ctx: ctx.db.query("entries").collect()))
        expected = sum(s.adds_ok for s in stats)
        if documents != expected:
            intact = False
            print(f"  {documents} documents in all, {expected} successful adds")
        intact = intact and stale == 0
        print(f"data intact: {'yes' if intact else 'no'} ({expected} documents)")
    finally:
        server.stop()
    return 0 if intact else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
