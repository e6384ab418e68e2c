"""Port of convex-test's convex/bandwidth.test.ts: per-transaction read and write limits, and
`ctx.meta.get_transaction_metrics()`.

convex-test disables limits unless `transactionLimits` is given and words its errors "Read too much
data", "Scanned too many documents", ...; Convex (and so the emulator) always enforces its limits,
with the backend's words ("Too many documents read in a single function execution (limit: N)"),
which is what these assert. Custom limits are `ConvexEmulator(limits=Limits(...))`."""

from __future__ import annotations

import pytest

from convex_py import get_document_size
from convex_py.errors import LimitExceededError
from emulator import ConvexEmulator, Limits

from _ct import APP

MiB = 1 << 20


def _seed(t, bodies):
    async def body(ctx):
        for text in bodies:
            await ctx.db.insert("messages", {"author": "sarah", "body": text})

    t.run(body)


async def _collect(ctx):
    return await ctx.db.query("messages").collect()


# bandwidth.test.ts: test("default: limits disabled, no throws") (here: Convex's default limits, not reached)
def test_default_limits_are_not_reached():
    t = ConvexEmulator(APP)
    _seed(t, ["x" * 1000] * 100)
    assert len(t.query(_collect)) == 100


# bandwidth.test.ts: test("read byte limit exceeded throws")
def test_read_byte_limit_exceeded_throws():
    t = ConvexEmulator(APP, limits=Limits(max_bytes_read=500, max_documents_read=100000, max_index_ranges=100))
    _seed(t, ["x" * 200] * 10)
    with pytest.raises(LimitExceededError, match=r"Too many bytes read in a single function execution \(limit: 500 bytes\)"):
        t.query(_collect)


# bandwidth.test.ts: test("read document limit exceeded throws")
def test_read_document_limit_exceeded_throws():
    t = ConvexEmulator(APP, limits=Limits(max_bytes_read=16 * MiB, max_documents_read=5, max_index_ranges=100))
    _seed(t, [f"msg{i}" for i in range(10)])
    with pytest.raises(LimitExceededError, match=r"Too many documents read in a single function execution \(limit: 5\)"):
        t.query(_collect)


def _insert_ten(text):
    async def body(ctx):
        for i in range(10):
            await ctx.db.insert("messages", {"author": "sarah", "body": text(i)})

    return body


# bandwidth.test.ts: test("write byte limit exceeded throws")
def test_write_byte_limit_exceeded_throws():
    t = ConvexEmulator(APP, limits=Limits(max_bytes_written=500, max_documents_written=100000))
    with pytest.raises(LimitExceededError, match=r"Too many bytes written in a single function execution \(limit: 500 bytes\)"):
        t.mutation(_insert_ten(lambda i: "x" * 200))
    assert t.query(_collect) == []


# bandwidth.test.ts: test("write document limit exceeded throws")
def test_write_document_limit_exceeded_throws():
    t = ConvexEmulator(APP, limits=Limits(max_bytes_written=16 * MiB, max_documents_written=3))
    with pytest.raises(LimitExceededError, match=r"Too many writes in a single function execution \(limit: 3\)"):
        t.mutation(_insert_ten(lambda i: f"msg{i}"))
    assert t.query(_collect) == []


# bandwidth.test.ts: test("index range limit exceeded throws")
def test_index_range_limit_exceeded_throws():
    t = ConvexEmulator(APP, limits=Limits(max_bytes_read=16 * MiB, max_documents_read=100000, max_index_ranges=2))
    _seed(t, ["hello"])

    async def body(ctx):
        docs = await ctx.db.query("messages").collect()  # one index range
        await ctx.db.get(docs[0]["_id"])  # each get is one more
        await ctx.db.get(docs[0]["_id"])

    with pytest.raises(LimitExceededError, match=r"Too many reads in a single function execution \(limit: 2\)"):
        t.query(body)


# bandwidth.test.ts: test("limits accumulate within a transaction")
def test_limits_accumulate_within_a_transaction():
    t = ConvexEmulator(APP, limits=Limits(max_bytes_read=16 * MiB, max_documents_read=5, max_index_ranges=2))
    _seed(t, [f"msg{i}" for i in range(10)])
    with pytest.raises(LimitExceededError, match=r"Too many documents read in a single function execution \(limit: 5\)"):
        t.mutation(_collect)


# bandwidth.test.ts: test("getTransactionMetrics returns bandwidth stats")
def test_get_transaction_metrics_returns_bandwidth_stats():
    t = ConvexEmulator(APP)

    async def seed(ctx):
        await ctx.db.insert("messages", {"author": "sarah", "body": "hello"})
        await ctx.db.insert("messages", {"author": "michal", "body": "world"})

    t.run(seed)

    async def body(ctx):
        docs = await ctx.db.query("messages").collect()
        total_bytes = sum(get_document_size(doc) for doc in docs)
        return await ctx.meta.get_transaction_metrics(), total_bytes

    consumption, total_bytes = t.query(body)
    assert total_bytes == 89 + 90  # {} 2 + author 7 + (7 | 8) + body 5 + 7 + _id 38 + _creationTime 23
    assert consumption["documentsRead"]["used"] == 2
    assert consumption["bytesRead"]["used"] == total_bytes
    assert consumption["databaseQueries"]["used"] == 1
    assert consumption["documentsRead"]["remaining"] == 32000 - 2
    assert consumption["bytesRead"]["remaining"] == (16 << 20) - total_bytes
    assert consumption["bytesWritten"]["used"] == 0
    assert consumption["documentsWritten"]["used"] == 0
    assert consumption["functionsScheduled"]["used"] == 0
    assert consumption["scheduledFunctionArgsBytes"]["used"] == 0


# bandwidth.test.ts: test("getTransactionMetrics tracks writes")
def test_get_transaction_metrics_tracks_writes():
    t = ConvexEmulator(APP)

    async def body(ctx):
        id = await ctx.db.insert("messages", {"author": "sarah", "body": "hello"})
        doc = await ctx.db.get(id)
        return await ctx.meta.get_transaction_metrics(), get_document_size(doc)

    consumption, doc_bytes = t.mutation(body)
    assert consumption["documentsWritten"]["used"] == 1
    assert consumption["bytesWritten"]["used"] == doc_bytes == 89
