"""Search figures: text search over 10k and 100k documents, vector search over 10k 256-dimension
vectors, and what a search index adds to each insert.

Run: python bench/bench_search.py
Targets (issue 16): a text search on 100k documents under 5 ms, a 10k-vector search
under 10 ms, indexing adds under 20 µs per inserted document.

Messages are 8 to 20 words drawn from a 5,000-word vocabulary with a Zipf-like
skew (common words are in a large share of documents, as in real text), in 8
channels. Each search is a two-word query whose last word is a prefix, run as a
query function (`t.query`), so the figure includes the function call, the
ranking and loading the documents.
"""

from __future__ import annotations

import random
import time

from convex_py import action, define_schema, define_table, mutation, query, v
from emulator import ConvexEmulator

WORDS = [f"w{i:04d}" for i in range(5000)]
WEIGHTS = [1.0 / (i + 1) ** 0.9 for i in range(len(WORDS))]
DIMS = 256

SCHEMA = define_schema(
    {
        "messages": define_table({"body": v.string(), "channel": v.string()})
        .search_index("search_body", {"searchField": "body", "filterFields": ["channel"]}),
        "plain": define_table({"body": v.string(), "channel": v.string()}),
        "vectors": define_table({"embedding": v.array(v.float64()), "kind": v.string()})
        .vector_index("by_embedding", {"vectorField": "embedding", "dimensions": DIMS, "filterFields": ["kind"]}),
    }
)


@mutation(args={"table": v.string(), "body": v.string(), "channel": v.string()})
def insert(ctx, args):
    return ctx.db.insert(args["table"], {"body": args["body"], "channel": args["channel"]})


@mutation(args={"rows": v.array(v.object({"body": v.string(), "channel": v.string()}))})
def insert_many(ctx, args):
    for row in args["rows"]:
        ctx.db.insert("messages", row)


@mutation(args={"rows": v.array(v.object({"embedding": v.array(v.float64()), "kind": v.string()}))})
def insert_vectors(ctx, args):
    for row in args["rows"]:
        ctx.db.insert("vectors", row)


@query(args={"text": v.string(), "channel": v.optional(v.string())})
def search(ctx, args):
    def build(q):
        q = q.search("body", args["text"])
        return q.eq("channel", args["channel"]) if "channel" in args else q

    return ctx.db.query("messages").with_search_index("search_body", build).take(10)


@action(args={"vector": v.array(v.float64()), "kind": v.optional(v.string())})
def similar(ctx, args):
    spec = {"vector": args["vector"], "limit": 10}
    if "kind" in args:
        spec["filter"] = lambda q: q.eq("kind", args["kind"])
    return ctx.vector_search("vectors", "by_embedding", spec)


def make() -> ConvexEmulator:
    modules = {"m": {"insert": insert, "insert_many": insert_many, "insert_vectors": insert_vectors,
                     "search": search, "similar": similar}}
    return ConvexEmulator(modules=modules, schema=SCHEMA, start_time="2030-01-01T00:00:00Z")


def message(rng: random.Random) -> dict[str, str]:
    words = rng.choices(WORDS, WEIGHTS, k=rng.randint(8, 20))
    return {"body": " ".join(words), "channel": f"#c{rng.randrange(8)}"}


def bench_insert_cost(n: int = 2000, rounds: int = 5) -> tuple[float, float]:
    """µs per inserting mutation into a table with a search index, and into one without."""
    rng = random.Random(1)
    rows = [message(rng) for _ in range(n)]
    best = {"messages": float("inf"), "plain": float("inf")}
    for _ in range(rounds):
        for table in ("plain", "messages"):
            t = make()
            started = time.perf_counter()
            for row in rows:
                t.mutation("m:insert", {"table": table, **row})
            best[table] = min(best[table], time.perf_counter() - started)
    return best["messages"] / n * 1e6, best["plain"] / n * 1e6


def fill_messages(t: ConvexEmulator, size: int) -> None:
    rng = random.Random(size)
    for start in range(0, size, 5000):
        t.mutation("m:insert_many", {"rows": [message(rng) for _ in range(min(5000, size - start))]})


def bench_text(size: int, searches: int = 200) -> tuple[float, float]:
    """ms per search query (no filter, with a channel filter) over `size` documents."""
    t = make()
    fill_messages(t, size)
    rng = random.Random(7)
    queries = []
    for _ in range(searches):
        first, second = rng.choices(WORDS[:500], WEIGHTS[:500], k=2)
        queries.append(f"{first} {second[:3]}")
    figures = []
    for channel in (None, "#c3"):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for text in queries:
                args = {"text": text} if channel is None else {"text": text, "channel": channel}
                t.query("m:search", args)
            best = min(best, time.perf_counter() - started)
        figures.append(best / searches * 1e3)
    return figures[0], figures[1]


def bench_vectors(size: int = 10_000, searches: int = 100) -> tuple[float, float]:
    """ms per vector search action (no filter, with a filter) over `size` vectors."""
    t = make()
    rng = random.Random(3)
    for start in range(0, size, 1000):
        rows = [{"embedding": [rng.uniform(-1, 1) for _ in range(DIMS)], "kind": f"k{rng.randrange(4)}"}
                for _ in range(min(1000, size - start))]
        t.mutation("m:insert_vectors", {"rows": rows})
    probes = [[rng.uniform(-1, 1) for _ in range(DIMS)] for _ in range(searches)]
    figures = []
    for kind in (None, "k1"):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for vector in probes:
                t.action("m:similar", {"vector": vector} if kind is None else {"vector": vector, "kind": kind})
            best = min(best, time.perf_counter() - started)
        figures.append(best / searches * 1e3)
    return figures[0], figures[1]


def main() -> None:
    with_index, without = bench_insert_cost()
    print("Search benchmark (python bench/bench_search.py), best of 3 runs")
    print()
    print("| figure | convex-py | target |")
    print("| --- | --- | --- |")
    print(f"| insert mutation, table with a search index | {with_index:.1f} µs | |")
    print(f"| insert mutation, same table without one | {without:.1f} µs | |")
    print(f"| indexing cost per inserted document | {with_index - without:.1f} µs | < 20 µs |")
    for size in (10_000, 100_000):
        plain, filtered = bench_text(size)
        print(f"| text search query, {size // 1000}k documents | {plain:.2f} ms | {'< 5 ms' if size == 100_000 else ''} |")
        print(f"| same, with a channel filter | {filtered:.2f} ms | |")
    plain, filtered = bench_vectors()
    print(f"| vector search action, 10k x {DIMS} | {plain:.2f} ms | < 10 ms |")
    print(f"| same, with a filter | {filtered:.2f} ms | |")


if __name__ == "__main__":
    main()
