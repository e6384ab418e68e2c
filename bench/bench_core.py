"""Core figures: the cost of an inserting mutation, a 100-document index range read at 10k and 100k,
the memory a document takes at 100k, and the worst garbage-collector pause while inserting 100k.

Run: python bench/bench_core.py
Targets (issue: core): an insert mutation with validation under 20 µs; the 100k
range read no more than 1.5x the 10k one (O(log n + k)). Issue "fast test suites":
at most 800 bytes per small document at 100k, and no GC pause that grows with the store.
"""

from __future__ import annotations

import gc
import time
import tracemalloc

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


def bytes_per_document(size: int = 100_000) -> float:
    """What `size` documents of the messages table (3 fields, one index) add to the heap, per document."""
    t = make()
    t.limits.max_documents_written = size + 1
    t.limits.max_bytes_written = 1 << 40

    def fill(ctx):
        for i in range(size):
            ctx.db.insert("messages", {"body": f"hello {i}", "author": "ada", "n": i})

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        t.run(fill)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / size


def gc_pauses(size: int = 100_000) -> tuple[float, float, int]:
    """Insert `size` documents, one mutation each, timing every collection the interpreter makes on
    its own: (worst pause ms, worst full-collection pause ms, collections). Then one full collection."""
    t = make()
    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def timer(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - started[0]) * 1000))

    gc.collect()
    gc.callbacks.append(timer)
    try:
        for i in range(size):
            t.mutation("messages:insert", {"body": f"hello {i}", "author": "ada", "n": i})
    finally:
        gc.callbacks.remove(timer)
    worst = max((ms for _gen, ms in pauses), default=0.0)
    worst_full = max((ms for gen, ms in pauses if gen == 2), default=0.0)
    return worst, worst_full, len(pauses)


def full_collection_ms(size: int) -> float:
    """One full collection (gc.collect()) with `size` documents in the store, best of 5."""
    t = make()
    t.limits.max_documents_written = size + 1
    t.limits.max_bytes_written = 1 << 40
    t.run(lambda ctx: [ctx.db.insert("messages", {"body": "x", "author": "a", "n": i}) for i in range(size)])
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        gc.collect()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    per_insert = bench_inserts()
    print(f"insert mutation (args + returns validated, schema checked): {per_insert:.1f} us/call")
    r10k = bench_range(10_000)
    r100k = bench_range(100_000)
    print(f"100-document index range read over 10k docs:  {r10k:.1f} us")
    print(f"100-document index range read over 100k docs: {r100k:.1f} us  (ratio {r100k / r10k:.2f}x)")
    print(f"memory per document at 100k (3 fields, one index): {bytes_per_document():.0f} bytes  (target <= 800)")
    worst, worst_full, count = gc_pauses()
    print(f"inserting 100k documents, one mutation each: worst GC pause {worst:.1f} ms "
          f"(worst full collection {worst_full:.1f} ms; {count} collections)")
    print(f"one full gc.collect() with 1k documents: {full_collection_ms(1_000):.1f} ms, "
          f"with 100k: {full_collection_ms(100_000):.1f} ms")


if __name__ == "__main__":
    main()
