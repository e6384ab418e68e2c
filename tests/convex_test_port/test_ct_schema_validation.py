"""Port of convex-test's convex/schemaValidation.test.ts: writes are checked against the schema.

convex-test words the error "Validator error"; Convex says "Failed to insert or update a document in
table ... because it does not match the schema" (asserted here)."""

from __future__ import annotations

import pytest

from convex_py import define_schema, define_table, v
from convex_py.errors import SchemaValidationError
from emulator import ConvexEmulator

from _ct import APP

pytestmark = pytest.mark.convex_app(str(APP))

MISMATCH = r'Failed to insert or update a document in table "messages" because it does not match the schema'


# schemaValidation.test.ts: test("extra fields")
def test_extra_fields(convex):
    with pytest.raises(SchemaValidationError, match=MISMATCH):
        convex.run(lambda ctx: ctx.db.insert("messages", {"author": "sarah", "body": "hello1", "extraField": True}))


# schemaValidation.test.ts: test("patch")
def test_patch(convex):
    async def body(ctx):
        id = await ctx.db.insert("messages", {"author": "sarah", "body": "hello"})
        await ctx.db.patch(id, {"author": False})

    with pytest.raises(SchemaValidationError, match=MISMATCH):
        convex.run(body)
    assert convex.run(lambda ctx: ctx.db.query("messages").collect()) == []


# schemaValidation.test.ts: test("replace")
def test_replace(convex):
    async def body(ctx):
        id = await ctx.db.insert("messages", {"author": "sarah", "body": "hello"})
        await ctx.db.replace(id, {"author": None, "body": "hey"})

    with pytest.raises(SchemaValidationError, match=MISMATCH):
        convex.run(body)


# schemaValidation.test.ts: test("arrays")
def test_arrays():
    t = ConvexEmulator(modules={}, schema=define_schema({"messages": define_table({"values": v.array(v.number())})}))
    with pytest.raises(SchemaValidationError, match=MISMATCH):
        t.run(lambda ctx: ctx.db.insert("messages", {"values": ["bad"]}))


# schemaValidation.test.ts: test("ids")
def test_ids():
    t = ConvexEmulator(modules={}, schema=define_schema({"messages": define_table({"author": v.optional(v.id("users"))})}))
    with pytest.raises(SchemaValidationError, match=MISMATCH):
        t.run(lambda ctx: ctx.db.insert("messages", {"author": "no bueno"}))

    async def wrong_table(ctx):
        message_id = await ctx.db.insert("messages", {})
        await ctx.db.insert("messages", {"author": message_id})

    with pytest.raises(SchemaValidationError, match=MISMATCH):
        t.run(wrong_table)


# schemaValidation.test.ts: test("schema validation off")
def test_schema_validation_off():
    schema = define_schema({"messages": define_table({"author": v.string()})}, schema_validation=False)
    t = ConvexEmulator(modules={}, schema=schema)
    t.run(lambda ctx: ctx.db.insert("messages", {"author": 3, "extraField": True}))
    docs = t.run(lambda ctx: ctx.db.query("messages").collect())
    assert [(d["author"], d["extraField"]) for d in docs] == [(3, True)]
