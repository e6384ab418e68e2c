"""Port of convex-test's convex/actions.test.ts: actions calling queries, mutations and actions."""

from __future__ import annotations

import pytest

from convex_py import api, internal

from _ct import APP, app_module, match_object

pytestmark = pytest.mark.convex_app(str(APP))


# actions.test.ts: test("action calling query")
def test_action_calling_query(convex):
    convex.mutation(lambda ctx: ctx.db.insert("messages", {"body": "foo", "author": "test"}))
    match_object(convex.action(internal.actions.actionCallingQuery), [{"body": "foo", "author": "test"}])


# actions.test.ts: test("action calling mutation")
def test_action_calling_mutation(convex):
    convex.action(api.actions.actionCallingMutation, {"body": "heya"})
    match_object(convex.query(internal.actions.list), [{"body": "heya", "author": "AI"}])


# actions.test.ts: test("action calling action")
def test_action_calling_action(convex):
    assert convex.action(internal.actions.actionCallingAction, {"count": 2})["called"] == 2


# actions.test.ts: test("action calling action via handler helper")
def test_action_calling_action_via_handler_helper(convex):
    helper = app_module("actions").actionCallingActionHandler

    async def body(ctx):
        return await helper(ctx, {"count": 2})

    assert convex.action(body)["called"] == 2


# actions.test.ts: test("action calling mutations concurrently")
def test_action_calling_mutations_concurrently(convex):
    convex.action(api.actions.actionCallingMutationsConcurrently, {"authors": ["A", "B", "C"], "body": "foo"})
    match_object(
        convex.query(internal.actions.list),
        [{"author": "A", "body": "foo"}, {"author": "B", "body": "foo"}, {"author": "C", "body": "foo"}],
    )
