"""Port of convex-test's convex/explicitTableNames.test.ts: `ctx.db.get/patch/replace/delete` given the
table name first, and Convex's error when the id belongs to another table."""

from __future__ import annotations

import pytest

from convex_py import api

from _ct import APP

pytestmark = pytest.mark.convex_app(str(APP))

WRONG_TABLE = "Invalid argument `id`, expected ID in table 'otherTable' but got ID in table 'messages'"


# explicitTableNames.test.ts: test("correctUsage should not throw")
def test_correct_usage_should_not_throw(convex):
    convex.mutation(api.explicitTableNames.correctUsage)
    assert convex.run(lambda ctx: ctx.db.query("messages").collect()) == []


# explicitTableNames.test.ts: describe("called with wrong table name") / test("get"), ("patch"), ("delete"), ("replace")
@pytest.mark.parametrize("ref", [
    api.explicitTableNames.getWrongTable,
    api.explicitTableNames.patchWrongTable,
    api.explicitTableNames.deleteWrongTable,
    api.explicitTableNames.replaceWrongTable,
], ids=["get", "patch", "delete", "replace"])
def test_called_with_wrong_table_name(convex, ref):
    with pytest.raises(Exception) as info:
        convex.mutation(ref)
    assert WRONG_TABLE in str(info.value)
    assert convex.run(lambda ctx: ctx.db.query("messages").collect()) == []  # the insert rolled back
