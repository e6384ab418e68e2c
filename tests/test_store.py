"""The document store: ids, creation times, insert/get/patch/replace/delete, normalize_id,
system tables, indexes, Convex's value ordering and schema validation on every write."""

from __future__ import annotations

import pytest

from convex_py import UNSET, Id, define_schema, define_table, internal_mutation, v
from convex_py.errors import (
    DocumentNotFoundError,
    IndexNotFoundError,
    InvalidIdError,
    InvalidTableError,
    InvalidValueError,
    SchemaValidationError,
)
from emulator import ConvexEmulator

START = "2030-01-01T00:00:00Z"
START_MS = 1893456000000.0


@internal_mutation
def noop(ctx, args):
    return None


SCHEMA = define_schema(
    {
        "users": define_table(
            {
                "name": v.string(),
                "age": v.optional(v.int64()),
                "score": v.optional(v.number()),
                "nick": v.optional(v.union(v.string(), v.null())),
                "tags": v.optional(v.array(v.string())),
            }
        ).index("by_name", ["name"]).index("by_age_name", ["age", "name"]),
        "posts": define_table({"author": v.id("users"), "title": v.string()}),
    }
)


@pytest.fixture
def t() -> ConvexEmulator:
    return ConvexEmulator(modules={"jobs": {"noop": noop}}, schema=SCHEMA, start_time=START)


@pytest.fixture
def loose() -> ConvexEmulator:
    """An app without a schema: any table, any document."""
    return ConvexEmulator(modules={}, start_time=START)


def all_docs(t: ConvexEmulator, table: str) -> list[dict]:
    return t.query(lambda ctx: ctx.db.query(table).collect())


# --- Ids and creation times ------------------------------------------------------------------------


def test_insert_returns_an_id_that_knows_its_table(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    assert isinstance(user_id, Id) and isinstance(user_id, str)
    assert user_id.table == "users"
    doc = t.run(lambda ctx: ctx.db.get(user_id))
    assert doc["_id"] == user_id
    assert isinstance(doc["_id"], Id) and doc["_id"].table == "users"
    assert set(doc) == {"_id", "_creationTime", "name"}


def test_ids_in_the_earlier_crc32_format_are_still_ids(t: ConvexEmulator) -> None:
    # Ids saved by earlier versions (a --db file, a client's copy) must keep working.
    import struct
    import zlib

    from convex_py._values import decode_id, table_number

    number = table_number("users")
    head = struct.pack(">IQ", number, (41 * 0x9E3779B97F4A7C15) & ((1 << 64) - 1))
    old = (head + zlib.crc32(head).to_bytes(4, "big")).hex()
    assert decode_id(old) == (number, 41)
    assert t.query(lambda ctx: ctx.db.normalize_id("users", old)) == old
    assert decode_id(old[:-1] + ("0" if old[-1] != "0" else "1")) is None  # a wrong check word is not an id


def test_ids_are_unique(t: ConvexEmulator) -> None:
    ids = t.run(lambda ctx: [ctx.db.insert("users", {"name": str(i)}) for i in range(50)])
    assert len(set(ids)) == 50


def test_creation_time_is_the_virtual_clock_then_strictly_increasing(t: ConvexEmulator) -> None:
    assert t.now == START_MS
    a, b, c = t.run(lambda ctx: [ctx.db.insert("users", {"name": n}) for n in "abc"])
    times = [t.run(lambda ctx, i=i: ctx.db.get(i))["_creationTime"] for i in (a, b, c)]
    assert all(type(x) is float for x in times)
    assert times[0] == START_MS
    assert times[0] < times[1] < times[2]
    # Still within the same millisecond, and never behind the clock.
    assert times[2] - times[0] < 1
    d = t.run(lambda ctx: ctx.db.insert("users", {"name": "d"}))
    assert t.run(lambda ctx: ctx.db.get(d))["_creationTime"] > times[2]
    t.advance(seconds=5)
    e = t.run(lambda ctx: ctx.db.insert("users", {"name": "e"}))
    assert t.run(lambda ctx: ctx.db.get(e))["_creationTime"] == START_MS + 5000


def test_creation_time_increases_across_tables(t: ConvexEmulator) -> None:
    def go(ctx):
        u = ctx.db.insert("users", {"name": "x"})
        p = ctx.db.insert("posts", {"author": u, "title": "t"})
        return ctx.db.get(u)["_creationTime"], ctx.db.get(p)["_creationTime"]

    first, second = t.run(go)
    assert first == START_MS and second > first


# --- get / insert / patch / replace / delete ----------------------------------------------------------


def test_values_round_trip_with_their_types(loose: ConvexEmulator) -> None:
    value = {
        "null": None,
        "int": 1,
        "float": 1.0,
        "bool": True,
        "str": "héllo",
        "bytes": b"\x00\xff",
        "list": [1, "a", None, [2.5]],
        "dict": {"nested": {"deep": False}},
    }
    doc_id = loose.run(lambda ctx: ctx.db.insert("things", value))
    doc = loose.run(lambda ctx: ctx.db.get(doc_id))
    for key, expected in value.items():
        assert doc[key] == expected and type(doc[key]) is type(expected)
    assert type(doc["list"][0]) is int and type(doc["list"][3][0]) is float


def test_number_field_stores_a_float(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "n", "score": 3, "age": 3}))
    doc = t.run(lambda ctx: ctx.db.get(user_id))
    assert doc["score"] == 3.0 and type(doc["score"]) is float
    assert doc["age"] == 3 and type(doc["age"]) is int


def test_documents_returned_are_copies(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada", "tags": ["a"]}))

    def mutate_returned(ctx):
        doc = ctx.db.get(user_id)
        doc["name"] = "changed"
        doc["tags"].append("b")
        return ctx.db.get(user_id)

    assert t.run(mutate_returned)["tags"] == ["a"]
    doc = t.run(lambda ctx: ctx.db.get(user_id))
    assert doc["name"] == "ada" and doc["tags"] == ["a"]


def test_inserted_value_is_copied(t: ConvexEmulator) -> None:
    tags = ["a"]
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada", "tags": tags}))
    tags.append("b")
    assert t.run(lambda ctx: ctx.db.get(user_id))["tags"] == ["a"]


def test_patch_merges_removes_with_unset_and_stores_none_as_null(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada", "age": 36, "tags": ["x"]}))
    before = t.run(lambda ctx: ctx.db.get(user_id))
    t.run(lambda ctx: ctx.db.patch(user_id, {"age": 37, "nick": None, "tags": UNSET}))
    after = t.run(lambda ctx: ctx.db.get(user_id))
    assert after == {
        "_id": user_id,
        "_creationTime": before["_creationTime"],
        "name": "ada",
        "age": 37,
        "nick": None,
    }
    assert "nick" in after and after["nick"] is None
    assert "tags" not in after


def test_patch_with_unset_of_an_absent_field_is_fine(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    t.run(lambda ctx: ctx.db.patch(user_id, {"age": UNSET}))
    assert set(t.run(lambda ctx: ctx.db.get(user_id))) == {"_id", "_creationTime", "name"}


def test_patch_cannot_change_system_fields(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    other_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "bob"}))
    with pytest.raises(InvalidValueError):
        t.run(lambda ctx: ctx.db.patch(user_id, {"_id": other_id}))
    with pytest.raises(InvalidValueError):
        t.run(lambda ctx: ctx.db.patch(user_id, {"_creationTime": 1.0}))
    # Giving the current values is harmless.
    doc = t.run(lambda ctx: ctx.db.get(user_id))
    t.run(lambda ctx: ctx.db.patch(user_id, {"_id": user_id, "_creationTime": doc["_creationTime"], "age": 1}))
    assert t.run(lambda ctx: ctx.db.get(user_id))["age"] == 1


def test_replace_swaps_fields_and_keeps_id_and_creation_time(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada", "age": 36, "tags": ["x"]}))
    before = t.run(lambda ctx: ctx.db.get(user_id))
    t.advance(seconds=10)
    t.run(lambda ctx: ctx.db.replace(user_id, {"name": "ada lovelace", "nick": None}))
    after = t.run(lambda ctx: ctx.db.get(user_id))
    assert after == {
        "_id": user_id,
        "_creationTime": before["_creationTime"],
        "name": "ada lovelace",
        "nick": None,
    }


def test_replace_may_repeat_system_fields(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))

    def go(ctx):
        doc = ctx.db.get(user_id)
        doc["name"] = "grace"
        ctx.db.replace(user_id, doc)
        return ctx.db.get(user_id)

    assert t.run(go)["name"] == "grace"


def test_delete_then_get_is_none(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    t.run(lambda ctx: ctx.db.delete(user_id))
    assert t.run(lambda ctx: ctx.db.get(user_id)) is None
    assert all_docs(t, "users") == []


def test_writes_to_a_missing_document_fail(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    t.run(lambda ctx: ctx.db.delete(user_id))
    with pytest.raises(DocumentNotFoundError, match="Patch on nonexistent document ID"):
        t.run(lambda ctx: ctx.db.patch(user_id, {"name": "x"}))
    with pytest.raises(DocumentNotFoundError, match="Replace on nonexistent document ID"):
        t.run(lambda ctx: ctx.db.replace(user_id, {"name": "x"}))
    with pytest.raises(DocumentNotFoundError, match="Delete on nonexistent document ID"):
        t.run(lambda ctx: ctx.db.delete(user_id))


def test_table_and_id_forms_of_get_patch_replace_delete(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    assert t.run(lambda ctx: ctx.db.get("users", user_id))["name"] == "ada"
    t.run(lambda ctx: ctx.db.patch("users", user_id, {"age": 2}))
    t.run(lambda ctx: ctx.db.replace("users", user_id, {"name": "b", "age": 3}))
    assert t.run(lambda ctx: ctx.db.get(user_id))["age"] == 3
    t.run(lambda ctx: ctx.db.delete("users", user_id))
    assert t.run(lambda ctx: ctx.db.get("users", user_id)) is None


def test_get_with_an_id_of_another_table_is_an_error(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    with pytest.raises(InvalidIdError):
        t.run(lambda ctx: ctx.db.get("posts", user_id))
    with pytest.raises(InvalidIdError):
        t.run(lambda ctx: ctx.db.patch("posts", user_id, {"title": "x"}))
    with pytest.raises(InvalidIdError):
        t.run(lambda ctx: ctx.db.delete("posts", user_id))
    assert t.run(lambda ctx: ctx.db.get(user_id)) == t.run(lambda ctx: ctx.db.get("users", user_id))


def test_get_of_garbage_is_an_error(t: ConvexEmulator) -> None:
    with pytest.raises(InvalidIdError):
        t.run(lambda ctx: ctx.db.get("not-an-id"))
    with pytest.raises(InvalidIdError):
        t.run(lambda ctx: ctx.db.get("users", "not-an-id"))


def test_id_string_without_table_info_still_works(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    plain = str(user_id)
    assert type(plain) is str
    assert t.run(lambda ctx: ctx.db.get(plain))["name"] == "ada"
    t.run(lambda ctx: ctx.db.patch(plain, {"age": 9}))
    assert t.run(lambda ctx: ctx.db.get(user_id))["age"] == 9


# --- normalize_id -------------------------------------------------------------------------------------


def test_normalize_id(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))

    def go(ctx):
        return (
            ctx.db.normalize_id("users", str(user_id)),
            ctx.db.normalize_id("posts", str(user_id)),
            ctx.db.normalize_id("users", "garbage"),
            ctx.db.normalize_id("users", ""),
            ctx.db.normalize_id("users", str(user_id)[:-1] + ("a" if str(user_id)[-1] != "a" else "b")),
        )

    same, other_table, garbage, empty, corrupted = t.query(go)
    assert same == user_id and isinstance(same, Id) and same.table == "users"
    assert other_table is None and garbage is None and empty is None and corrupted is None


def test_normalize_id_of_a_deleted_document_is_still_an_id(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    t.run(lambda ctx: ctx.db.delete(user_id))
    assert t.query(lambda ctx: ctx.db.normalize_id("users", str(user_id))) == user_id


def test_normalize_id_on_an_unknown_table(t: ConvexEmulator) -> None:
    # As Convex's normalizeId: a table that does not exist has no ids (null); a bad name is an error.
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    assert t.query(lambda ctx: ctx.db.normalize_id("nope", str(user_id))) is None
    with pytest.raises(InvalidTableError):
        t.query(lambda ctx: ctx.db.normalize_id("no-pe", "x"))


# --- System tables ---------------------------------------------------------------------------------------


def test_system_get_and_query_on_scheduled_functions(t: ConvexEmulator) -> None:
    def schedule(ctx):
        job = ctx.scheduler.run_after(1000, "jobs:noop", {"a": 1})
        inside = ctx.db.system.get(job)
        rows = ctx.db.system.query("_scheduled_functions").collect()
        return job, inside, rows

    job_id, inside, rows = t.run(schedule)
    assert isinstance(job_id, Id) and job_id.table == "_scheduled_functions"
    assert inside["name"] == "jobs:noop"
    assert inside["args"] == [{"a": 1}]
    assert inside["scheduledTime"] == START_MS + 1000
    assert inside["state"] == {"kind": "pending"}
    assert [r["_id"] for r in rows] == [job_id]
    assert t.query(lambda ctx: ctx.db.system.get(job_id)) == inside
    assert t.query(lambda ctx: ctx.db.system.query("_scheduled_functions").first())["_id"] == job_id


def test_system_tables_are_not_user_tables(t: ConvexEmulator) -> None:
    job_id = t.run(lambda ctx: ctx.scheduler.run_after(1000, "jobs:noop", {}))
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    with pytest.raises(InvalidTableError):
        t.query(lambda ctx: ctx.db.query("_scheduled_functions").collect())
    with pytest.raises(InvalidTableError):
        t.run(lambda ctx: ctx.db.insert("_scheduled_functions", {"name": "x"}))
    with pytest.raises(InvalidTableError):
        t.query(lambda ctx: ctx.db.system.query("users").collect())
    with pytest.raises(InvalidIdError):
        t.query(lambda ctx: ctx.db.get(job_id))
    with pytest.raises(InvalidIdError):
        t.query(lambda ctx: ctx.db.system.get(user_id))
    with pytest.raises(Exception):
        t.run(lambda ctx: ctx.db.delete(job_id))
    assert len(t.scheduled_functions()) == 1


# --- Tables and schema -----------------------------------------------------------------------------------


def test_unknown_table_with_a_schema(t: ConvexEmulator) -> None:
    # A table the schema does not declare: empty until written, then unchecked (as in Convex,
    # where strictTableNameTypes is a TypeScript-only check). A bad table name is still an error.
    assert t.query(lambda ctx: ctx.db.query("nope").collect()) == []
    assert t.run(lambda ctx: ctx.db.insert("nope", {"a": 1})).table == "nope"
    assert [d["a"] for d in all_docs(t, "nope")] == [1]
    with pytest.raises(InvalidTableError, match="no-pe"):
        t.run(lambda ctx: ctx.db.insert("no-pe", {"a": 1}))
    with pytest.raises(InvalidTableError, match="no-pe"):
        t.query(lambda ctx: ctx.db.query("no-pe").collect())


def test_without_a_schema_any_table_works(loose: ConvexEmulator) -> None:
    assert loose.query(lambda ctx: ctx.db.query("anything").collect()) == []
    doc_id = loose.run(lambda ctx: ctx.db.insert("anything", {"x": 1}))
    assert doc_id.table == "anything"
    assert [d["x"] for d in all_docs(loose, "anything")] == [1]
    with pytest.raises(InvalidTableError):
        loose.run(lambda ctx: ctx.db.insert("bad-name!", {"x": 1}))


def test_schema_validation_on_insert(t: ConvexEmulator) -> None:
    with pytest.raises(SchemaValidationError) as info:
        t.run(lambda ctx: ctx.db.insert("users", {"name": 5}))
    assert "users" in str(info.value)
    assert info.value.path == ".name"
    with pytest.raises(SchemaValidationError, match="missing the required field `name`"):
        t.run(lambda ctx: ctx.db.insert("users", {}))
    with pytest.raises(SchemaValidationError, match="extra field `email`"):
        t.run(lambda ctx: ctx.db.insert("users", {"name": "a", "email": "x"}))
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.insert("users", {"name": "a", "age": 1.5}))
    assert all_docs(t, "users") == []


def test_schema_validation_on_patch(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada", "age": 1}))
    before = t.run(lambda ctx: ctx.db.get(user_id))
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.patch(user_id, {"age": "old"}))
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.patch(user_id, {"name": UNSET}))
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.patch(user_id, {"unknown": 1}))
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.patch(user_id, {"age": None}))
    assert t.run(lambda ctx: ctx.db.get(user_id)) == before


def test_schema_validation_on_replace(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    before = t.run(lambda ctx: ctx.db.get(user_id))
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.replace(user_id, {"age": 3}))
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.replace(user_id, {"name": ["list"]}))
    assert t.run(lambda ctx: ctx.db.get(user_id)) == before


def test_schema_id_field_checks_the_table(t: ConvexEmulator) -> None:
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    post_id = t.run(lambda ctx: ctx.db.insert("posts", {"author": user_id, "title": "hi"}))
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.insert("posts", {"author": post_id, "title": "wrong table"}))
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.insert("posts", {"author": "garbage", "title": "bad id"}))
    assert [p["title"] for p in all_docs(t, "posts")] == ["hi"]


def test_schema_validation_can_be_turned_off() -> None:
    schema = define_schema({"users": define_table({"name": v.string()})}, schema_validation=False)
    t = ConvexEmulator(modules={}, schema=schema)
    doc_id = t.run(lambda ctx: ctx.db.insert("users", {"name": 5, "other": True}))
    assert t.run(lambda ctx: ctx.db.get(doc_id))["name"] == 5


def test_field_name_rules(loose: ConvexEmulator) -> None:
    with pytest.raises(InvalidValueError):
        loose.run(lambda ctx: ctx.db.insert("things", {"_secret": 1}))
    with pytest.raises(InvalidValueError):
        loose.run(lambda ctx: ctx.db.insert("things", {"$dollar": 1}))
    with pytest.raises(InvalidValueError):
        loose.run(lambda ctx: ctx.db.insert("things", {"a": {"$nested": 1}}))
    with pytest.raises(InvalidValueError):
        loose.run(lambda ctx: ctx.db.insert("things", {"é": 1}))
    with pytest.raises(InvalidValueError):
        loose.run(lambda ctx: ctx.db.insert("things", {1: 1}))
    assert all_docs(loose, "things") == []


@pytest.mark.parametrize("bad", [2**63, -(2**63) - 1, {1, 2}, object()])
def test_values_that_are_not_convex_values(loose: ConvexEmulator, bad) -> None:
    with pytest.raises(InvalidValueError):
        loose.run(lambda ctx: ctx.db.insert("things", {"x": bad}))
    assert all_docs(loose, "things") == []


def test_int64_bounds_are_accepted(loose: ConvexEmulator) -> None:
    doc_id = loose.run(lambda ctx: ctx.db.insert("things", {"lo": -(2**63), "hi": 2**63 - 1}))
    doc = loose.run(lambda ctx: ctx.db.get(doc_id))
    assert (doc["lo"], doc["hi"]) == (-(2**63), 2**63 - 1)


def test_insert_of_a_non_dict_is_an_error(loose: ConvexEmulator) -> None:
    with pytest.raises(InvalidValueError):
        loose.run(lambda ctx: ctx.db.insert("things", [1, 2]))
    with pytest.raises(InvalidValueError):
        loose.run(lambda ctx: ctx.db.insert("things", None))


# --- Indexes ------------------------------------------------------------------------------------------------


def test_schema_index_orders_by_field_then_creation_time(t: ConvexEmulator) -> None:
    for name in ["carol", "alice", "bob", "alice"]:
        t.run(lambda ctx, name=name: ctx.db.insert("users", {"name": name}))
    docs = t.query(lambda ctx: ctx.db.query("users").with_index("by_name").collect())
    assert [d["name"] for d in docs] == ["alice", "alice", "bob", "carol"]
    alices = [d for d in docs if d["name"] == "alice"]
    assert alices[0]["_creationTime"] < alices[1]["_creationTime"]
    desc = t.query(lambda ctx: ctx.db.query("users").with_index("by_name").order("desc").collect())
    assert desc == list(reversed(docs))


def test_table_scan_is_creation_order(t: ConvexEmulator) -> None:
    for name in ["c", "a", "b"]:
        t.run(lambda ctx, name=name: ctx.db.insert("users", {"name": name}))
    assert [d["name"] for d in all_docs(t, "users")] == ["c", "a", "b"]
    by_time = t.query(lambda ctx: ctx.db.query("users").with_index("by_creation_time").collect())
    assert [d["name"] for d in by_time] == ["c", "a", "b"]
    desc = t.query(lambda ctx: ctx.db.query("users").order("desc").collect())
    assert [d["name"] for d in desc] == ["b", "a", "c"]


def test_by_creation_time_range(t: ConvexEmulator) -> None:
    t.run(lambda ctx: ctx.db.insert("users", {"name": "early"}))
    t.advance(seconds=1)
    t.run(lambda ctx: ctx.db.insert("users", {"name": "late"}))
    late = t.query(
        lambda ctx: ctx.db.query("users").with_index("by_creation_time", lambda q: q.gte("_creationTime", START_MS + 500)).collect()
    )
    assert [d["name"] for d in late] == ["late"]
    early = t.query(
        lambda ctx: ctx.db.query("users").with_index("by_creation_time", lambda q: q.lt("_creationTime", START_MS + 500)).collect()
    )
    assert [d["name"] for d in early] == ["early"]


def test_creation_order_survives_deletes_and_rolled_back_deletes(loose: ConvexEmulator) -> None:
    # Deleted documents leave their index keys behind until compaction: every read
    # must still see exactly the live documents, in creation order, both ways.
    ids = loose.run(lambda ctx: [ctx.db.insert("things", {"i": i}) for i in range(200)])
    loose.run(lambda ctx: [ctx.db.delete(ids[i]) for i in range(200) if i % 3])  # 133 deletes: compacts
    alive = [i for i in range(200) if i % 3 == 0]

    def failing(ctx):
        for i in [198, 195] + alive[:-2]:  # compacts again, mid-transaction
            ctx.db.delete(ids[i])
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        loose.run(failing)
    assert [d["i"] for d in all_docs(loose, "things")] == alive
    desc = loose.query(lambda ctx: ctx.db.query("things").order("desc").collect())
    assert [d["i"] for d in desc] == alive[::-1]
    page = loose.query(lambda ctx: ctx.db.query("things").order("desc").take(3))
    assert [d["i"] for d in page] == [198, 195, 192]
    first = loose.query(lambda ctx: ctx.db.query("things").paginate({"numItems": 5, "cursor": None}))
    assert [d["i"] for d in first["page"]] == [0, 3, 6, 9, 12]
    rest = loose.query(lambda ctx: ctx.db.query("things").paginate({"numItems": 500, "cursor": first["continueCursor"]}))
    assert [d["i"] for d in rest["page"]] == alive[5:]


def test_deleting_the_oldest_documents_first_keeps_reads_exact_and_the_index_small(loose: ConvexEmulator) -> None:
    # Retention deletes in creation order: every read sees exactly the live documents,
    # also after a rolled-back run of such deletes, and the index does not keep the deleted keys.
    ids = loose.run(lambda ctx: [ctx.db.insert("things", {"i": i}) for i in range(400)])
    for start in range(0, 150, 30):
        loose.run(lambda ctx: [ctx.db.delete(ids[i]) for i in range(start, start + 30)])

    def failing(ctx):
        for i in range(150, 200):
            ctx.db.delete(ids[i])
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        loose.run(failing)
    loose.run(lambda ctx: ctx.db.delete(ids[250]))  # one from the middle too
    alive = [i for i in range(150, 400) if i != 250]
    assert [d["i"] for d in all_docs(loose, "things")] == alive
    desc = loose.query(lambda ctx: ctx.db.query("things").order("desc").collect())
    assert [d["i"] for d in desc] == alive[::-1]
    first = loose.query(lambda ctx: ctx.db.query("things").paginate({"numItems": 5, "cursor": None}))
    assert [d["i"] for d in first["page"]] == [150, 151, 152, 153, 154]
    rest = loose.query(lambda ctx: ctx.db.query("things").paginate({"numItems": 500, "cursor": first["continueCursor"]}))
    assert [d["i"] for d in rest["page"]] == alive[5:]
    keys = loose.store.tables["things"].indexes["by_creation_time"].keys
    assert len(keys) <= len(alive) + len(alive) // 8 + 33  # at most an eighth (or 33) beyond the live keys


def test_rolled_back_inserts_leave_no_trace_in_creation_order(loose: ConvexEmulator) -> None:
    loose.run(lambda ctx: ctx.db.insert("things", {"i": 0}))

    def failing(ctx):
        ctx.db.insert("things", {"i": 1})
        ctx.db.insert("things", {"i": 2})
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        loose.run(failing)
    loose.run(lambda ctx: ctx.db.insert("things", {"i": 3}))
    assert [d["i"] for d in all_docs(loose, "things")] == [0, 3]
    assert loose.query(lambda ctx: ctx.db.query("things").order("desc").first())["i"] == 3


def test_by_id_index(t: ConvexEmulator) -> None:
    ids = [t.run(lambda ctx, n=n: ctx.db.insert("users", {"name": n})) for n in "abc"]
    found = t.query(lambda ctx: ctx.db.query("users").with_index("by_id", lambda q: q.eq("_id", ids[1])).collect())
    assert [d["name"] for d in found] == ["b"]
    assert len(t.query(lambda ctx: ctx.db.query("users").with_index("by_id").collect())) == 3


def test_compound_index(t: ConvexEmulator) -> None:
    for name, age in [("d", 30), ("b", 20), ("a", 30), ("c", 20), ("e", 40)]:
        t.run(lambda ctx, name=name, age=age: ctx.db.insert("users", {"name": name, "age": age}))
    docs = t.query(lambda ctx: ctx.db.query("users").with_index("by_age_name").collect())
    assert [(d["age"], d["name"]) for d in docs] == [(20, "b"), (20, "c"), (30, "a"), (30, "d"), (40, "e")]
    thirty = t.query(
        lambda ctx: ctx.db.query("users").with_index("by_age_name", lambda q: q.eq("age", 30).gt("name", "a")).collect()
    )
    assert [d["name"] for d in thirty] == ["d"]


def test_index_follows_updates(t: ConvexEmulator) -> None:
    a = t.run(lambda ctx: ctx.db.insert("users", {"name": "a"}))
    t.run(lambda ctx: ctx.db.insert("users", {"name": "b"}))
    t.run(lambda ctx: ctx.db.patch(a, {"name": "z"}))
    names = [d["name"] for d in t.query(lambda ctx: ctx.db.query("users").with_index("by_name").collect())]
    assert names == ["b", "z"]
    t.run(lambda ctx: ctx.db.delete(a))
    assert t.query(lambda ctx: ctx.db.query("users").with_index("by_name", lambda q: q.eq("name", "z")).collect()) == []


def test_unknown_index(t: ConvexEmulator) -> None:
    with pytest.raises(IndexNotFoundError, match="by_nothing"):
        t.query(lambda ctx: ctx.db.query("users").with_index("by_nothing").collect())


# --- Convex's ordering of values across types ---------------------------------------------------------------

ORDERED_VALUES = [
    UNSET,  # missing field
    None,
    -5,
    3,
    2**40,
    float("-inf"),
    -1.5,
    0.5,
    1e10,
    False,
    True,
    "",
    "A",
    "a",
    "b",
    b"",
    b"\x00",
    b"a",
    [],
    [1],
    [1, 2],
    ["a"],
    {},
    {"a": 1},
]


@pytest.fixture
def mixed() -> ConvexEmulator:
    schema = define_schema({"things": define_table({"v": v.optional(v.any()), "i": v.int64()}).index("by_v", ["v"])})
    t = ConvexEmulator(modules={}, schema=schema, start_time=START)

    def fill(ctx):
        # Insert in a scrambled order so creation order does not give the answer.
        for i in [7, 3, 22, 0, 11, 15, 1, 19, 5, 9, 13, 17, 2, 21, 4, 20, 6, 23, 8, 18, 10, 16, 12, 14]:
            value = ORDERED_VALUES[i]
            ctx.db.insert("things", {"i": i} if value is UNSET else {"i": i, "v": value})

    t.run(fill)
    return t


def test_index_orders_values_across_types(mixed: ConvexEmulator) -> None:
    docs = mixed.query(lambda ctx: ctx.db.query("things").with_index("by_v").collect())
    assert [d["i"] for d in docs] == list(range(len(ORDERED_VALUES)))
    desc = mixed.query(lambda ctx: ctx.db.query("things").with_index("by_v").order("desc").collect())
    assert [d["i"] for d in desc] == list(reversed(range(len(ORDERED_VALUES))))


def test_index_range_across_types(mixed: ConvexEmulator) -> None:
    numbers = mixed.query(
        lambda ctx: ctx.db.query("things").with_index("by_v", lambda q: q.gt("v", None).lt("v", False)).collect()
    )
    assert [d["i"] for d in numbers] == [2, 3, 4, 5, 6, 7, 8]
    ints = mixed.query(
        lambda ctx: ctx.db.query("things").with_index("by_v", lambda q: q.gt("v", None).lt("v", float("-inf"))).collect()
    )
    assert [d["i"] for d in ints] == [2, 3, 4]
    strings = mixed.query(
        lambda ctx: ctx.db.query("things").with_index("by_v", lambda q: q.gte("v", "").lt("v", b"")).collect()
    )
    assert [d["i"] for d in strings] == [11, 12, 13, 14]


def test_filter_comparisons_use_the_same_order(mixed: ConvexEmulator) -> None:
    below_zero_float = mixed.query(
        lambda ctx: ctx.db.query("things").with_index("by_v").filter(lambda q: q.lt(q.field("v"), 0.0)).collect()
    )
    assert [d["i"] for d in below_zero_float] == [0, 1, 2, 3, 4, 5, 6]
    above_null = mixed.query(
        lambda ctx: ctx.db.query("things").with_index("by_v").filter(lambda q: q.gt(q.field("v"), None)).collect()
    )
    assert [d["i"] for d in above_null] == list(range(2, len(ORDERED_VALUES)))
    objects = mixed.query(
        lambda ctx: ctx.db.query("things").with_index("by_v").filter(lambda q: q.gte(q.field("v"), {})).collect()
    )
    assert [d["i"] for d in objects] == [22, 23]


def test_int_and_float_are_different_values(mixed: ConvexEmulator) -> None:
    def go(ctx):
        ctx.db.insert("things", {"i": 100, "v": 3.0})
        ints = ctx.db.query("things").with_index("by_v", lambda q: q.eq("v", 3)).collect()
        floats = ctx.db.query("things").with_index("by_v", lambda q: q.eq("v", 3.0)).collect()
        filtered = ctx.db.query("things").filter(lambda q: q.eq(q.field("v"), 3)).collect()
        return [d["i"] for d in ints], [d["i"] for d in floats], [d["i"] for d in filtered]

    assert mixed.run(go) == ([3], [100], [3])


def test_objects_compare_by_sorted_field_names(loose: ConvexEmulator) -> None:
    # Convex objects have no field order: {"size": 7, "color": "blue"} is the same value as
    # {"color": "blue", "size": 7}, and objects compare field by field in sorted field-name order.
    def go(ctx):
        ctx.db.insert("things", {"i": 1, "m": {"color": "blue", "size": 7}})
        ctx.db.insert("things", {"i": 2, "m": {"b": 1, "a": 2}})
        ctx.db.insert("things", {"i": 3, "m": {"a": 3}})
        q = lambda pred: [d["i"] for d in ctx.db.query("things").filter(pred).collect()]  # noqa: E731
        return (
            q(lambda f: f.eq(f.field("m"), {"size": 7, "color": "blue"})),
            q(lambda f: f.eq(f.field("m"), {"a": 2, "b": 1})),
            q(lambda f: f.lt(f.field("m"), {"a": 3})),  # {"a": 2, "b": 1} < {"a": 3}
        )

    assert loose.run(go) == ([1], [2], [2])


def test_object_index_order_ignores_field_order() -> None:
    schema = define_schema({"things": define_table({"m": v.any(), "i": v.int64()}).index("by_m", ["m"])})
    t = ConvexEmulator(modules={}, schema=schema, start_time=START)
    t.run(lambda ctx: ctx.db.insert("things", {"i": 3, "m": {"a": 3}}))
    t.run(lambda ctx: ctx.db.insert("things", {"i": 2, "m": {"b": 1, "a": 2}}))
    docs = t.query(lambda ctx: ctx.db.query("things").with_index("by_m").collect())
    assert [d["i"] for d in docs] == [2, 3]
    same = t.query(lambda ctx: ctx.db.query("things").with_index("by_m", lambda q: q.eq("m", {"a": 2, "b": 1})).collect())
    assert [d["i"] for d in same] == [2]


def test_a_dropped_emulator_is_freed_at_once_without_the_cycle_collector() -> None:
    # A test suite makes an emulator per test: its documents must go when it does,
    # not pile up until a full garbage collection pauses some later test.
    import gc
    import weakref

    from convex_py import internal

    t = ConvexEmulator(modules={"jobs": {"noop": noop}}, schema=SCHEMA, start_time=START)
    t.run(lambda ctx: ctx.db.insert("users", {"name": "a"}))
    t.run(lambda ctx: ctx.scheduler.run_after(5000, internal.jobs.noop))
    caller = t.with_identity({"subject": "u1"})
    store = weakref.ref(t.store)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del t
        assert store() is not None  # a caller made from it keeps it alive and working
        assert [d["name"] for d in caller.query(lambda ctx: ctx.db.query("users").collect())] == ["a"]
        del caller
        assert store() is None
        # Likewise with deployed cron jobs waiting in the heap.
        from pathlib import Path

        crons_app = ConvexEmulator(Path(__file__).resolve().parent.parent / "fixtures" / "crons", start_time=START)
        crons_app.advance(hours=1)
        store = weakref.ref(crons_app.store)
        del crons_app
        assert store() is None
    finally:
        if enabled:
            gc.enable()
