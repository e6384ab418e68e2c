"""Live queries in tests: `t.subscribe` histories over virtual time, and re-runs only on writes into a read set."""

from __future__ import annotations

import random

import pytest

from convex_py import (
    ConvexError,
    api,
    cron_jobs,
    define_schema,
    define_table,
    internal,
    internal_mutation,
    mutation,
    query,
    v,
)
from emulator import ConvexEmulator

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
START = "2030-01-01T00:00:00Z"

SCHEMA = define_schema(
    {"items": define_table({"key": v.string(), "n": v.number(), "note": v.optional(v.string())})
     .index("by_key", ["key"])}
)


@query(args={"key": v.string()})
def by_key(ctx, args):
    return [d["n"] for d in ctx.db.query("items").with_index("by_key", lambda q: q.eq("key", args["key"])).collect()]


@query
def oldest(ctx, args):
    doc = ctx.db.query("items").first()
    return None if doc is None else doc["n"]


@query(args={"id": v.id("items")})
def one(ctx, args):
    doc = ctx.db.get(args["id"])
    return None if doc is None else doc["n"]


@query
def first_big(ctx, args):
    doc = ctx.db.query("items").filter(lambda q: q.gte(q.field("n"), 10)).first()
    return None if doc is None else doc["n"]


@query
def total(ctx, args):
    return sum(d["n"] for d in ctx.db.query("items").collect())


@query
def strict_total(ctx, args):
    n = sum(d["n"] for d in ctx.db.query("items").collect())
    if n > 100:
        raise ConvexError({"code": "TOO_BIG", "total": n})
    return n


@query
def job_states(ctx, args):
    return [j["state"]["kind"] for j in ctx.db.system.query("_scheduled_functions").collect()]


@query
def notes(ctx, args):
    return [d["body"] for d in ctx.db.query("notes").collect()]


@mutation(args={"key": v.string(), "n": v.number()})
def put(ctx, args):
    return ctx.db.insert("items", args)


@mutation(args={"id": v.id("items"), "fields": v.any()})
def change(ctx, args):
    ctx.db.patch(args["id"], args["fields"])


@mutation(args={"id": v.id("items")})
def remove(ctx, args):
    ctx.db.delete(args["id"])


@mutation(args={"key": v.string(), "n": v.number(), "delay": v.number()})
def put_later(ctx, args):
    ctx.scheduler.run_after(args["delay"], internal.items.put_now, {"key": args["key"], "n": args["n"]})


@internal_mutation(args={"key": v.string(), "n": v.number()})
def put_now(ctx, args):
    ctx.db.insert("items", args)


@internal_mutation
def tick(ctx, args):
    ctx.db.insert("items", {"key": "tick", "n": 1})


@mutation(args={"key": v.string()})
def put_then_fail(ctx, args):
    ctx.db.insert("items", {"key": args["key"], "n": 99})
    raise ConvexError("no")


@mutation
def nested_failure_caught(ctx, args):
    try:
        ctx.run_mutation(api.items.put_then_fail, {"key": "a"})
    except ConvexError:
        pass
    ctx.db.insert("items", {"key": "b", "n": 7})


@mutation(args={"body": v.string()})
def add_note(ctx, args):
    ctx.db.insert("notes", {"body": args["body"]})


@query
def whoami(ctx, args):
    identity = ctx.auth.get_user_identity()
    return None if identity is None else identity["subject"]


ITEMS = {
    name: fn
    for name, fn in globals().items()
    if name in ("by_key", "oldest", "one", "first_big", "total", "strict_total", "job_states", "notes", "put",
                "change", "remove", "put_later", "put_now", "tick", "put_then_fail", "nested_failure_caught",
                "add_note", "whoami")
}


def make(crons=None) -> ConvexEmulator:
    modules = {"items": ITEMS}
    if crons is not None:
        modules["crons"] = {"crons": crons}
    return ConvexEmulator(modules=modules, schema=SCHEMA, start_time=START)


# --- histories over virtual time ------------------------------------------------------------


def test_history_follows_mutations_and_a_scheduled_function_at_their_virtual_times() -> None:
    t = ConvexEmulator("fixtures/chat", start_time=START)
    sub = t.subscribe(api.messages.list, {"channel": "general"})
    t.mutation(api.messages.send, {"channel": "general", "author": "ada", "body": "hi"})
    t.advance(seconds=1)
    t.mutation(api.messages.send_later, {"channel": "general", "author": "bob", "body": "later", "delayMs": 60_000})
    t.mutation(api.messages.send, {"channel": "random", "author": "eve", "body": "elsewhere"})
    t.advance(minutes=5)
    hi = {"author": "ada", "body": "hi"}
    later = {"author": "bob", "body": "later"}
    assert sub.history == [(T0, []), (T0, [hi]), (T0 + 61_000, [hi, later])]
    assert sub.value == [hi, later]


def test_history_follows_a_cron_as_time_moves() -> None:
    crons = cron_jobs()
    crons.interval("tick", {"minutes": 1}, internal.items.tick)
    t = make(crons)
    sub = t.subscribe(api.items.by_key, {"key": "tick"})
    t.advance(minutes=3, seconds=30)  # an interval cron first runs at deploy (before any call), then every minute
    assert sub.history == [(T0, [1.0]), (T0 + 60_000, [1.0] * 2), (T0 + 120_000, [1.0] * 3),
                           (T0 + 180_000, [1.0] * 4)]


def test_a_subscription_sees_a_scheduled_jobs_states_in_the_system_table() -> None:
    t = make()
    sub = t.subscribe(api.items.job_states)
    t.mutation(api.items.put_later, {"key": "a", "n": 1, "delay": 5000})
    t.advance(seconds=10)
    assert sub.history == [(T0, []), (T0, ["pending"]), (T0 + 5000, ["success"])]


def test_close_stops_the_history() -> None:
    t = make()
    sub = t.subscribe(api.items.by_key, {"key": "a"})
    t.mutation(api.items.put, {"key": "a", "n": 1})
    sub.close()
    t.mutation(api.items.put, {"key": "a", "n": 2})
    assert sub.history == [(T0, []), (T0, [1.0])]
    assert sub.value == [1.0] and sub.runs == 2 and sub.closed


def test_a_subscription_with_an_identity() -> None:
    t = make()
    sub = t.with_identity({"subject": "user-1"}).subscribe(api.items.whoami)
    assert sub.value == "user-1"
    assert t.subscribe(api.items.whoami).value is None


def test_an_inline_query_can_be_subscribed_to() -> None:
    t = make()
    sub = t.subscribe(lambda ctx: len(ctx.db.query("items").collect()))
    t.mutation(api.items.put, {"key": "a", "n": 1})
    assert sub.history == [(T0, 0), (T0, 1)]


def test_an_error_is_a_value_of_the_history_and_value_raises_it() -> None:
    t = make()
    sub = t.subscribe(api.items.strict_total)
    first = t.mutation(api.items.put, {"key": "a", "n": 60})
    t.mutation(api.items.put, {"key": "a", "n": 50})
    assert sub.history[:2] == [(T0, 0), (T0, 60.0)]
    when, error = sub.history[2]
    assert when == T0 and isinstance(error, ConvexError) and error.data == {"code": "TOO_BIG", "total": 110.0}
    with pytest.raises(ConvexError) as raised:
        sub.value
    assert raised.value.data["total"] == 110.0
    t.mutation(api.items.remove, {"id": first})
    assert sub.history[3] == (T0, 50.0) and sub.value == 50.0


def test_subscribing_to_a_failing_query_raises_at_once() -> None:
    t = make()
    t.mutation(api.items.put, {"key": "a", "n": 200})
    with pytest.raises(ConvexError):
        t.subscribe(api.items.strict_total)


def test_subscribe_checks_its_reference() -> None:
    t = make()
    with pytest.raises(Exception, match="is a mutation, not a query"):
        t.subscribe(api.items.put, {"key": "a", "n": 1})


# --- re-runs only when a commit writes into the read set -----------------------------------------


def test_a_write_outside_the_read_set_does_not_rerun() -> None:
    t = make()
    sub = t.subscribe(api.items.by_key, {"key": "a"})
    for i in range(5):
        t.mutation(api.items.put, {"key": "b", "n": i})
    assert sub.runs == 1
    t.mutation(api.items.put, {"key": "a", "n": 1})
    assert sub.runs == 2 and sub.value == [1.0]


def test_a_rerun_with_the_same_result_adds_no_history() -> None:
    t = make()
    doc = t.mutation(api.items.put, {"key": "a", "n": 1})
    sub = t.subscribe(api.items.by_key, {"key": "a"})
    t.mutation(api.items.change, {"id": doc, "fields": {"note": "not returned"}})
    assert sub.runs == 2 and sub.history == [(T0, [1.0])]


def test_a_document_moving_between_ranges_reruns_both_sides() -> None:
    t = make()
    doc = t.mutation(api.items.put, {"key": "a", "n": 1})
    on_a = t.subscribe(api.items.by_key, {"key": "a"})
    on_b = t.subscribe(api.items.by_key, {"key": "b"})
    on_c = t.subscribe(api.items.by_key, {"key": "c"})
    t.mutation(api.items.change, {"id": doc, "fields": {"key": "b"}})
    assert on_a.history == [(T0, [1.0]), (T0, [])]
    assert on_b.history == [(T0, []), (T0, [1.0])]
    assert on_c.runs == 1


def test_a_get_by_id_reruns_only_for_that_document() -> None:
    t = make()
    mine = t.mutation(api.items.put, {"key": "a", "n": 1})
    other = t.mutation(api.items.put, {"key": "a", "n": 2})
    sub = t.subscribe(api.items.one, {"id": mine})
    t.mutation(api.items.change, {"id": other, "fields": {"n": 20}})
    assert sub.runs == 1
    t.mutation(api.items.change, {"id": mine, "fields": {"n": 10}})
    t.mutation(api.items.remove, {"id": mine})
    assert sub.history == [(T0, 1.0), (T0, 10.0), (T0, None)]


def test_first_depends_only_on_the_keys_it_reached() -> None:
    t = make()
    first = t.mutation(api.items.put, {"key": "a", "n": 1})
    sub = t.subscribe(api.items.oldest)
    for i in range(3):  # newer documents sort after the one `first()` read
        t.mutation(api.items.put, {"key": "b", "n": 2 + i})
    assert sub.runs == 1
    t.mutation(api.items.remove, {"id": first})
    assert sub.history == [(T0, 1.0), (T0, 2.0)]


def test_a_filter_depends_on_the_range_it_scanned() -> None:
    t = make()
    t.mutation(api.items.put, {"key": "a", "n": 1})  # scanned and skipped by the filter
    small = t.mutation(api.items.put, {"key": "a", "n": 2})
    sub = t.subscribe(api.items.first_big)  # scans everything, finds nothing: the whole table
    t.mutation(api.items.put, {"key": "a", "n": 12})
    assert sub.history == [(T0, None), (T0, 12.0)]
    t.mutation(api.items.put, {"key": "a", "n": 13})  # after the match: not read
    assert sub.runs == 2
    t.mutation(api.items.change, {"id": small, "fields": {"n": 11}})  # before the match: read
    assert sub.history[-1] == (T0, 11.0) and sub.runs == 3


def test_a_rolled_back_write_reruns_nothing() -> None:
    t = make()
    sub = t.subscribe(api.items.by_key, {"key": "a"})
    with pytest.raises(ConvexError):
        t.mutation(api.items.put_then_fail, {"key": "a"})
    t.mutation(api.items.nested_failure_caught)  # its nested write to "a" rolls back; "b" commits
    assert sub.runs == 1 and sub.value == []


def test_a_query_of_a_table_that_does_not_exist_yet_sees_its_first_document() -> None:
    t = ConvexEmulator(modules={"items": ITEMS}, start_time=START)  # no schema: tables appear on first insert
    sub = t.subscribe(api.items.notes)
    t.mutation(api.items.add_note, {"body": "first"})
    assert sub.history == [(T0, []), (T0, ["first"])]


def test_subscriptions_agree_with_fresh_queries_after_random_writes() -> None:
    """Differential check: whatever the writes, every live value equals the query run afresh."""
    rng = random.Random(17)
    t = make()
    keys = ["a", "b", "c", "d"]
    ids: list[str] = []
    subs = [(t.subscribe(api.items.by_key, {"key": k}), api.items.by_key, {"key": k}) for k in keys]
    subs += [(t.subscribe(api.items.oldest), api.items.oldest, None),
             (t.subscribe(api.items.first_big), api.items.first_big, None),
             (t.subscribe(api.items.total), api.items.total, None)]
    for step in range(300):
        choice = rng.random()
        if choice < 0.45 or not ids:
            ids.append(t.mutation(api.items.put, {"key": rng.choice(keys), "n": rng.randrange(20)}))
        elif choice < 0.8:
            fields = rng.choice([{"key": rng.choice(keys)}, {"n": rng.randrange(20)}, {"note": "x"}])
            t.mutation(api.items.change, {"id": rng.choice(ids), "fields": fields})
        else:
            doc = ids.pop(rng.randrange(len(ids)))
            t.mutation(api.items.remove, {"id": doc})
        if step % 10 == 0:
            by_id = [(t.subscribe(api.items.one, {"id": doc}), api.items.one, {"id": doc}) for doc in ids[-3:]]
            subs.extend(by_id)
        for sub, ref, args in subs:
            assert sub.value == t.query(ref, args), (step, ref)
    for sub, _ref, _args in subs:
        history = sub.history
        assert all(history[i][1] != history[i + 1][1] for i in range(len(history) - 1))


def test_the_interval_index_matches_a_brute_force_search() -> None:
    from emulator.live import IntervalIndex
    from emulator.store import MAX

    rng = random.Random(5)
    index = IntervalIndex()
    live: dict[int, tuple[tuple, tuple]] = {}
    point = lambda: tuple(rng.randrange(4) for _ in range(rng.randrange(1, 4)))  # noqa: E731
    for step in range(600):
        if live and rng.random() < 0.35:
            owner = rng.choice(list(live))
            low, high = live.pop(owner)
            index.remove(low, high, owner)
        else:
            low = point()
            if rng.random() < 0.5:
                high = low + (MAX, MAX)  # every key starting with `low`
            else:
                high = max(low, point()) + (MAX,)
            live[step] = (low, high)
            index.add(low, high, step)
        assert len(index) == len(live)
        for _ in range(5):
            key = tuple(rng.randrange(4) for _ in range(3))
            found: set = set()
            index.collect(key, found)
            assert found == {o for o, (low, high) in live.items() if low <= key < high}
    assert index.owners() == set(live)


def test_a_live_search_follows_writes_to_its_table() -> None:
    t = ConvexEmulator("fixtures/search", start_time=START)
    sub = t.subscribe(api.messages.search, {"text": "ramen"})
    t.mutation(api.messages.send,
               {"author": "ada", "channel": "#food", "body": "ramen tonight?", "embedding": [0.0] * 8})
    assert sub.history == [(T0, []), (T0, ["ramen tonight?"])]


@query(args={"cursor": v.union(v.string(), v.null())})
def page_of_two(ctx, args):
    page = ctx.db.query("items").paginate({"numItems": 2, "cursor": args["cursor"]})
    return [d["n"] for d in page["page"]], page["isDone"]


def test_a_page_depends_on_its_range_only() -> None:
    t = ConvexEmulator(modules={"items": {**ITEMS, "page_of_two": page_of_two}}, schema=SCHEMA, start_time=START)
    first = t.mutation(api.items.put, {"key": "a", "n": 1})
    t.mutation(api.items.put, {"key": "a", "n": 2})
    t.mutation(api.items.put, {"key": "a", "n": 3})
    sub = t.subscribe(api.items.page_of_two, {"cursor": None})
    assert sub.value == [[1.0, 2.0], False]
    t.mutation(api.items.put, {"key": "a", "n": 4})  # after the page (and after the key it peeked at)
    assert sub.runs == 1
    t.mutation(api.items.remove, {"id": first})
    assert sub.history == [(T0, [[1.0, 2.0], False]), (T0, [[2.0, 3.0], False])]


def test_a_live_list_of_runtime_crons_follows_registrations() -> None:
    t = ConvexEmulator("fixtures/runtime_crons", start_time=START)
    listed = t.subscribe(api.schedules.list_all)
    heartbeat = t.subscribe(api.schedules.get, {"name": "heartbeat"})
    t.mutation(api.schedules.start_heartbeat)
    assert [row["name"] for row in listed.value] == ["heartbeat"] and len(listed.history) == 2
    assert heartbeat.value["name"] == "heartbeat" and heartbeat.value["paused"] is False
    t.mutation(api.schedules.pause, {"name": "heartbeat"})
    assert heartbeat.value["paused"] is True and len(heartbeat.history) == 3


def test_a_dropped_subscription_stops_following() -> None:
    t = make()
    sub = t.subscribe(api.items.by_key, {"key": "a"})
    live = t._runtime.live
    assert live.watches == 1
    del sub
    assert live.watches == 0 and t.store.write_observer is None  # mutations pay nothing again
    t.mutation(api.items.put, {"key": "a", "n": 1})
    assert live.runs == 1


def test_a_live_query_follows_what_it_reads_inside_a_component() -> None:
    from convex_py import components

    t = ConvexEmulator("fixtures/counters", start_time=START)
    sub = t.subscribe(internal.calls.direct_call2)  # ctx.run_query(components.counter.public.count)
    t.mutation(components.counter.public.add, {"name": "pennies", "count": 5})  # another name: not read
    assert sub.runs == 1
    t.mutation(components.counter.public.add, {"name": "beans", "count": 3})
    assert sub.history == [(T0, 0), (T0, 3)]


def test_same_named_tables_of_the_app_and_its_components_invalidate_only_their_own_readers() -> None:
    from convex_py import components

    t = ConvexEmulator("fixtures/counters", start_time=START)  # app and components each have `counters`
    app_sub = t.subscribe(lambda ctx: sorted(d["value"] for d in ctx.db.query("counters").collect()))
    counter_sub = t.subscribe(internal.calls.direct_call2)  # counter's `counters`, name "beans"
    t.mutation(components.counter2.public.add, {"name": "beans", "count": 2})  # counter2's own `counters`
    assert (app_sub.runs, counter_sub.runs) == (1, 1)
    t.mutation(components.counter.public.add, {"name": "beans", "count": 3})  # only counter's `counters`
    assert app_sub.runs == 1 and app_sub.history == [(T0, [])]
    assert counter_sub.runs == 2 and counter_sub.history == [(T0, 0), (T0, 3.0)]
    t.mutation(internal.calls.note)  # only the app's `counters` (and `notes`): "beans", 100
    assert app_sub.runs == 2 and app_sub.history == [(T0, []), (T0, [100.0])]
    assert counter_sub.runs == 2 and counter_sub.value == 3.0
