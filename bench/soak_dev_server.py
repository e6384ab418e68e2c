"""Soak of the dev server: 100k scheduled actions through its loop, time compressed; memory must stay flat.

Run: python bench/soak_dev_server.py [--jobs 100000] [--chains 50] [--spacing 10m] [--rate 20000] [--db]

A DevServer runs in this process with a fast clock (`--rate` virtual ms per
real ms). `--chains` chains of scheduled async actions run side by side: each
action (a task on the server's loop) runs a mutation that bumps a counter and
schedules the chain's next action `--spacing` later. Finished jobs stay in
`_scheduled_functions` for Convex's 7-day retention, then are deleted, so once
virtual time passes 7 days the job table (and memory) should stop growing.
A client thread queries over HTTP meanwhile. Printed: resident memory (RSS),
Python's allocated blocks and job rows at the start, when retention starts,
halfway from there to the end, and at the end; exits non-zero if either grew
more than 5% over that second half (memory must be flat once retention
deletes as many jobs as run), if any job failed, or if a query failed.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from convex_py import internal, internal_action, internal_mutation, mutation, query, v  # noqa: E402
from emulator import ConvexEmulator  # noqa: E402
from emulator.cli import parse_duration  # noqa: E402
from emulator.scheduler import RETENTION_MS  # noqa: E402
from emulator.server import DevServer  # noqa: E402

SPACING = [600_000.0]
MAX_GROWTH = 0.05  # of RSS and of allocated blocks, from halfway through retention to the end


@mutation(args={"chains": v.number()})
def start(ctx, args):
    for chain in range(int(args["chains"])):
        ctx.scheduler.run_after(0, internal.soak.step, {"chain": float(chain)})


@internal_action(args={"chain": v.number()})
async def step(ctx, args):
    await ctx.run_mutation(internal.soak.bump, {"chain": args["chain"]})


@internal_mutation(args={"chain": v.number()})
def bump(ctx, args):
    counter = ctx.db.query("counters").first()
    if counter is None:
        ctx.db.insert("counters", {"n": 1.0})
    else:
        ctx.db.patch(counter["_id"], {"n": counter["n"] + 1})
    ctx.scheduler.run_after(SPACING[0], internal.soak.step, {"chain": args["chain"]})


@query
def done(ctx, args):
    counter = ctx.db.query("counters").first()
    return 0.0 if counter is None else counter["n"]


MODULES = {"soak": {"start": start, "step": step, "bump": bump, "done": done}}


def blocks() -> int:
    """Python objects' allocated memory blocks: a leak shows here even when RSS hides it."""
    gc.collect()
    return sys.getallocatedblocks()


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def query_loop(host: str, port: int, stop: threading.Event, failures: list[str]) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    body = json.dumps({"path": "soak:done", "args": {}})
    while not stop.wait(0.01):
        try:
            conn.request("POST", "/api/query", body=body, headers={"Content-Type": "application/json"})
            answer = json.loads(conn.getresponse().read())
            if answer.get("status") != "success":
                failures.append(str(answer))
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--chains", type=int, default=50)
    parser.add_argument("--spacing", default="10m", help="virtual time between a chain's jobs (default 10m)")
    parser.add_argument("--rate", type=float, default=20_000.0,
                        help="virtual ms per real ms (default 20000: slow enough that jobs wait for their time)")
    parser.add_argument("--db", action="store_true", help="keep the state in a --db file")
    opts = parser.parse_args(argv)
    SPACING[0] = parse_duration(opts.spacing)
    print(f"python bench/soak_dev_server.py --jobs {opts.jobs} --chains {opts.chains} --spacing {opts.spacing} "
          f"--rate {opts.rate:g}" + (" --db" if opts.db else ""))
    folder = tempfile.mkdtemp()
    began_real = time.time() * 1000
    emulator = ConvexEmulator(modules=MODULES, start_time=began_real)
    server = DevServer(emulator, port=0, tick_seconds=0.005, db=str(Path(folder) / "soak.sqlite") if opts.db else None,
                       clock=lambda: began_real + (time.time() * 1000 - began_real) * opts.rate)
    server.start()
    stop = threading.Event()
    failures: list[str] = []
    host, port = server.address
    reader = threading.Thread(target=query_loop, args=(host, port, stop, failures), daemon=True)
    gc.collect()
    start_mb = rss_mb()
    print(f"{'real s':>7} {'virtual day':>11} {'jobs done':>10} {'job rows':>9} {'RSS MB':>8}")
    marks: dict[str, tuple[float, int, int]] = {"start": (start_mb, 0, blocks())}
    try:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.request("POST", "/api/mutation", body=json.dumps({"path": "soak:start", "args": {"chains": opts.chains}}),
                     headers={"Content-Type": "application/json"})
        assert json.loads(conn.getresponse().read())["status"] == "success"
        conn.close()
        reader.start()
        t0 = time.time()
        last_print = 0.0
        while True:
            time.sleep(0.2)
            jobs_done = int(emulator.query("soak:done"))
            with server.lock:
                rows = len(emulator.store.tables["_scheduled_functions"].docs)
            virtual_days = (emulator.now - began_real) / 86_400_000
            if "retention" not in marks and emulator.now - began_real > RETENTION_MS:
                marks["retention"] = (rss_mb(), rows, blocks())
                retention_jobs = jobs_done
            if "retention" in marks and "half" not in marks and jobs_done >= (retention_jobs + opts.jobs) / 2:
                marks["half"] = (rss_mb(), rows, blocks())
            if time.time() - last_print >= 2 or jobs_done >= opts.jobs:
                last_print = time.time()
                print(f"{time.time() - t0:>7.1f} {virtual_days:>11.2f} {jobs_done:>10} {rows:>9} {rss_mb():>8.1f}",
                      flush=True)
            if jobs_done >= opts.jobs:
                break
        marks["end"] = (rss_mb(), rows, blocks())
    finally:
        stop.set()
        reader.join(5)
        failed = len(emulator.scheduled_functions("failed"))
        server.stop()
    for name, (mb, rows, count) in marks.items():
        print(f"memory at {name:<9}: {mb:7.1f} MB RSS, {count:>9} allocated blocks, {rows} job rows")
    ok = True
    if "half" in marks:
        growth = marks["end"][0] / marks["half"][0] - 1
        block_growth = marks["end"][2] / marks["half"][2] - 1
        print(f"growth over the second half of retention: RSS {growth * 100:+.1f}%, "
              f"blocks {block_growth * 100:+.1f}% (limit +{MAX_GROWTH:.0%} each)")
        ok = growth <= MAX_GROWTH and block_growth <= MAX_GROWTH
    else:
        print("retention never started: run more jobs or a longer --spacing")
        ok = False
    print(f"failed jobs: {failed}; failed queries: {len(failures)}" + (f" (first: {failures[0]})" if failures else ""))
    return 0 if ok and failed == 0 and not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
