"""Convex's newer API: `ctx.db.table("t")`, `full_table_scan()`, `v.object(...).pick/omit/extend/partial`,
and commit timestamps (`ctx.db.vars.commit_ts`, `v.commit_ts()`, `ctx.meta.get_snapshot_ts()`)."""

from __future__ import annotations

import pytest

from convex_py import UNSET, CommitTsPlaceholder, define_schema, define_table, mutation, query, v
from convex_py.errors import (
    InvalidIdError,
    InvalidQueryError,
    ReadOnlyError,
    SchemaValidationError,
    UnresolvedCommitTsError,
    ValidationError,
    ValidatorError,
)
from emulator import ConvexEmulator

START = "2030-01-01T00:00:00Z"
START_NS = 1_893_456_000_000 * 1_000_000
SCHEMA = define_schema(
    {
        "messages": define_table({"body": v.string(), "ts": v.optional(v.commit_ts())}).index("by_ts", ["ts"]),
        "users": define_table({"name": v.string()}),
    }
)


@mutation(args={"body": v.string()})
def send(ctx, args):
    doc_id = ctx.db.insert("messages", {"body": args["body"], "ts": ctx.db.vars.commit_ts})
    inside = ctx.db.get(doc_id)["ts"]
    return {"id": doc_id, "inside": repr(inside), "is_placeholder": isinstance(inside, CommitTsPlaceholder)}


@mutation(args={"body": v.string()})
async def send_async(ctx, args):
    return await ctx.db.table("messages").insert({"body": args["body"], "ts": ctx.db.vars.commitTs})


@query
def after_snapshot(ctx, args):
    snapshot = ctx.meta.get_snapshot_ts()
    return [d["body"] for d in ctx.db.query("messages").with_index("by_ts", lambda q: q.lte("ts", snapshot)).collect()]


MODULES = {"chat": {"send": send, "send_async": send_async, "after_snapshot": after_snapshot}}


@pytest.fixture
def t() -> ConvexEmulator:
    return ConvexEmulator(modules=MODULES, schema=SCHEMA, start_time=START)


# --- ctx.db.table ------------------------------------------------------------------------------


def test_table_scoped_reads_and_writes(t: ConvexEmulator) -> None:
    def go(ctx):
        users = ctx.db.table("users")
        ada = users.insert({"name": "Ada"})
        bob = users.insert({"name": "Bob"})
        users.patch(ada, {"name": "Ada L."})
        users.replace(bob, {"name": "Robert"})
        names = [u["name"] for u in users.query().collect()]
        users.delete(bob)
        return names, users.get(ada)["name"], users.get(bob), [u["name"] for u in users.query().collect()]

    assert t.run(go) == (["Ada L.", "Robert"], "Ada L.", None, ["Ada L."])


def test_table_scope_checks_the_id_table_and_is_read_only_in_queries(t: ConvexEmulator) -> None:
    user = t.run(lambda ctx: ctx.db.table("users").insert({"name": "Ada"}))
    with pytest.raises(InvalidIdError):
        t.query(lambda ctx: ctx.db.table("messages").get(user))
    assert t.query(lambda ctx: ctx.db.table("users").get(user)["name"]) == "Ada"
    with pytest.raises(AttributeError):
        t.query(lambda ctx: ctx.db.table("users").insert({"name": "x"}))
    with pytest.raises(ReadOnlyError):
        t.query(lambda ctx: ctx.db.insert("users", {"name": "x"}))


def test_async_table_scope(t: ConvexEmulator) -> None:
    doc_id = t.mutation("chat:send_async", {"body": "hi"})
    assert doc_id.table == "messages"

    async def read(ctx):
        return (await ctx.db.table("messages").get(doc_id))["body"]

    assert t.query(read) == "hi"


# --- full_table_scan ---------------------------------------------------------------------------------


def test_full_table_scan_reads_in_creation_order(t: ConvexEmulator) -> None:
    t.run(lambda ctx: [ctx.db.insert("users", {"name": n}) for n in ("c", "a", "b")])
    assert t.query(lambda ctx: [u["name"] for u in ctx.db.query("users").full_table_scan().collect()]) == ["c", "a", "b"]
    assert t.query(lambda ctx: [u["name"] for u in ctx.db.query("users").fullTableScan().order("desc").take(2)]) == [
        "b", "a"]
    page = t.query(lambda ctx: ctx.db.query("users").full_table_scan().paginate({"numItems": 2, "cursor": None}))
    assert [u["name"] for u in page["page"]] == ["c", "a"]
    with pytest.raises(InvalidQueryError):
        t.query(lambda ctx: ctx.db.query("users").with_index("by_creation_time").full_table_scan())


# --- v.object helpers -----------------------------------------------------------------------------------


USER = v.object({"name": v.string(), "age": v.number(), "email": v.optional(v.string())})


def test_pick_omit_partial_extend() -> None:
    assert repr(USER.pick("name", "email")) == "v.object({email: v.optional(v.string()), name: v.string()})"
    assert repr(USER.omit("email", "nope")) == "v.object({age: v.float64(), name: v.string()})"
    assert repr(USER.partial()) == (
        "v.object({age: v.optional(v.float64()), email: v.optional(v.string()), name: v.optional(v.string())})"
    )
    assert repr(USER.extend({"admin": v.boolean(), "age": v.int64()})) == (
        "v.object({admin: v.boolean(), age: v.int64(), email: v.optional(v.string()), name: v.string()})"
    )
    assert USER.partial().validate({}) == {}
    assert USER.pick("name").validate({"name": "Ada"}) == {"name": "Ada"}
    with pytest.raises(ValidationError):
        USER.omit("age").validate({"name": "Ada", "age": 3})
    assert repr(USER) == "v.object({age: v.float64(), email: v.optional(v.string()), name: v.string()})"  # unchanged
    with pytest.raises(ValidatorError, match="no field 'nope' to pick"):
        USER.pick("nope")


# --- Commit timestamps -------------------------------------------------------------------------------------


def test_commit_ts_resolves_at_commit_in_commit_order(t: ConvexEmulator) -> None:
    first = t.mutation("chat:send", {"body": "a"})
    assert first["inside"] == "[unresolved commit timestamp]" and first["is_placeholder"] is True
    second = t.mutation("chat:send", {"body": "b"})
    t.advance(ms=3)
    third = t.mutation("chat:send_async", {"body": "c"})
    stamps = t.query(lambda ctx: [ctx.db.get(i)["ts"] for i in (first["id"], second["id"], third)])
    assert stamps == [START_NS, START_NS + 1, START_NS + 3_000_000]
    assert all(type(s) is int for s in stamps)


def test_snapshot_ts_bounds_what_has_committed(t: ConvexEmulator) -> None:
    t.mutation("chat:send", {"body": "a"})
    t.mutation("chat:send", {"body": "b"})
    assert t.query("chat:after_snapshot") == ["a", "b"]
    assert t.query(lambda ctx: ctx.meta.get_snapshot_ts()) == START_NS + 1


def test_an_unresolved_commit_ts_is_not_a_number(t: ConvexEmulator) -> None:
    def go(ctx):
        return ctx.db.vars.commit_ts + 1

    with pytest.raises(UnresolvedCommitTsError, match="This commit timestamp is unresolved"):
        t.run(go)


def test_a_rolled_back_mutation_leaves_no_commit_ts(t: ConvexEmulator) -> None:
    def fails(ctx):
        ctx.db.insert("messages", {"body": "x", "ts": ctx.db.vars.commit_ts})
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        t.run(fails)
    t.mutation("chat:send", {"body": "kept"})
    assert t.query(lambda ctx: [(d["body"], d["ts"]) for d in ctx.db.query("messages").collect()]) == [
        ("kept", START_NS)]


def test_commit_ts_validator() -> None:
    assert v.commit_ts().validate(5) == 5
    with pytest.raises(ValidationError):
        v.commit_ts().validate(5.0)
    t = ConvexEmulator(modules=MODULES, schema=SCHEMA, start_time=START)
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.insert("messages", {"body": "x", "ts": "later"}))
    assert t.run(lambda ctx: ctx.db.get(ctx.db.insert("messages", {"body": "x", "ts": UNSET}))).get("ts") is None
