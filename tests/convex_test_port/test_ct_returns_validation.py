"""Port of convex-test's convex/returnsValidation.test.ts: `returns=` validators checked on the way out.

convex-test words the error "Return value validation failed"; Convex says "ReturnsValidationError:
Value does not match validator." (asserted here)."""

from __future__ import annotations

import pytest

from convex_py import api
from convex_py.errors import ReturnsValidationError

from _ct import APP

pytestmark = pytest.mark.convex_app(str(APP))

FAILED = r"ReturnsValidationError: Value does not match validator"
EXTRA_CREATION_TIME = r"ReturnsValidationError: Object contains extra field `_creationTime` that is not in the validator"


def _seed(convex, author, body):
    convex.run(lambda ctx: ctx.db.insert("messages", {"author": author, "body": body}))


# returnsValidation.test.ts: test("query with incomplete return validator should fail")
def test_query_with_incomplete_return_validator_should_fail(convex):
    _seed(convex, "Alice", "Hello")
    with pytest.raises(ReturnsValidationError, match=FAILED):
        convex.query(api.returnsValidation.queryWithIncompleteReturnValidator)


# returnsValidation.test.ts: test("query with correct return validator should pass")
def test_query_with_correct_return_validator_should_pass(convex):
    _seed(convex, "Bob", "World")
    result = convex.query(api.returnsValidation.queryWithCorrectReturnValidator)
    assert result["author"] == "Bob"
    assert result["_creationTime"] == convex.now


# returnsValidation.test.ts: test("query returning correct primitive type should pass")
def test_query_returning_correct_primitive_type_should_pass(convex):
    result = convex.query(api.returnsValidation.queryReturningNumber)
    assert result == 42.0 and type(result) is float  # v.number() returns a float64


# returnsValidation.test.ts: test("query returning wrong primitive type should fail")
def test_query_returning_wrong_primitive_type_should_fail(convex):
    with pytest.raises(ReturnsValidationError, match=FAILED):
        convex.query(api.returnsValidation.queryReturningWrongType)


# returnsValidation.test.ts: test("mutation with incomplete return validator should fail")
def test_mutation_with_incomplete_return_validator_should_fail(convex):
    with pytest.raises(ReturnsValidationError, match=EXTRA_CREATION_TIME):
        convex.mutation(api.returnsValidation.mutationWithIncompleteReturnValidator, {"author": "Charlie", "body": "Test"})
    assert convex.run(lambda ctx: ctx.db.query("messages").collect()) == []  # its insert rolled back


# returnsValidation.test.ts: test("mutation with correct return validator should pass")
def test_mutation_with_correct_return_validator_should_pass(convex):
    result = convex.mutation(api.returnsValidation.mutationWithCorrectReturnValidator, {"author": "Diana", "body": "Test"})
    assert result["author"] == "Diana"
    assert result["_creationTime"] == convex.now


# returnsValidation.test.ts: test("query without return validator should pass")
def test_query_without_return_validator_should_pass(convex):
    _seed(convex, "Eve", "No validator")
    assert convex.query(api.returnsValidation.queryWithoutReturnValidator)["author"] == "Eve"


# returnsValidation.test.ts: test("query returning array with incomplete item validator should fail")
def test_query_returning_array_with_incomplete_item_validator_should_fail(convex):
    _seed(convex, "Frank", "Array test")
    with pytest.raises(ReturnsValidationError, match=EXTRA_CREATION_TIME + r"\.\nPath: \[0\]"):
        convex.query(api.returnsValidation.queryReturningArrayWithIncompleteValidator)


# returnsValidation.test.ts: test("action with incomplete return validator should fail")
def test_action_with_incomplete_return_validator_should_fail(convex):
    with pytest.raises(ReturnsValidationError, match=r"Object contains extra field `extraField` that is not in"):
        convex.action(api.returnsValidation.actionWithIncompleteReturnValidator)


# returnsValidation.test.ts: test("action with correct return validator should pass")
def test_action_with_correct_return_validator_should_pass(convex):
    assert convex.action(api.returnsValidation.actionWithCorrectReturnValidator) == {"name": "test", "value": 42}
