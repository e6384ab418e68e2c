"""Ids cost what their string costs, and stored documents of plain values stay out of the garbage
collector's way, while every document a caller gets still has an `Id` that knows its table."""

from __future__ import annotations

import copy
import gc
import pickle

from convex_py import define_schema, define_table, internal_mutation, v
from convex_py._values import Id, as_id, id_table, make_id
from emulator import ConvexEmulator

T0 = "2030-01-01T00:00:00Z"


@internal_mutation
def nothing(ctx, args):
    return None


def make() -> ConvexEmulator:
    schema = define_schema({"users": define_table({"name": v.string()}).index("by_name", ["name"])})
    return ConvexEmulator(modules={"users": {"nothing": nothing}}, schema=schema, start_time=T0)


def test_an_id_has_no_instance_dict_and_reads_its_table_from_its_number() -> None:
    doc_id = make_id("users", 7)
    assert not hasattr(doc_id, "__dict__")
    assert doc_id.table == "users"
    assert repr(doc_id) == f"Id('{str(doc_id)}', table='users')"
    assert Id(str(doc_id), "users").table == "users"
    assert as_id(str(doc_id), "users").table == "users" and as_id(str(doc_id), "other") is None
    assert id_table(str(doc_id)) == "users"


def test_an_id_survives_pickle_and_copy() -> None:
    doc_id = make_id("users", 8)
    for again in (pickle.loads(pickle.dumps(doc_id)), copy.copy(doc_id), copy.deepcopy(doc_id)):
        assert type(again) is Id and again == doc_id and again.table == "users"


def test_an_id_made_by_hand_keeps_the_table_it_was_given() -> None:
    odd = Id("not-an-id", "users")
    assert odd.table == "users" and odd == "not-an-id"
    assert pickle.loads(pickle.dumps(odd)).table == "users"


def test_documents_read_back_have_ids_that_know_their_table() -> None:
    t = make()
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    assert type(user_id) is Id and user_id.table == "users"
    for doc in (
        t.run(lambda ctx: ctx.db.get(user_id)),
        t.query(lambda ctx: ctx.db.query("users").first()),
        t.query(lambda ctx: ctx.db.query("users").with_index("by_name", lambda q: q.eq("name", "ada")).unique()),
        t.query(lambda ctx: ctx.db.query("users").paginate({"numItems": 1, "cursor": None}))["page"][0],
        t.query(lambda ctx: list(ctx.db.query("users"))[0]),
    ):
        assert type(doc["_id"]) is Id and doc["_id"] == user_id and doc["_id"].table == "users"
    job_id = t.run(lambda ctx: ctx.scheduler.run_after(1000, "users:nothing"))
    [job] = t.scheduled_functions()
    assert type(job["_id"]) is Id and job["_id"] == job_id and job["_id"].table == "_scheduled_functions"
    t.close()


def test_stored_documents_of_plain_values_are_not_tracked_by_the_garbage_collector() -> None:
    t = make()
    user_id = t.run(lambda ctx: ctx.db.insert("users", {"name": "ada"}))
    stored = t.store.tables["users"].docs[user_id]
    assert stored == {"name": "ada", "_id": user_id, "_creationTime": stored["_creationTime"]}
    assert not gc.is_tracked(stored)
    gc.collect()
    keys = t.store.tables["users"].indexes["by_creation_time"].keys._keys
    assert not gc.is_tracked(keys[0])
    t.close()
