"""Port of convex-test's convex/authentication.test.ts: the identity given by `with_identity` reaches
every kind of function and every nested call, never a scheduled one."""

from __future__ import annotations

import pytest

from convex_py import api

from _ct import APP, match_object

pytestmark = pytest.mark.convex_app(str(APP))


# authentication.test.ts: test("generated attributes")
def test_generated_attributes(convex):
    as_sarah = convex.with_identity({"name": "Sarah"})
    attributes = as_sarah.run(lambda ctx: ctx.auth.get_user_identity())
    match_object(attributes, {"name": "Sarah"})
    assert isinstance(attributes["tokenIdentifier"], str)
    assert isinstance(attributes["subject"], str)
    assert isinstance(attributes["issuer"], str)


async def _inline_name(ctx):
    identity = await ctx.auth.get_user_identity()
    return identity["name"] if identity else None


CALLS = [
    # authentication.test.ts: describe("action auth")
    ("action directly", "action", api.authentication.actionName),
    ("action inline", "action", _inline_name),
    ("action calling query", "action", api.authentication.actionCallingQuery),
    ("action calling mutation", "action", api.authentication.actionCallingMutation),
    ("action calling action", "action", api.authentication.actionCallingAction),
    ("action calling action calling query", "action", api.authentication.actionCallingActionCallingQuery),
    # authentication.test.ts: describe("mutation auth")
    ("mutation directly", "mutation", api.authentication.mutationName),
    ("mutation inline", "mutation", _inline_name),
    ("mutation calling query", "mutation", api.authentication.mutationCallingQuery),
    ("mutation calling mutation", "mutation", api.authentication.mutationCallingMutation),
    ("mutation calling mutation calling query", "mutation", api.authentication.mutationCallingMutationCallingQuery),
    # authentication.test.ts: describe("query auth")
    ("query directly", "query", api.authentication.queryName),
    ("query inline", "query", _inline_name),
    ("query calling query", "query", api.authentication.queryCallingQuery),
]


# authentication.test.ts: every test of describe("action auth"), ("mutation auth"), ("query auth")
@pytest.mark.parametrize("kind, ref", [(kind, ref) for _, kind, ref in CALLS], ids=[name for name, _, _ in CALLS])
def test_identity_reaches(convex, kind, ref):
    as_sarah = convex.with_identity({"name": "Sarah"})
    assert getattr(as_sarah, kind)(ref) == "Sarah"


# authentication.test.ts: test("scheduled function does not receive auth")
def test_scheduled_function_does_not_receive_auth(convex):
    scheduled = convex.with_identity({"name": "Sarah"}).mutation(api.authentication.scheduledNoAuth)
    convex.finish_all_scheduled_functions()
    result = convex.query(lambda ctx: ctx.db.system.get(scheduled))
    assert result["state"] == {"kind": "success"}
