"""Live queries: what a mutation costs when subscriptions watch, and how many queries it re-runs.

Run: python bench/bench_live.py
1,000 subscriptions, each on its own key (an index range `by_key = k`), then 10,000
mutations, each patching the document of one key out of 2,000 (half of them watched);
then the cost of a mutation that concerns no subscription, with 0 to 10,000 of them.
Target (issue: live queries): re-runs equal the subscriptions the mutations touched, not
all of them, and the cost of a mutation that concerns no subscription does not grow with
how many subscriptions exist.
"""

from __future__ import annotations

import random
import time

from convex_py import define_schema, define_table, mutation, query, v
from emulator import ConvexEmulator

SCHEMA = define_schema({"counters": define_table({"key": v.string(), "n": v.number()}).index("by_key", ["key"])})
KEYS = 2_000  # the headline's keys: 1,000 of them watched
MUTATIONS = 10_000
MAX_SUBSCRIPTIONS = 10_000  # the flatness table subscribes up to this many, on keys no mutation touches


@query(args={"key": v.string()})
def get(ctx, args):
    doc = ctx.db.query("counters").with_index("by_key", lambda q: q.eq("key", args["key"])).unique()
    return None if doc is None else doc["n"]


@mutation(args={"key": v.string()})
def bump(ctx, args):
    doc = ctx.db.query("counters").with_index("by_key", lambda q: q.eq("key", args["key"])).unique()
    ctx.db.patch(doc["_id"], {"n": doc["n"] + 1})


def make(keys: int = KEYS) -> ConvexEmulator:
    t = ConvexEmulator(modules={"counters": {"get": get, "bump": bump}}, schema=SCHEMA,
                       start_time="2030-01-01T00:00:00Z")

    for start in range(0, keys, 10_000):  # within the 16,000 writes of one mutation
        def fill(ctx, start=start):
            for i in range(start, min(start + 10_000, keys)):
                ctx.db.insert("counters", {"key": f"k{i}", "n": 0})

        t.run(fill)
    return t


def timed_mutations(t: ConvexEmulator, keys: list[str]) -> float:
    """CPU µs per mutation over `keys`, best of 3 (CPU time: steadier than wall time on a shared machine)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for key in keys:
            t.mutation("counters:bump", {"key": key})
        best = min(best, time.process_time() - started)
    return best / len(keys) * 1e6


def main() -> None:
    rng = random.Random(1)
    watched_keys = [f"k{i}" for i in range(0, KEYS, 2)]  # 1,000 of the 2,000 keys
    watched = set(watched_keys)
    sequence = [f"k{rng.randrange(KEYS)}" for _ in range(MUTATIONS)]
    touching = sum(1 for key in sequence if key in watched)

    # 1. The headline: 1,000 subscriptions, 10,000 mutations, re-runs counted.
    t = make()
    subs = [t.subscribe("counters:get", {"key": key}) for key in watched_keys]
    runs_before = sum(sub.runs for sub in subs)
    started = time.process_time()
    for key in sequence:
        t.mutation("counters:bump", {"key": key})
    elapsed = time.process_time() - started
    reruns = sum(sub.runs for sub in subs) - runs_before
    changes = sum(len(sub.history) - 1 for sub in subs)
    assert reruns == touching, (reruns, touching)
    assert changes == touching
    assert all(sub.value == t.query("counters:get", {"key": key}) for sub, key in zip(subs, watched_keys))
    print(f"{len(subs)} subscriptions, {MUTATIONS} mutations: {reruns} re-runs "
          f"(= {touching} mutations touching a watched key; {MUTATIONS - touching} touched none), "
          f"{elapsed / MUTATIONS * 1e6:.1f} CPU us per mutation including re-runs")

    # 2. Invalidation cost alone: mutations on unwatched keys, as the number of subscriptions grows.
    unwatched = [key for key in sequence if key not in watched][:3_000]
    everywhere = [f"k{i}" for i in range(0, 2 * MAX_SUBSCRIPTIONS, 2)]
    print()
    print("subscriptions | CPU us per mutation touching none of them (best of 3, 3,000 mutations)")
    print("------------- | --------------------------------------------------------------------")
    for count in (0, 10, 100, 1_000, 10_000):
        t = make(2 * MAX_SUBSCRIPTIONS)
        subs = [t.subscribe("counters:get", {"key": key}) for key in everywhere[:count]]
        cost = timed_mutations(t, unwatched)
        assert all(sub.runs == 1 for sub in subs)
        print(f"{count:>13} | {cost:.1f}")
    print()
    print("command: python bench/bench_live.py")


if __name__ == "__main__":
    main()
