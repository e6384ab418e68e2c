"""Convex's users and auth demo (convex-demos/users-and-auth): `users:store` keeps one user per token
identifier (renamed when the identity's name changes) and messages carry their author's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import api

pytestmark = [pytest.mark.convex_app(str(Path(__file__).parent / "demo_users_and_auth"))]

ADA = {"subject": "auth0|ada", "issuer": "https://dev.us.auth0.com/", "name": "Ada"}


def test_users_are_stored_once_per_token_and_renamed(convex):
    as_ada = convex.with_identity(ADA)
    user_id = as_ada.mutation(api.users.store)
    assert convex.run(lambda ctx: ctx.db.get(user_id)) == {
        "_id": user_id, "_creationTime": convex.run(lambda ctx: ctx.db.get(user_id))["_creationTime"],
        "name": "Ada", "tokenIdentifier": "https://dev.us.auth0.com/|auth0|ada"}
    assert as_ada.mutation(api.users.store) == user_id
    assert convex.with_identity({**ADA, "name": "Ada L."}).mutation(api.users.store) == user_id
    assert convex.run(lambda ctx: ctx.db.get(user_id))["name"] == "Ada L."
    assert len(convex.run(lambda ctx: ctx.db.query("users").collect())) == 1
    with pytest.raises(Exception, match="Called storeUser without authentication present"):
        convex.mutation(api.users.store)


def test_messages_carry_their_authors_name(convex):
    as_ada = convex.with_identity(ADA)
    with pytest.raises(Exception, match="Unauthenticated call to mutation"):
        as_ada.mutation(api.messages.send, {"body": "before store"})  # no user row yet
    as_ada.mutation(api.users.store)
    as_ada.mutation(api.messages.send, {"body": "hello"})
    as_bob = convex.with_identity({"subject": "bob", "name": "Bob"})
    as_bob.mutation(api.users.store)
    as_bob.mutation(api.messages.send, {"body": "hi Ada"})
    assert [(m["author"], m["body"]) for m in convex.query(api.messages.list)] == [("Ada", "hello"), ("Bob", "hi Ada")]
    with pytest.raises(Exception, match="Unauthenticated call to mutation"):
        convex.mutation(api.messages.send, {"body": "anonymous"})
