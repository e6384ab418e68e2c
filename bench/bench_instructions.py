"""Instructions per call on the hot path, counted by valgrind: steady figures on a noisy machine.

Run: python bench/bench_instructions.py [N]      (default 1000; needs valgrind on PATH)

Each workload runs twice in a fresh interpreter under `valgrind --tool=cachegrind`, once doing
N calls and once doing only their setup; the difference over N is what one call costs:
  noop      a mutation with one string argument that returns None
  insert    bench_scheduler's insertOnly (phase 1)
  send      bench_scheduler's send: insert, run_after, return a dict (phase 2)
  run_after one of N run_after calls in a single mutation (phase 4)
  range     a query returning 100 documents of 10,000 (bench_core's range_100)
PYTHONHASHSEED is fixed, so two runs of one tree agree to within a few hundred instructions.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("noop", "insert", "send", "run_after", "range")


def workload(name: str, n: int, calls: bool) -> None:
    """The body run under valgrind: setup, then `n` calls when `calls` (else only the setup)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import bench_core
    import bench_scheduler

    from convex_py import internal, mutation, v

    if name == "range":
        t = bench_core.make()
        t.limits.max_documents_written = 10_001
        t.limits.max_bytes_written = 1 << 40
        t.run(lambda ctx: [ctx.db.insert("messages", {"body": "x", "author": "a", "n": i}) for i in range(10_000)])
        t.query("messages:range", {"start": 5})
        for j in range(n if calls else 0):
            t.query("messages:range", {"start": (j * 7919) % 9900})
        return

    @mutation(args={"body": v.string()})
    def noop(ctx, args):
        return None

    bench_scheduler.MODULES["messages"]["noop"] = noop
    t = bench_scheduler.emulator()
    t.mutation("messages:insertOnly", {"body": "warm"})
    t.mutation("messages:send", {"body": "warm"})
    if name == "run_after":
        ids = t.run(lambda ctx: [ctx.db.insert("messages", {"body": f"x{i}", "processed": False}) for i in range(n)])

        def schedule_all(ctx):
            for message_id in ids:
                ctx.scheduler.run_after(1000, internal.messages.markProcessed, {"id": message_id})

        if calls:
            t.mutation(schedule_all)
        return
    path = {"noop": "messages:noop", "insert": "messages:insertOnly", "send": "messages:send"}[name]
    for i in range(n):
        body = f"b{i}"
        if calls:
            t.mutation(path, {"body": body})


def count(name: str, n: int, calls: bool) -> int:
    """Instructions valgrind counts for one run of the workload."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, __file__, "--run", name, str(n), "1" if calls else "0"]
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    match = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or match is None:
        sys.exit(f"valgrind failed on {name}:\n{done.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--run"]:
        workload(argv[1], int(argv[2]), argv[3] == "1")
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench_instructions needs valgrind (apt install valgrind)")
    n = int(argv[0]) if argv else 1000
    subprocess.run([sys.executable, "-m", "compileall", "-q", "convex_py", "emulator", "bench"], cwd=ROOT,
                   capture_output=True)  # so the measured run does not compile changed modules
    print(f"instructions per call (valgrind cachegrind, PYTHONHASHSEED=0, N={n})")
    for name in WORKLOADS:
        calls = n if name != "range" else max(n // 5, 1)
        per_call = (count(name, calls, True) - count(name, calls, False)) / calls
        print(f"{name:<10}{per_call:>12,.0f}")
    print(f"command: python bench/bench_instructions.py {n}")


if __name__ == "__main__":
    main(sys.argv[1:])
