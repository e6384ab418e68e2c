"""Convex's limits: value limits on every write, and per-execution read/write limits as settings
(`Limits(...)`), each with Convex's wording, each rolling the mutation back."""

from __future__ import annotations

import time

import pytest

from convex_py import api, define_schema, define_table, mutation, query, v
from convex_py.errors import InvalidValueError, LimitExceededError
from emulator import ConvexEmulator, Limits

START = "2030-01-01T00:00:00Z"
MiB = 1 << 20


@query
def read_all(ctx, args):
    return len(ctx.db.query("docs").collect())


@query(args={"n": v.int64()})
def read_n(ctx, args):
    return len(ctx.db.query("docs").take(args["n"]))


@mutation(args={"n": v.int64()})
def write_n(ctx, args):
    for i in range(args["n"]):
        ctx.db.insert("docs", {"i": i})
    return args["n"]


@mutation(args={"blob": v.string()})
def store_blob(ctx, args):
    return ctx.db.insert("docs", {"i": -1, "blob": args["blob"]})


@query(args={"size": v.int64()})
def return_blob(ctx, args):
    return "x" * args["size"]


FUNCTIONS = {"read_all": read_all, "read_n": read_n, "write_n": write_n, "store_blob": store_blob,
             "return_blob": return_blob}


def make(limits: Limits | None = None, schema=None) -> ConvexEmulator:
    return ConvexEmulator(modules={"docs": FUNCTIONS}, schema=schema, limits=limits, start_time=START)


def count(t: ConvexEmulator) -> int:
    return t.query(lambda ctx: len(ctx.db.query("docs").collect()))


def fill(t: ConvexEmulator, n: int) -> None:
    t.mutation(api.docs.write_n, {"n": n})


def test_default_limits_are_convex_documented_values() -> None:
    limits = Limits()
    assert limits.max_documents_read == 32_000
    assert limits.max_bytes_read == 16 * MiB
    assert limits.max_index_ranges == 4_096
    assert limits.max_documents_written == 16_000
    assert limits.max_bytes_written == 16 * MiB
    assert limits.max_args_bytes == 16 * MiB
    assert limits.max_return_bytes == 16 * MiB
    assert limits.query_mutation_timeout is None
    assert limits.action_timeout is None


# --- Documents read ----------------------------------------------------------------------------------------


def test_too_many_documents_read() -> None:
    t = make(Limits(max_documents_read=10))
    fill(t, 11)
    assert t.query(api.docs.read_n, {"n": 10}) == 10
    with pytest.raises(LimitExceededError) as info:
        t.query(api.docs.read_all)
    assert str(info.value).startswith("Too many documents read in a single function execution (limit: 10).")


def test_documents_read_counts_gets_and_filtered_out_documents() -> None:
    t = make(Limits(max_documents_read=5))
    fill(t, 5)
    ids = t.query(lambda ctx: [d["_id"] for d in ctx.db.query("docs").collect()])
    # A filter reads every document it looks at, matched or not.
    with pytest.raises(LimitExceededError, match=r"Too many documents read in a single function execution \(limit: 5\)"):
        t.query(lambda ctx: ctx.db.query("docs").collect() + [ctx.db.get(ids[0])])
    with pytest.raises(LimitExceededError, match=r"Too many documents read"):
        t.query(lambda ctx: [ctx.db.query("docs").filter(lambda q: False).collect(), ctx.db.get(ids[0])])


def test_read_limit_is_per_execution() -> None:
    t = make(Limits(max_documents_read=10))
    fill(t, 6)
    assert t.query(api.docs.read_all) == 6
    assert t.query(api.docs.read_all) == 6
    # Each call an action makes is its own execution, with its own budget.
    assert t.action(lambda ctx: [ctx.run_query(api.docs.read_all, {}) for _ in range(3)]) == [6, 6, 6]


def test_read_limit_in_a_mutation_rolls_it_back() -> None:
    t = make(Limits(max_documents_read=10))
    fill(t, 8)

    def go(ctx):
        ctx.db.insert("docs", {"i": 100})
        return ctx.db.query("docs").collect()  # 9 documents: fine
    assert len(t.run(go)) == 9

    def too_much(ctx):
        ctx.db.insert("docs", {"i": 200})
        ctx.db.insert("docs", {"i": 201})
        return ctx.db.query("docs").collect()  # 11 documents

    with pytest.raises(LimitExceededError, match="Too many documents read"):
        t.run(too_much)
    assert count(t) == 9


def test_too_many_bytes_read() -> None:
    t = make(Limits(max_bytes_read=2000))
    for _ in range(3):
        t.mutation(api.docs.store_blob, {"blob": "x" * 900})
    with pytest.raises(LimitExceededError) as info:
        t.query(api.docs.read_all)
    assert str(info.value).startswith("Too many bytes read in a single function execution (limit: 2000 bytes).")
    assert t.query(api.docs.read_n, {"n": 2}) == 2


def test_too_many_index_ranges() -> None:
    t = make(Limits(max_index_ranges=3))
    fill(t, 1)
    doc_id = t.query(lambda ctx: ctx.db.query("docs").first()["_id"])
    assert t.query(lambda ctx: [ctx.db.get(doc_id)["i"] for _ in range(3)]) == [0, 0, 0]
    with pytest.raises(LimitExceededError) as info:
        t.query(lambda ctx: [ctx.db.get(doc_id) for _ in range(4)])
    assert str(info.value).startswith("Too many reads in a single function execution (limit: 3).")
    with pytest.raises(LimitExceededError, match=r"Too many reads in a single function execution \(limit: 3\)"):
        t.query(lambda ctx: [ctx.db.query("docs").first() for _ in range(4)])


# --- Documents written ------------------------------------------------------------------------------------------


def test_too_many_writes_rolls_back_everything() -> None:
    t = make(Limits(max_documents_written=5))
    assert t.mutation(api.docs.write_n, {"n": 5}) == 5
    with pytest.raises(LimitExceededError) as info:
        t.mutation(api.docs.write_n, {"n": 6})
    assert str(info.value) == "Too many writes in a single function execution (limit: 5)"
    assert count(t) == 5


def test_patches_and_deletes_count_as_writes() -> None:
    t = make(Limits(max_documents_written=3))
    fill(t, 2)
    ids = t.query(lambda ctx: [d["_id"] for d in ctx.db.query("docs").collect()])

    def go(ctx):
        ctx.db.patch(ids[0], {"i": 10})
        ctx.db.replace(ids[1], {"i": 11})
        ctx.db.delete(ids[0])
        ctx.db.insert("docs", {"i": 12})

    with pytest.raises(LimitExceededError, match=r"Too many writes in a single function execution \(limit: 3\)"):
        t.run(go)
    assert sorted(d["i"] for d in t.query(lambda ctx: ctx.db.query("docs").collect())) == [0, 1]


def test_write_limit_is_per_execution() -> None:
    t = make(Limits(max_documents_written=5))
    for _ in range(4):
        t.mutation(api.docs.write_n, {"n": 5})
    assert count(t) == 20
    assert t.action(lambda ctx: [ctx.run_mutation(api.docs.write_n, {"n": 5}) for _ in range(2)]) == [5, 5]
    assert count(t) == 30


def test_write_limit_covers_nested_mutations() -> None:
    t = make(Limits(max_documents_written=5))

    def go(ctx):
        ctx.run_mutation(api.docs.write_n, {"n": 3})
        ctx.run_mutation(api.docs.write_n, {"n": 3})

    with pytest.raises(LimitExceededError, match="Too many writes"):
        t.run(go)
    assert count(t) == 0


def test_too_many_bytes_written() -> None:
    t = make(Limits(max_bytes_written=2000))
    t.mutation(api.docs.store_blob, {"blob": "x" * 1500})

    def go(ctx):
        ctx.db.insert("docs", {"i": 1, "blob": "y" * 1200})
        ctx.db.insert("docs", {"i": 2, "blob": "z" * 1200})

    with pytest.raises(LimitExceededError) as info:
        t.run(go)
    assert str(info.value) == "Too many bytes written in a single function execution (limit: 2000 bytes)"
    assert count(t) == 1


# --- Arguments and return values ----------------------------------------------------------------------------------


def test_arguments_too_large() -> None:
    t = make(Limits(max_args_bytes=1000))
    t.mutation(api.docs.store_blob, {"blob": "x" * 500})
    with pytest.raises(LimitExceededError, match="docs:store_blob"):
        t.mutation(api.docs.store_blob, {"blob": "x" * 2000})
    assert count(t) == 1


def test_return_value_too_large() -> None:
    t = make(Limits(max_return_bytes=1000))
    assert t.query(api.docs.return_blob, {"size": 500}) == "x" * 500
    with pytest.raises(LimitExceededError, match="docs:return_blob"):
        t.query(api.docs.return_blob, {"size": 2000})


# --- Value limits (real sizes: they are cheap) ---------------------------------------------------------------------


def nested(levels: int):
    """A document that is `levels` objects deep, counting the document itself."""
    value: dict = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def test_document_too_large() -> None:
    t = make()
    t.run(lambda ctx: ctx.db.insert("docs", {"blob": "x" * (MiB - 1000)}))
    with pytest.raises(InvalidValueError, match="Value is too large"):
        t.run(lambda ctx: ctx.db.insert("docs", {"blob": "x" * (MiB + 10)}))
    with pytest.raises(InvalidValueError, match="Value is too large"):
        t.run(lambda ctx: ctx.db.insert("docs", {"a": "x" * (MiB // 2), "b": "y" * (MiB // 2 + 10)}))
    assert count(t) == 1


def test_patch_that_makes_a_document_too_large() -> None:
    t = make()
    doc_id = t.run(lambda ctx: ctx.db.insert("docs", {"a": "x" * (MiB // 2)}))
    with pytest.raises(InvalidValueError, match="Value is too large"):
        t.run(lambda ctx: ctx.db.patch(doc_id, {"b": "y" * (MiB // 2 + 10)}))
    assert set(t.run(lambda ctx: ctx.db.get(doc_id))) == {"_id", "_creationTime", "a"}


def test_document_too_nested() -> None:
    t = make()
    t.run(lambda ctx: ctx.db.insert("docs", nested(16)))
    with pytest.raises(InvalidValueError, match="Document is too nested"):
        t.run(lambda ctx: ctx.db.insert("docs", nested(17)))
    with pytest.raises(InvalidValueError, match="Document is too nested"):
        t.run(lambda ctx: ctx.db.insert("docs", {"list": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}))
    assert count(t) == 1


def test_array_too_long() -> None:
    t = make()
    t.run(lambda ctx: ctx.db.insert("docs", {"xs": list(range(8192))}))
    with pytest.raises(InvalidValueError, match="Array length is too long"):
        t.run(lambda ctx: ctx.db.insert("docs", {"xs": list(range(8193))}))
    with pytest.raises(InvalidValueError, match="Array length is too long"):
        t.run(lambda ctx: ctx.db.insert("docs", {"inner": {"xs": [None] * 8193}}))
    assert count(t) == 1


def test_object_with_too_many_fields() -> None:
    t = make()
    t.run(lambda ctx: ctx.db.insert("docs", {"o": {f"f{i}": i for i in range(1024)}}))
    with pytest.raises(InvalidValueError):
        t.run(lambda ctx: ctx.db.insert("docs", {"o": {f"f{i}": i for i in range(1025)}}))
    assert count(t) == 1


def test_field_name_too_long() -> None:
    t = make()
    t.run(lambda ctx: ctx.db.insert("docs", {"k" * 1024: 1}))
    with pytest.raises(InvalidValueError):
        t.run(lambda ctx: ctx.db.insert("docs", {"k" * 1025: 1}))
    assert count(t) == 1


def test_value_limits_apply_to_arguments() -> None:
    t = make()
    with pytest.raises(Exception, match="Array length is too long"):
        t.mutation(api.docs.write_n, {"n": 1, "xs": list(range(8193))})
    assert count(t) == 0


def test_value_limits_with_a_schema() -> None:
    schema = define_schema({"docs": define_table({"xs": v.optional(v.array(v.int64())), "i": v.optional(v.int64()),
                                                  "blob": v.optional(v.string())})})
    t = make(schema=schema)
    with pytest.raises(InvalidValueError, match="Array length is too long"):
        t.run(lambda ctx: ctx.db.insert("docs", {"xs": list(range(8193))}))
    assert count(t) == 0


# --- Execution time (a setting, off by default) ------------------------------------------------------------------------


def busy(ctx, seconds: float) -> int:
    """Run for `seconds` of wall time, touching ctx now and then (without using up read budget)."""
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        time.sleep(0.01)
        ctx.auth.get_user_identity()
        n += 1
    return n


def test_no_time_limit_by_default() -> None:
    t = make()
    assert t.query(lambda ctx: busy(ctx, 0.05)) > 0


def test_mutation_time_limit() -> None:
    t = make(Limits(query_mutation_timeout=0.05))

    def slow(ctx):
        ctx.db.insert("docs", {"i": 1})
        return busy(ctx, 0.3)

    with pytest.raises(LimitExceededError) as info:
        t.run(slow)
    assert "Too many" not in str(info.value)
    assert count(t) == 0
    with pytest.raises(LimitExceededError):
        t.query(lambda ctx: busy(ctx, 0.3))
    # A fast function is unaffected.
    assert t.query(lambda ctx: 1) == 1
