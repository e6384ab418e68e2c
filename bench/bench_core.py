"""Core figures: the cost of an inserting mutation, and a 100-document index range read at 10k and 100k.

Run: python bench/bench_core.py
Targets (issue: core): an insert mutation with validation under 20 µs; the 100k
range read no more than 1.5x the 10k one (O(log n + k)).
"""

from __future__ import annotations

import time

from convex_py import define_schema, define_table, mutation, query, v
from emulator import ConvexEmulator

SCHEMA = define_schema(
    {
        "messages": define_table({"body": v.string(), "author": v.string(), "n": v.number()}).index("by_n", ["n"]),
    }
)


@mutation(args={"body": v.string(), "author": v.string(), "n": v.number()}, returns=v.id("messages"))
def insert_message(ctx, args):
    return ctx.db.insert("messages", {"body": args["body"], "author": args["author"], "n": args["n"]})


@query(args={"start": v.number()})
def range_100(ctx, args):
    return ctx.db.query("messages").with_index("by_n", lambda q: q.gte("n", args["start"])).take(100)


def make() -> ConvexEmulator:
    return ConvexEmulator(modules={"messages": {"insert": insert_message, "range": range_100}}, schema=SCHEMA,
                          start_time="2030-01-01T00:00:00Z")


def bench_inserts(n: int = 1000, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = make()
        started = time.perf_counter()
        for i in range(n):
            t.mutation("messages:insert", {"body": f"hello {i}", "author": "ada", "n": i})
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6


def bench_range(size: int, reads: int = 300) -> float:
    t = make()

    def fill(ctx):
        for i in range(size):
            ctx.db.insert("messages", {"body": "x", "author": "a", "n": i})

    from emulator import Limits

    t.limits.max_documents_written = size + 1
    t.limits.max_bytes_written = 1 << 40
    t.run(fill)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for j in range(reads):
            page = t.query("messages:range", {"start": (j * 7919) % (size - 100)})
        best = min(best, time.perf_counter() - started)
        assert len(page) == 100
    return best / reads * 1e6


def main() -> None:
    per_insert = bench_inserts()
    print(f"insert mutation (args + returns validated, schema checked): {per_insert:.1f} us/call")
    r10k = bench_range(10_000)
    r100k = bench_range(100_000)
    print(f"100-document index range read over 10k docs:  {r10k:.1f} us")
    print(f"100-document index range read over 100k docs: {r100k:.1f} us  (ratio {r100k / r10k:.2f}x)")


if __name__ == "__main__":
    main()
