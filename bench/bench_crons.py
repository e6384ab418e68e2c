"""Cron figures: a `* * * * *` cron through 7 days (10,080 runs), and a daily cron through a year.

Run: python bench/bench_crons.py
Target (issue: crons): the 7-day minute cron, each run a trivial mutation, in under 1 s;
the cost follows the runs (a year of a daily cron is 365 runs, not 525,600 minute checks).
"""

from __future__ import annotations

import time

from convex_py import cron_jobs, internal, internal_mutation
from emulator import ConvexEmulator


@internal_mutation
def tick(ctx, args):
    ctx.db.insert("ticks", {"at": 1})


def run(spec: str, days: int) -> tuple[int, float]:
    crons = cron_jobs()
    crons.cron("job", spec, internal.jobs.tick)
    t = ConvexEmulator(modules={"jobs": {"tick": tick}, "crons": {"crons": crons}}, start_time="2030-01-01T00:00:00Z")
    t.limits.max_documents_read = 10**9
    started = time.perf_counter()
    t.advance(days=days)
    elapsed = time.perf_counter() - started
    return len(t.cron_runs("job")), elapsed


def main() -> None:
    runs, elapsed = run("* * * * *", 7)
    print(f"'* * * * *' through 7 days: {runs} runs in {elapsed * 1000:.0f} ms ({elapsed / runs * 1e6:.1f} us/run)")
    runs, elapsed = run("0 9 * * *", 365)
    print(f"'0 9 * * *' through 365 days: {runs} runs in {elapsed * 1000:.1f} ms")


if __name__ == "__main__":
    main()
