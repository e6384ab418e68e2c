"""File storage: ctx.storage per function kind, `_storage` rows, URLs served by t.fetch."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from convex_py import ConvexError, action, internal_mutation, mutation, query
from convex_py.errors import InvalidIdError, LimitExceededError, StorageError, StorageNotFoundError
from emulator import ConvexEmulator
from emulator.limits import Limits

START = 1_893_456_000_000  # 2030-01-01T00:00:00Z
HOUR = 3600 * 1000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
URL = re.compile(r"^http://127\.0\.0\.1:3210/api/storage/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def b64sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@action
async def store(ctx, args):
    data = base64.b64decode(args["b64"])
    return await ctx.storage.store(data, args.get("type"))


@action
def read(ctx, args):
    return ctx.storage.get(args["id"])


@action
async def url_from_action(ctx, args):
    return await ctx.storage.getUrl(args["id"])


@action
def delete_from_action(ctx, args):
    ctx.storage.delete(args["id"])


@query
def url(ctx, args):
    return ctx.storage.get_url(args["id"])


@query
def row(ctx, args):
    return ctx.db.system.get(args["id"])


@query
async def metadata(ctx, args):
    return await ctx.storage.get_metadata(args["id"])


@query
def files(ctx, args):
    return [{k: d[k] for k in d if not k.startswith("_")} for d in ctx.db.system.query("_storage").collect()]


@mutation
async def upload_url(ctx, args):
    return await ctx.storage.generateUploadUrl()


@mutation
def delete(ctx, args):
    ctx.storage.delete(args["id"])
    if args.get("then_fail"):
        raise ConvexError("changed my mind")
    return ctx.storage.get_url(args["id"])


@internal_mutation
def delete_twice(ctx, args):
    ctx.storage.delete(args["id"])
    ctx.storage.delete(args["id"])


MODULES = {"files": {"store": store, "read": read, "url_from_action": url_from_action,
                     "delete_from_action": delete_from_action, "url": url, "row": row, "metadata": metadata,
                     "files": files, "upload_url": upload_url, "delete": delete, "delete_twice": delete_twice}}


@pytest.fixture
def t():
    emulator = ConvexEmulator(modules=MODULES, start_time=START)
    yield emulator
    emulator.close()


def stored(t, data: bytes = PNG, content_type: str | None = "image/png") -> str:
    args = {"b64": base64.b64encode(data).decode()}
    if content_type is not None:
        args["type"] = content_type
    return t.action("files:store", args)


def test_an_action_stores_bytes_as_a_storage_row(t):
    file_id = stored(t)
    assert file_id.table == "_storage"
    doc = t.query("files:row", {"id": file_id})
    assert doc == {"_id": file_id, "_creationTime": float(START), "sha256": b64sha(PNG), "size": 264.0,
                   "contentType": "image/png"}
    assert t.action("files:read", {"id": file_id}) == PNG
    assert t.query("files:metadata", {"id": file_id}) == {
        "storageId": file_id, "sha256": b64sha(PNG), "size": 264.0, "contentType": "image/png"}
    # Without a content type the row has none.
    plain = stored(t, b"hello", None)
    assert t.query("files:files") == [
        {"sha256": b64sha(PNG), "size": 264.0, "contentType": "image/png"},
        {"sha256": b64sha(b"hello"), "size": 5.0},
    ]
    assert t.query("files:metadata", {"id": plain})["contentType"] is None


def test_get_url_serves_the_bytes_through_fetch(t):
    file_id = stored(t)
    url = t.query("files:url", {"id": file_id})
    assert URL.match(url)
    assert t.action("files:url_from_action", {"id": file_id}) == url
    response = t.fetch(url)
    assert (response.status_code, response.content) == (200, PNG)
    assert response.headers["content-type"] == "image/png"
    assert response.headers["digest"] == f"sha-256={b64sha(PNG)}"
    assert response.headers["cache-control"] == "private, max-age=2592000"
    untyped = t.fetch(t.query("files:url", {"id": stored(t, b"x", None)}))
    assert (untyped.content, "content-type" in untyped.headers) == (b"x", False)


def test_a_mutation_delete_commits_or_rolls_back_with_it(t):
    file_id = stored(t)
    url = t.query("files:url", {"id": file_id})
    with pytest.raises(ConvexError):
        t.mutation("files:delete", {"id": file_id, "then_fail": True})
    assert t.action("files:read", {"id": file_id}) == PNG
    assert t.fetch(url).content == PNG
    assert t.mutation("files:delete", {"id": file_id}) is None  # get_url of a file deleted in this mutation
    assert t.query("files:url", {"id": file_id}) is None
    assert t.query("files:row", {"id": file_id}) is None
    assert t.action("files:read", {"id": file_id}) is None
    gone = t.fetch(url)
    assert (gone.status_code, gone.json()) == (404, {"code": "FileNotFound", "message": f"File {url.rsplit('/', 1)[1]} not found"})
    assert t.query("files:files") == []


def test_deleting_a_missing_file_is_an_error_and_undoes_nothing_else(t):
    file_id = stored(t)
    with pytest.raises(StorageNotFoundError) as info:
        t.mutation("files:delete_twice", {"id": file_id})
    assert str(info.value) == f"storage id {file_id} not found"
    assert t.action("files:read", {"id": file_id}) == PNG  # the first delete rolled back with the mutation
    t.action("files:delete_from_action", {"id": file_id})
    assert t.action("files:read", {"id": file_id}) is None
    with pytest.raises(StorageNotFoundError):
        t.action("files:delete_from_action", {"id": file_id})


def test_storage_ids_are_checked(t):
    stored(t)
    user_doc = t.run(lambda ctx: ctx.db.insert("notes", {"text": "hi"}))
    with pytest.raises(InvalidIdError) as info:
        t.query("files:url", {"id": user_doc})
    assert str(info.value) == (
        "ctx.storage.get_url: Invalid storage ID. Storage ID cannot be an ID on any table other than '_storage'.")
    with pytest.raises(InvalidIdError) as info:
        t.action("files:read", {"id": "nope"})
    assert str(info.value) == (
        "ctx.storage.get: Invalid storage ID: \"nope\". Storage ID should be an Id of '_storage' table, or a UUID string.")


def test_a_file_uuid_works_as_its_storage_id(t):
    file_id = stored(t)
    file_uuid = t.query("files:url", {"id": file_id}).rsplit("/", 1)[1]
    assert t.action("files:read", {"id": file_uuid}) == PNG


def test_each_function_kind_gets_its_part_of_ctx_storage(t):
    def in_query(method, *args):
        return t.query(lambda ctx: getattr(ctx.storage, method)(*args))

    def in_mutation(method, *args):
        return t.run(lambda ctx: getattr(ctx.storage, method)(*args))

    file_id = stored(t)
    with pytest.raises(AttributeError, match=r"^ctx.storage.store is only available in actions; from a mutation, hand"):
        in_mutation("store", b"x")
    with pytest.raises(AttributeError, match=r"^ctx.storage.get is only available in actions; read a file's URL"):
        in_mutation("get", file_id)
    with pytest.raises(AttributeError, match=r"^ctx.storage.delete is not available in a query: queries are read-only"):
        in_query("delete", file_id)
    with pytest.raises(AttributeError, match=r"^ctx.storage.generate_upload_url is not available in a query"):
        in_query("generateUploadUrl")
    with pytest.raises(AttributeError, match=r"^ctx.storage.store is only available in actions"):
        in_query("store", b"x")
    assert URL.match(in_query("getUrl", file_id))
    assert in_mutation("get_metadata", file_id)["size"] == 264.0


def test_store_wants_bytes_and_checks_a_given_sha256(t):
    with pytest.raises(StorageError, match=r"^ctx.storage.store expects the file's bytes, got str: encode text first"):
        t.action(lambda ctx: ctx.storage.store("text"))
    with pytest.raises(StorageError) as info:
        t.action(lambda ctx: ctx.storage.store(b"abc", sha256=b64sha(b"abd")))
    assert str(info.value) == f"Sha256 mismatch. Expected: {b64sha(b'abd')} Actual: {b64sha(b'abc')}"
    file_id = t.action(lambda ctx: ctx.storage.store(bytearray(b"abc"), sha256=b64sha(b"abc")))
    assert t.query("files:row", {"id": file_id})["size"] == 3.0


def test_an_upload_url_takes_a_post_of_raw_bytes(t):
    upload = t.mutation("files:upload_url")
    assert re.match(r"^http://127\.0\.0\.1:3210/api/storage/upload\?token=", upload)
    response = t.fetch(upload, method="POST", body=PNG, headers={"Content-Type": "image/png"})
    assert response.status_code == 200
    [storage_id] = response.json().values()
    assert list(response.json()) == ["storageId"]
    assert t.query("files:row", {"id": storage_id})["contentType"] == "image/png"
    assert t.fetch(t.query("files:url", {"id": storage_id})).content == PNG
    # The digest header is checked when given.
    bad = t.fetch(upload, method="POST", body=b"abc", headers={"Digest": f"sha-256={b64sha(b'abd')}"})
    assert (bad.status_code, bad.json()["code"]) == (400, "Sha256Mismatch")
    good = t.fetch(upload, method="POST", body=b"abc", headers={"Digest": f"sha-256={b64sha(b'abc')}"})
    assert good.status_code == 200
    assert len(t.query("files:files")) == 2


def test_an_upload_url_expires_after_an_hour_and_tokens_are_checked(t):
    upload = t.mutation("files:upload_url")
    t.advance(ms=HOUR - 1)
    assert t.fetch(upload, method="POST", body=b"1").status_code == 200
    t.advance(ms=1)
    expired = t.fetch(upload, method="POST", body=b"2")
    assert (expired.status_code, expired.json()) == (
        401, {"code": "StorageTokenExpired", "message": "Store File Authorization expired"})
    forged = t.fetch(upload.rsplit(".", 1)[0] + ".0123456789abcdef0123456789abcdef", method="POST", body=b"3")
    assert (forged.status_code, forged.json()) == (
        401, {"code": "StorageTokenInvalid", "message": "Couldn't decode the StoreFileAuthorization token"})
    assert t.fetch(upload.split("?")[0], method="POST", body=b"4").status_code == 401
    assert len(t.query("files:files")) == 1


def test_storage_routes_refuse_bad_paths_and_methods(t):
    bad = t.fetch("http://127.0.0.1:3210/api/storage/not-a-uuid")
    assert bad.status_code == 400
    assert bad.json()["code"] == "InvalidStoragePath"
    assert bad.json()["message"].startswith('Invalid storage path: "not-a-uuid". Please use `storage.getUrl(')
    missing = t.fetch("http://127.0.0.1:3210/api/storage/00000000-0000-4000-8000-000000000000")
    assert missing.json() == {"code": "FileNotFound", "message": "File 00000000-0000-4000-8000-000000000000 not found"}
    assert t.fetch("http://127.0.0.1:3210/api/storage/upload").status_code == 405


def test_a_mutation_delete_counts_as_a_write():
    limited = ConvexEmulator(modules=MODULES, start_time=START, limits=Limits(max_documents_written=2))
    ids = [limited.action("files:store", {"b64": base64.b64encode(bytes([i])).decode()}) for i in range(3)]

    def delete_all(ctx):
        for file_id in ids:
            ctx.storage.delete(file_id)

    with pytest.raises(LimitExceededError, match=r"Too many writes in a single function execution \(limit: 2\)"):
        limited.run(delete_all)
    assert len(limited.query("files:files")) == 3


def test_a_download_takes_one_byte_range(t):
    url = t.query("files:url", {"id": stored(t)})
    cases = {"bytes=0-7": (0, 7), "bytes=-4": (260, 263), "bytes=260-": (260, 263), "bytes=250-999": (250, 263)}
    for header, (start, end) in cases.items():
        part = t.fetch(url, headers={"Range": header})
        assert (part.status_code, part.content) == (206, PNG[start:end + 1])
        assert part.headers["content-range"] == f"bytes {start}-{end}/264"
        assert "digest" not in part.headers
    for header in ("bytes=0-1,4-5", "bytes=300-400", "items=0-1", "bytes=5-2"):
        refused = t.fetch(url, headers={"Range": header})
        assert (refused.status_code, refused.headers["content-range"]) == (416, "bytes */264")
