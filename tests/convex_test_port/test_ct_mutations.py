"""Port of convex-test's convex/mutations.test.ts: insert, patch, replace, delete, transactions,
nested mutations (subtransactions) and what they see."""

from __future__ import annotations

import asyncio

import pytest

from convex_py import UNSET, Id, api

from _ct import APP, match_object

pytestmark = pytest.mark.convex_app(str(APP))


# mutations.test.ts: test("insert")
def test_insert(convex):
    convex.mutation(api.mutations.insert, {"body": "hello", "author": "sarah"})
    match_object(convex.query(api.mutations.list), [{"body": "hello", "author": "sarah"}])


# mutations.test.ts: test("patch")
def test_patch(convex):
    id = convex.mutation(api.mutations.insert, {"body": "hello", "author": "sarah"})
    convex.mutation(api.mutations.patch, {"id": id, "body": "hi"})
    match_object(convex.query(api.mutations.list), [{"body": "hi", "author": "sarah"}])


# mutations.test.ts: test("replace")
def test_replace(convex):
    id = convex.mutation(api.mutations.insert, {"body": "hello", "author": "sarah"})
    convex.mutation(api.mutations.replace, {"id": id, "author": "michal", "body": "hi"})
    match_object(convex.query(api.mutations.list), [{"body": "hi", "author": "michal"}])


# mutations.test.ts: test("delete")
def test_delete(convex):
    id = convex.mutation(api.mutations.insert, {"body": "hello", "author": "sarah"})
    convex.mutation(api.mutations.deleteDoc, {"id": id})
    assert convex.query(api.mutations.list) == []


# mutations.test.ts: test("transaction")
def test_transaction(convex):
    with pytest.raises(Exception, match="I changed my mind"):
        convex.mutation(api.mutations.throws, {"body": "hello", "author": "sarah"})
    assert convex.query(api.mutations.list) == []


# mutations.test.ts: test("patch with _id")
def test_patch_with_id(convex):
    id = convex.mutation(api.mutations.insert, {"body": "hello", "author": "sarah"})
    convex.run(lambda ctx: ctx.db.patch(id, {"_id": id}))  # the document's own _id: no error
    with pytest.raises(Exception, match='Provided `_id` field value "nonsense" does not match the document ID'):
        convex.run(lambda ctx: ctx.db.patch(id, {"_id": Id("nonsense", table="messages")}))
    # (not in convex-test's test) the same rule for _creationTime, and for replace
    with pytest.raises(Exception, match="Provided `_creationTime` field value 5 does not match the document's creation"):
        convex.run(lambda ctx: ctx.db.replace(id, {"author": "a", "body": "b", "_creationTime": 5.0}))


# mutations.test.ts: test("patch after insert")
def test_patch_after_insert(convex):
    async def body(ctx):
        id = await ctx.db.insert("messages", {"body": "hello", "author": "sarah"})
        await ctx.db.patch(id, {"body": "hi"})
        return await ctx.db.query("messages").collect()

    match_object(convex.run(body), [{"body": "hi", "author": "sarah"}])


# mutations.test.ts: test("patch undefined")
def test_patch_undefined(convex):
    async def body(ctx):
        id = await ctx.db.insert("messages", {"body": "hello", "author": "sarah", "embedding": [1, 1, 1]})
        await ctx.db.patch(id, {"body": "hi", "embedding": UNSET})
        return await ctx.db.query("messages").collect()

    messages = convex.run(body)
    assert len(messages) == 1
    assert messages[0]["body"] == "hi"
    assert messages[0]["author"] == "sarah"
    assert "embedding" not in messages[0]


# mutations.test.ts: test("replace after insert")
def test_replace_after_insert(convex):
    async def body(ctx):
        id = await ctx.db.insert("messages", {"body": "hello", "author": "sarah"})
        await ctx.db.replace(id, {"author": "michal", "body": "hi"})
        return await ctx.db.query("messages").collect()

    match_object(convex.run(body), [{"body": "hi", "author": "michal"}])


# mutations.test.ts: test("concurrent append")
def test_concurrent_append(convex):
    id = convex.mutation(api.mutations.insert, {"body": "hello", "author": "lee"})

    async def ten_appends():
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(None, convex.mutation, api.mutations.append, {"id": id, "suffix": "!"})
              for _ in range(10))
        )

    asyncio.run(ten_appends())
    # If the mutations were not serializable, the final message would lose appends.
    match_object(convex.query(api.mutations.list), [{"body": "hello!!!!!!!!!!", "author": "lee"}])


# mutations.test.ts: test("delete is visible in transaction")
def test_delete_is_visible_in_transaction(convex):
    id = convex.run(lambda ctx: ctx.db.insert("messages", {"body": "hello", "author": "sarah"}))

    async def body(ctx):
        await ctx.db.delete(id)
        assert await ctx.db.get(id) is None
        assert await ctx.db.query("messages").first() is None

    convex.run(body)


# mutations.test.ts: test("rollback subtransaction")
def test_rollback_subtransaction(convex):
    assert convex.mutation(api.mutations.rolledBackSubtransaction, {}) == 2


# mutations.test.ts: test("subtransaction commit then rollback parent")
def test_subtransaction_commit_then_rollback_parent(convex):
    with pytest.raises(Exception, match="I changed my mind"):
        convex.mutation(api.mutations.subtransactionCommitThenRollbackParent, {})
    assert len(convex.query(api.mutations.list)) == 0


# mutations.test.ts: test("insert then patch in subtransaction")
def test_insert_then_patch_in_subtransaction(convex):
    assert convex.mutation(api.mutations.insertThenPatchInSubtransaction, {}) == ["hi"]


# mutations.test.ts: test("insert then delete in subtransaction")
def test_insert_then_delete_in_subtransaction(convex):
    assert convex.mutation(api.mutations.insertThenDeleteInSubtransaction, {}) == []
