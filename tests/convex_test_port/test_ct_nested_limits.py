"""Port of convex-test's convex/nestedLimits.test.ts: `transaction_limits` on nested calls (Convex's
`transactionLimits` option) lower a nested call's limits, never raise them, and do not leak back.

Error texts are Convex's backend's (see test_ct_bandwidth.py)."""

from __future__ import annotations

import pytest

from convex_py import api
from convex_py.errors import LimitExceededError
from emulator import ConvexEmulator, Limits

from _ct import APP

MiB = 1 << 20
TOO_MANY_READ = r"Too many documents read in a single function execution \(limit: 5\)"


def _seed(t, count):
    async def body(ctx):
        for i in range(count):
            await ctx.db.insert("messages", {"author": "sarah", "body": f"msg{i}"})

    t.run(body)


# nestedLimits.test.ts: test("nested runQuery enforces its own documentsRead limit")
def test_nested_run_query_enforces_its_own_documents_read_limit():
    t = ConvexEmulator(APP)
    _seed(t, 10)
    with pytest.raises(LimitExceededError, match=TOO_MANY_READ):
        t.query(api.nestedLimits.parentReadWithLimits, {"transactionLimits": {"documentsRead": 5}})


# nestedLimits.test.ts: test("nested runQuery under its limit succeeds")
def test_nested_run_query_under_its_limit_succeeds():
    t = ConvexEmulator(APP)
    _seed(t, 3)
    assert t.query(api.nestedLimits.parentReadWithLimits, {"transactionLimits": {"documentsRead": 5}}) == 3


# nestedLimits.test.ts: test("nested runMutation enforces its own documentsWritten limit")
def test_nested_run_mutation_enforces_its_own_documents_written_limit():
    t = ConvexEmulator(APP)
    with pytest.raises(LimitExceededError, match=r"Too many writes in a single function execution \(limit: 3\)"):
        t.mutation(api.nestedLimits.parentInsertWithLimits, {"count": 10, "transactionLimits": {"documentsWritten": 3}})
    assert t.query(api.nestedLimits.readAll, {}) == 0


# nestedLimits.test.ts: test("nested runMutation under its limit succeeds")
def test_nested_run_mutation_under_its_limit_succeeds():
    t = ConvexEmulator(APP)
    t.mutation(api.nestedLimits.parentInsertWithLimits, {"count": 2, "transactionLimits": {"documentsWritten": 5}})
    assert t.query(api.nestedLimits.readAll, {}) == 2


# nestedLimits.test.ts: test("nested limits cannot raise above the global limit")
def test_nested_limits_cannot_raise_above_the_global_limit():
    t = ConvexEmulator(APP, limits=Limits(max_documents_read=5))
    _seed(t, 10)
    with pytest.raises(LimitExceededError, match=TOO_MANY_READ):
        t.query(api.nestedLimits.parentReadWithLimits, {"transactionLimits": {"documentsRead": 100000}})


# nestedLimits.test.ts: test("global limit still applies when the nested limit is looser")
def test_global_limit_still_applies_when_the_nested_limit_is_looser():
    t = ConvexEmulator(APP, limits=Limits(max_documents_read=5))
    _seed(t, 10)
    with pytest.raises(LimitExceededError, match=TOO_MANY_READ):
        t.query(api.nestedLimits.parentReadWithLimits, {"transactionLimits": {"documentsRead": 8}})


# nestedLimits.test.ts: test("nested limit does not leak to the parent transaction")
def test_nested_limit_does_not_leak_to_the_parent_transaction():
    t = ConvexEmulator(APP, limits=Limits(max_documents_read=100, max_bytes_read=16 * MiB))
    _seed(t, 10)
    count = t.query(api.nestedLimits.nestThenReadAll, {"nestedReadCount": 2, "transactionLimits": {"documentsRead": 3}})
    assert count == 10


# nestedLimits.test.ts: test("rolled-back nested writes are not counted against the transaction")
def test_rolled_back_nested_writes_are_not_counted_against_the_transaction():
    t = ConvexEmulator(APP)
    assert t.mutation(api.nestedLimits.insertRollbackThenReportMetrics, {"count": 5}) == 0
    assert t.query(api.nestedLimits.readAll, {}) == 0


# nestedLimits.test.ts: test("rolled-back nested writes do not consume the global write limit")
def test_rolled_back_nested_writes_do_not_consume_the_global_write_limit():
    t = ConvexEmulator(APP, limits=Limits(max_documents_written=5))
    t.mutation(api.nestedLimits.parentInsertAfterRollback, {"rolledBackCount": 4, "keptCount": 4})
    assert t.query(api.nestedLimits.readAll, {}) == 4


# nestedLimits.test.ts: test("nested transactionLimits is optional")
def test_nested_transaction_limits_is_optional():
    t = ConvexEmulator(APP)
    _seed(t, 10)
    assert t.query(api.nestedLimits.parentReadNoLimits, {}) == 10
