"""Port of convex-test's convex/convexError.test.ts: a ConvexError's data reaches whoever catches it,
from nested calls and at the test boundary."""

from __future__ import annotations

import pytest

from convex_py import ConvexError, api

from _ct import APP

pytestmark = pytest.mark.convex_app(str(APP))


def _caught_in_action(convex, run):
    caught = []

    async def body(ctx):
        try:
            await run(ctx)
        except Exception as e:  # noqa: BLE001 - the test looks at what was raised
            caught.append(e)

    convex.action(body)
    assert len(caught) == 1
    return caught[0]


# convexError.test.ts: test("ConvexError.data is deserialized when caught from runMutation in action")
def test_caught_from_run_mutation_in_action(convex):
    caught = _caught_in_action(convex, lambda ctx: ctx.run_mutation(api.convexError.throwsObject, {}))
    assert isinstance(caught, ConvexError)
    assert caught.data == {"kind": "x"}


# convexError.test.ts: test("ConvexError.data is deserialized when caught from runQuery in action")
def test_caught_from_run_query_in_action(convex):
    caught = _caught_in_action(convex, lambda ctx: ctx.run_query(api.convexError.queryThrowsObject, {}))
    assert isinstance(caught, ConvexError)
    assert caught.data == {"kind": "q"}


# convexError.test.ts: test("ConvexError.data is deserialized when caught from runAction in action")
def test_caught_from_run_action_in_action(convex):
    caught = _caught_in_action(convex, lambda ctx: ctx.run_action(api.convexError.actionThrowsObject, {}))
    assert isinstance(caught, ConvexError)
    assert caught.data == {"kind": "a"}


# convexError.test.ts: test("ConvexError.data is deserialized at the test boundary")
def test_at_the_test_boundary(convex):
    with pytest.raises(ConvexError) as info:
        convex.mutation(api.convexError.throwsObject, {})
    assert info.value.data == {"kind": "x"}


# convexError.test.ts: test("ConvexError.data is deserialized when caught from runMutation inside a mutation")
def test_caught_from_run_mutation_inside_a_mutation(convex):
    assert convex.mutation(api.convexError.mutationCatchingConvexError, {}) == {"kind": "x"}


# convexError.test.ts: test("ConvexError with primitive data round-trips")
def test_primitive_data_round_trips(convex):
    with pytest.raises(ConvexError) as info:
        convex.mutation(api.convexError.throwsString, {})
    assert info.value.data == "just a message"


def _raises(data):
    async def handler(ctx):
        raise ConvexError(data)

    return handler


# convexError.test.ts: test("ConvexError.data is deserialized from inline t.query handler"), and the
# same for inline t.mutation, t.action and t.run handlers
@pytest.mark.parametrize("kind", ["query", "mutation", "action", "run"])
def test_from_inline_handler(convex, kind):
    with pytest.raises(ConvexError) as info:
        getattr(convex, kind)(_raises({"kind": f"inline-{kind}"}))
    assert info.value.data == {"kind": f"inline-{kind}"}
