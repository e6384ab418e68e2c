"""Port of convex-test's convex/storage.test.ts: `ctx.storage` store, get, delete, get_url and
generate_upload_url, and the `_storage` system table."""

from __future__ import annotations

import pytest

from convex_py import internal

from _ct import APP, match_object

pytestmark = pytest.mark.convex_app(str(APP))

BYTES = bytes([0b00001100, 0b00000000])


# storage.test.ts: test("action store blob")
def test_action_store_blob(convex):
    storage_id = convex.action(internal.storage.actionStoreBlob, {"bytes": BYTES})
    match_object(
        convex.query(internal.storage.listFiles),
        [{"_id": storage_id, "sha256": "v2DkNJys5rzg1VLo14NCjbZtDWSb2eQwo2J+LuFKyDk=", "size": 2}],
    )


# storage.test.ts: test("action get blob")
def test_action_get_blob(convex):
    storage_id = convex.action(internal.storage.actionStoreBlob, {"bytes": BYTES})
    assert convex.action(internal.storage.actionGetBlob, {"id": storage_id}) == BYTES


# storage.test.ts: test("action delete blob")
def test_action_delete_blob(convex):
    storage_id = convex.action(internal.storage.actionStoreBlob, {"bytes": BYTES})
    convex.action(internal.storage.actionDeleteBlob, {"id": storage_id})
    assert convex.action(internal.storage.actionGetBlob, {"id": storage_id}) is None


# storage.test.ts: test("mutation delete blob") (storing happens in an action: ctx.storage.store is an
# action's, as on Convex; convex-test also lets t.run store)
def test_mutation_delete_blob(convex):
    async def store(ctx):
        return await ctx.storage.store(BYTES)

    storage_id = convex.action(store)
    convex.mutation(internal.storage.mutationDeleteBlob, {"id": storage_id})
    assert convex.action(internal.storage.actionGetBlob, {"id": storage_id}) is None


# storage.test.ts: test("query get URL")
def test_query_get_url(convex):
    id = convex.action(internal.storage.actionStoreBlob, {"bytes": BYTES})
    url = convex.query(internal.storage.queryGetUrl, {"id": id})
    assert url.startswith("http")
    assert convex.fetch(url).content == BYTES
    convex.mutation(internal.storage.mutationDeleteBlob, {"id": id})
    assert convex.query(internal.storage.queryGetUrl, {"id": id}) is None


# storage.test.ts: test("mutation generate upload URL")
def test_mutation_generate_upload_url(convex):
    url = convex.mutation(internal.storage.mutationGenerateUploadUrl)
    assert url.startswith("http")
    response = convex.fetch(url, method="POST", body=BYTES, headers={"Content-Type": "application/octet-stream"})
    storage_id = response.json()["storageId"]
    assert convex.action(internal.storage.actionGetBlob, {"id": storage_id}) == BYTES
