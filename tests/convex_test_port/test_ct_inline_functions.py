"""Port of convex-test's convex/inlineFunctions.test.ts: `t.query/mutation/action(lambda ctx: ...)`."""

from __future__ import annotations

import pytest

from convex_py import api

from _ct import APP, match_object

pytestmark = pytest.mark.convex_app(str(APP))


async def _all(ctx):
    return await ctx.db.query("messages").collect()


# inlineFunctions.test.ts: test("inline query")
def test_inline_query(convex):
    async def seed(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello1"})
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello2"})

    convex.run(seed)
    match_object(convex.query(_all), [{"author": "sarah", "body": "hello1"}, {"author": "sarah", "body": "hello2"}])


async def _insert_hello(ctx):
    return await ctx.db.insert("messages", {"author": "sarah", "body": "hello"})


# inlineFunctions.test.ts: test("inline mutation insert")
def test_inline_mutation_insert(convex):
    assert convex.mutation(_insert_hello) is not None
    match_object(convex.query(_all), [{"author": "sarah", "body": "hello"}])


# inlineFunctions.test.ts: test("inline mutation patch")
def test_inline_mutation_patch(convex):
    id = convex.mutation(_insert_hello)
    convex.mutation(lambda ctx: ctx.db.patch(id, {"body": "updated"}))
    match_object(convex.query(lambda ctx: ctx.db.get(id)), {"author": "sarah", "body": "updated"})


# inlineFunctions.test.ts: test("inline mutation delete")
def test_inline_mutation_delete(convex):
    id = convex.mutation(_insert_hello)
    convex.mutation(lambda ctx: ctx.db.delete(id))
    assert convex.query(lambda ctx: ctx.db.get(id)) is None


# inlineFunctions.test.ts: test("inline query is read-only (no db.insert)")
def test_inline_query_is_read_only(convex):
    with pytest.raises(Exception, match="queries are read-only"):
        convex.query(_insert_hello)
    assert convex.query(_all) == []


# inlineFunctions.test.ts: test("inline mutation transaction rollback")
def test_inline_mutation_transaction_rollback(convex):
    async def body(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello"})
        raise Exception("rollback")

    with pytest.raises(Exception, match="rollback"):
        convex.mutation(body)
    assert convex.query(_all) == []


# inlineFunctions.test.ts: test("inline functions with identity")
def test_inline_functions_with_identity(convex):
    auth_t = convex.with_identity({"name": "Test User"})
    match_object(auth_t.query(lambda ctx: ctx.auth.get_user_identity()), {"name": "Test User"})
    auth_t.mutation(_insert_hello)
    messages = auth_t.query(_all)
    match_object(messages, [{"author": "sarah", "body": "hello"}])
    assert convex.query(_all) == messages


# inlineFunctions.test.ts: test("inline query returns value")
def test_inline_query_returns_value(convex):
    convex.run(_insert_hello)

    async def body(ctx):
        return len(await ctx.db.query("messages").collect()) + 41

    assert convex.query(body) == 42


# inlineFunctions.test.ts: test("inline action basic")
def test_inline_action_basic(convex):
    async def body(ctx):
        return "hello from action"

    assert convex.action(body) == "hello from action"


# inlineFunctions.test.ts: test("inline action with return value")
def test_inline_action_with_return_value(convex):
    assert convex.action(lambda ctx: {"count": 42, "message": "success"}) == {"count": 42, "message": "success"}


# inlineFunctions.test.ts: test("inline action calling function reference via ctx.runQuery")
def test_inline_action_calling_run_query(convex):
    convex.run(_insert_hello)

    async def body(ctx):
        return await ctx.run_query(api.queries.list)

    match_object(convex.action(body), [{"author": "sarah", "body": "hello"}])


# inlineFunctions.test.ts: test("inline action calling function reference via ctx.runMutation")
def test_inline_action_calling_run_mutation(convex):
    async def body(ctx):
        await ctx.runMutation(api.mutations.insert, {"author": "action", "body": "test"})

    convex.action(body)
    match_object(convex.query(_all), [{"author": "action", "body": "test"}])


# inlineFunctions.test.ts: test("inline action with identity")
def test_inline_action_with_identity(convex):
    async def body(ctx):
        return await ctx.auth.get_user_identity()

    match_object(convex.with_identity({"name": "Action User"}).action(body), {"name": "Action User"})


# inlineFunctions.test.ts: test("inline action using storage")
def test_inline_action_using_storage(convex):
    async def body(ctx):
        id = await ctx.storage.store(b"hello")
        blob = await ctx.storage.get(id)
        return blob.decode()

    assert convex.action(body) == "hello"
