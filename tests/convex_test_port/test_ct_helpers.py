"""Port of convex-test's convex/helpers.test.ts: plain helper functions taking a ctx, called from
inline test functions."""

from __future__ import annotations

import pytest

from _ct import APP, app_module, match_object

pytestmark = pytest.mark.convex_app(str(APP))

helpers = app_module("helpers")


def _insert(*pairs):
    async def body(ctx):
        for author, text in pairs:
            await ctx.db.insert("messages", {"author": author, "body": text})

    return body


# helpers.test.ts: test("query helper: getMessagesByAuthor")
def test_get_messages_by_author(convex):
    convex.mutation(_insert(("alice", "hello"), ("bob", "world"), ("alice", "goodbye")))

    async def alice(ctx):
        return await helpers.getMessagesByAuthor(ctx, "alice")

    async def bob(ctx):
        return await helpers.getMessagesByAuthor(ctx, "bob")

    alice_messages = convex.query(alice)
    assert len(alice_messages) == 2
    match_object(alice_messages, [{"author": "alice", "body": "hello"}, {"author": "alice", "body": "goodbye"}])
    match_object(convex.query(bob), [{"author": "bob", "body": "world"}])


async def _count(ctx):
    return await helpers.countMessages(ctx)


# helpers.test.ts: test("query helper: countMessages")
def test_count_messages(convex):
    assert convex.query(_count) == 0
    convex.mutation(_insert(("alice", "one"), ("bob", "two"), ("charlie", "three")))
    assert convex.query(_count) == 3


async def _alice_bodies(ctx):
    return await helpers.getMessageBodies(ctx, "alice")


# helpers.test.ts: test("query helper: getMessageBodies (helper calling helper)")
def test_get_message_bodies(convex):
    convex.mutation(_insert(("alice", "first"), ("alice", "second"), ("bob", "other")))
    assert convex.query(_alice_bodies) == ["first", "second"]


# helpers.test.ts: test("mutation helper: insertMessage")
def test_insert_message(convex):
    async def insert(ctx):
        return await helpers.insertMessage(ctx, "alice", "hello")

    async def alice(ctx):
        return await helpers.getMessagesByAuthor(ctx, "alice")

    id = convex.mutation(insert)
    assert id is not None
    match_object(convex.query(alice), [{"_id": id, "author": "alice", "body": "hello"}])


# helpers.test.ts: test("mutation helper: insertMessages")
def test_insert_messages(convex):
    async def insert(ctx):
        return await helpers.insertMessages(
            ctx,
            [{"author": "alice", "body": "one"}, {"author": "alice", "body": "two"}, {"author": "bob", "body": "three"}],
        )

    assert len(convex.mutation(insert)) == 3
    assert convex.query(_count) == 3
    assert convex.query(_alice_bodies) == ["one", "two"]


# helpers.test.ts: test("mixing helpers with inline logic")
def test_mixing_helpers_with_inline_logic(convex):
    async def insert(ctx):
        await helpers.insertMessage(ctx, "alice", "hello")
        await ctx.db.insert("messages", {"author": "alice", "body": "world"})

    async def upper(ctx):
        return [m["body"].upper() for m in await helpers.getMessagesByAuthor(ctx, "alice")]

    convex.mutation(insert)
    assert convex.query(upper) == ["HELLO", "WORLD"]


# helpers.test.ts: test("helpers with identity")
def test_helpers_with_identity(convex):
    auth_t = convex.with_identity({"name": "Test User"})

    async def insert(ctx):
        identity = await ctx.auth.get_user_identity()
        await helpers.insertMessage(ctx, identity["name"], "authenticated message")

    async def mine(ctx):
        return await helpers.getMessagesByAuthor(ctx, "Test User")

    auth_t.mutation(insert)
    match_object(auth_t.query(mine), [{"author": "Test User", "body": "authenticated message"}])
