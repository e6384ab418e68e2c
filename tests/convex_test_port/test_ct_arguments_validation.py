"""Port of convex-test's convex/argumentsValidation.test.ts.

convex-test words its errors "Validator error"; Convex's backend says "ArgumentValidationError:
..." (SEMANTICS.md), which is what these assert. The two tests that call into the `counter`
component ("component mutation arguments validation", and "query with union arg", which only
registers it) wait for components (issue 18); "query with union arg" is ported without it."""

from __future__ import annotations

import pytest

from convex_py import api
from convex_py.errors import ArgumentValidationError

from _ct import APP

pytestmark = pytest.mark.convex_app(str(APP))


# argumentsValidation.test.ts: test("query arguments validation")
def test_query_arguments_validation(convex):
    with pytest.raises(ArgumentValidationError, match=r"ArgumentValidationError: Value does not match validator"):
        convex.query(api.argumentsValidation.queryWithArgs, {"a": "bad"})
    assert convex.query(api.argumentsValidation.queryWithoutArgs, {"a": "ok"}) is None


# argumentsValidation.test.ts: test("mutation arguments validation")
def test_mutation_arguments_validation(convex):
    with pytest.raises(ArgumentValidationError, match=r"Object contains extra field `bad`"):
        convex.mutation(api.argumentsValidation.mutationWithArgs, {"a": 42, "bad": 1})
    assert convex.mutation(api.argumentsValidation.mutationWithoutArgs, {"a": "ok"}) is None


# argumentsValidation.test.ts: test("action arguments validation")
def test_action_arguments_validation(convex):
    with pytest.raises(ArgumentValidationError, match=r"Object is missing the required field `a`"):
        convex.action(api.argumentsValidation.actionWithArgs, {})
    assert convex.action(api.argumentsValidation.actionWithoutArgs, {"a": "ok"}) is None


# argumentsValidation.test.ts: test("optional fields")
def test_optional_fields(convex):
    assert convex.query(api.argumentsValidation.queryWithOptionalArgs, {}) == "ok"


# argumentsValidation.test.ts: test("query with union arg") (without registering the counter component)
def test_query_with_union_arg(convex):
    assert convex.query(api.argumentsValidation.queryWithUnionArg, {"a": 42}) == "ok"
    assert convex.query(api.argumentsValidation.queryWithUnionArg, {"a": "42"}) == "ok"
    with pytest.raises(ArgumentValidationError, match=r"Path: \.a"):
        convex.query(api.argumentsValidation.queryWithUnionArg, {"a": None})
