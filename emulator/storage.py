"""File storage: `ctx.storage`, the `_storage` system table, and the bytes behind its rows.

A file is a `_storage` row (`sha256` in base64, `size`, `contentType`) plus its
bytes, kept here by the row's id. Rows are written like other system rows, so a
mutation's delete commits or rolls back with it; the bytes go when it commits.
URLs name a file by a uuid of its own, as Convex's do; an upload URL carries a
signed token that is good for an hour of the deployment's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import uuid as uuid_module
from typing import TYPE_CHECKING, Any

from convex_py._http import Blob
from convex_py._ready import Ready
from convex_py._values import Id, as_id, decode_id
from convex_py.errors import InvalidIdError, StorageError, StorageNotFoundError

from ._aliases import with_camel_case_aliases

if TYPE_CHECKING:
    from .store import Store

STORAGE = "_storage"
UPLOAD_TOKEN_VALIDITY_MS = 3600 * 1000  # Convex: a store-file authorization is valid for an hour
DEFAULT_API_URL = "http://127.0.0.1:3210"  # where Convex's local backend serves its API and files


def sha256_base64(data: bytes) -> str:
    """A file's `sha256` as `_storage` rows and the `Digest` header give it: standard base64."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class UploadRefused(Exception):
    """An upload or download Convex refuses: answered with `status` and a JSON `{code, message}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class FileStorage:
    """The files of one deployment: bytes by `_storage` id, their uuids, and upload tokens."""

    def __init__(self, store: "Store", clock: Any, lock: Any, *, api_url: str = DEFAULT_API_URL,
                 secret: bytes = b"convex-py") -> None:
        self.store = store
        self.clock = clock
        self.lock = lock  # the runtime's lock: an action's store/delete is its own small transaction
        self.api_url = api_url
        self.secret = secret  # signs upload tokens and derives uuids; the dev server draws a random one
        self.data: dict[str, bytes] = {}
        self.uuids: dict[str, str] = {}
        self.ids_by_uuid: dict[str, str] = {}
        self._nonces = itertools.count(1)
        # Ids whose bytes changed since the last save, when something persists them (the dev server's --db).
        self.changed: set[str] | None = None
        # Components' own storages by component path (emulator.components): the deployment's URLs
        # serve their files too. Empty for an app without components.
        self.linked: dict[str, FileStorage] = {}

    component_path = ""  # the component whose files these are ("": the app's)

    def holder_of(self, file_uuid: str) -> "FileStorage":
        """The storage holding the file with this uuid: this one, or a component's."""
        if not self.linked or file_uuid in self.ids_by_uuid:
            return self
        for files in self.linked.values():
            if file_uuid in files.ids_by_uuid:
                return files
        return self

    def holder_of_id(self, storage_id: str) -> "FileStorage | None":
        """The storage whose `_storage` has this id (this one or a component's), or None."""
        if self.row(storage_id) is not None:
            return self
        for files in self.linked.values():
            if files.row(storage_id) is not None:
                return files
        return None

    def for_token(self, token: str | None) -> "FileStorage":
        """The storage an upload token was issued by: a component's token names it after a `~`."""
        if self.linked and token:
            nonce = token.split(".")[1] if token.count(".") >= 2 else ""
            return self.linked.get(nonce.partition("~")[2], self)
        return self

    # --- ids and rows ---------------------------------------------------------------------------

    def check_id(self, storage_id: Any, method: str) -> Id:
        """`storage_id` as an Id of `_storage` (a file's uuid is accepted too, as Convex does)."""
        found = as_id(storage_id, STORAGE)
        if found is not None:
            return found
        if isinstance(storage_id, str):
            by_uuid = self.ids_by_uuid.get(storage_id)
            if by_uuid is not None:
                return Id(by_uuid, STORAGE)
            if decode_id(storage_id) is not None:
                raise InvalidIdError(
                    f"ctx.storage.{method}: Invalid storage ID. Storage ID cannot be an ID on any table other "
                    "than '_storage'."
                )
        raise InvalidIdError(
            f"ctx.storage.{method}: Invalid storage ID: \"{storage_id}\". Storage ID should be an Id of "
            "'_storage' table, or a UUID string."
        )

    def row(self, storage_id: str) -> dict[str, Any] | None:
        return self.store.tables[STORAGE].docs.get(storage_id)

    def url_of(self, storage_id: str) -> str:
        return f"{self.api_url}/api/storage/{self.uuids[storage_id]}"

    def upload_url(self) -> str:
        """A URL that takes a POST of a file's bytes for the next hour."""
        issued = int(self.clock.now)
        payload = f"{issued}.{next(self._nonces)}"
        signature = hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{self.api_url}/api/storage/upload?token={payload}.{signature}"

    def check_token(self, token: str | None) -> None:
        """Raise `UploadRefused` (401) unless `token` is one of ours and under an hour old."""
        issued_text, _, rest = (token or "").partition(".")
        nonce, _, signature = rest.partition(".")
        expected = hmac.new(self.secret, f"{issued_text}.{nonce}".encode(), hashlib.sha256).hexdigest()[:32]
        if (not issued_text.isdigit() or not hmac.compare_digest(signature, expected)
                or nonce.partition("~")[2] != self.component_path):  # issued for another component
            raise UploadRefused(401, "StorageTokenInvalid", "Couldn't decode the StoreFileAuthorization token")
        if int(issued_text) + UPLOAD_TOKEN_VALIDITY_MS <= self.clock.now:
            raise UploadRefused(401, "StorageTokenExpired", "Store File Authorization expired")

    # --- changes ----------------------------------------------------------------------------------

    def _uuid_for(self, storage_id: str) -> str:
        digest = hashlib.sha256(self.secret + b"/" + storage_id.encode()).digest()
        return str(uuid_module.UUID(bytes=digest[:16], version=4))

    def _keep(self, storage_id: str, data: bytes, file_uuid: str | None = None) -> None:
        file_uuid = file_uuid or self._uuid_for(storage_id)
        self.data[storage_id] = data
        self.uuids[storage_id] = file_uuid
        self.ids_by_uuid[file_uuid] = storage_id
        self._changed(storage_id)

    def _drop(self, storage_id: str) -> None:
        if self.data.pop(storage_id, None) is not None:
            self.ids_by_uuid.pop(self.uuids.pop(storage_id), None)
            self._changed(storage_id)

    def _changed(self, storage_id: str) -> None:
        if self.changed is not None:
            self.changed.add(storage_id)

    def add(self, data: Any, content_type: Any = None, expected_sha256: Any = None, *, what: str = "store") -> Id:
        """Keep a new file and commit its `_storage` row at once (an action's store, an upload)."""
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not isinstance(data, bytes):
            hint = ": encode text first, e.g. ctx.storage.store(text.encode())" if isinstance(data, str) else ""
            raise StorageError(f"ctx.storage.{what} expects the file's bytes, got {type(data).__name__}{hint}")
        if content_type is not None and not isinstance(content_type, str):
            raise StorageError(f"ctx.storage.{what}: content_type must be a str such as \"image/png\", got {content_type!r}")
        digest = sha256_base64(data)
        if expected_sha256 is not None and expected_sha256 != digest:
            raise StorageError(f"Sha256 mismatch. Expected: {expected_sha256} Actual: {digest}")
        body: dict[str, Any] = {"sha256": digest, "size": float(len(data))}
        if content_type:
            body["contentType"] = content_type
        with self.lock:
            storage_id = self.store.insert_system(STORAGE, body)
            self._keep(storage_id, data)
        return storage_id

    def remove_now(self, storage_id: Id) -> None:
        """An action's delete: the row and the bytes go at once."""
        with self.lock:
            if self.row(storage_id) is None:
                raise StorageNotFoundError(f"storage id {storage_id} not found")
            self.store.delete_system(STORAGE, storage_id)
            self._drop(storage_id)

    def remove_in(self, tx: Any, storage_id: Id) -> None:
        """A mutation's delete: the row goes in its transaction, the bytes when it commits."""
        store = self.store
        if self.row(storage_id) is None:
            raise StorageNotFoundError(f"storage id {storage_id} not found")
        tx.write(store.tables[STORAGE].sizes.get(storage_id, 100))
        store.delete_system(STORAGE, storage_id)
        store.after_commit(lambda: self._drop(storage_id))

    def read(self, tx: Any, storage_id: Id) -> dict[str, Any] | None:
        """The row of a file: read in `tx` (counted against its limits), or at once from an action."""
        if tx is not None:
            return self.store.get(self.store.tables[STORAGE], storage_id, tx)
        with self.lock:
            row = self.row(storage_id)
            return None if row is None else dict(row)

    def bytes_of(self, storage_id: str) -> bytes | None:
        with self.lock:
            return self.data.get(storage_id) if self.row(storage_id) is not None else None

    def restore(self, storage_id: str, file_uuid: str, data: bytes) -> None:
        """Bring back a saved file (the dev server's --db) without marking it changed."""
        self.data[storage_id] = data
        self.uuids[storage_id] = file_uuid
        self.ids_by_uuid[file_uuid] = storage_id

    # --- ctx.storage ----------------------------------------------------------------------------

    def facade(self, tx: Any, writes: bool, is_async: bool) -> "StorageReader":
        """`ctx.storage` for a query (`tx`, not `writes`), a mutation (`tx`, `writes`) or an action (no `tx`)."""
        if tx is None:
            return StorageActionWriter(self, None, is_async)
        if writes:
            return StorageWriter(self, tx, is_async)
        return StorageReader(self, tx, is_async)


_ONLY_IN = {
    "store": "ctx.storage.store is only available in actions; from a mutation, hand a client "
             "ctx.storage.generate_upload_url() to POST the file to",
    "get": "ctx.storage.get is only available in actions; read a file's URL with ctx.storage.get_url, "
           "or its metadata with ctx.db.system.get(id)",
    "generate_upload_url": "ctx.storage.generate_upload_url is not available in a query: queries are read-only; "
                           "call it from a mutation or an action",
    "delete": "ctx.storage.delete is not available in a query: queries are read-only; "
              "delete files from a mutation or an action",
}
_CAMEL = {"generateUploadUrl": "generate_upload_url"}


@with_camel_case_aliases
class StorageReader:
    """`ctx.storage` in a query: `get_url` (and the older `get_metadata`)."""

    __slots__ = ("_files", "_tx", "_async")

    def __init__(self, files: FileStorage, tx: Any, is_async: bool) -> None:
        self._files = files
        self._tx = tx
        self._async = is_async

    def _ret(self, value: Any) -> Any:
        return Ready(value) if self._async else value

    def _row(self, storage_id: Any, method: str) -> tuple[Id, dict[str, Any] | None]:
        tx = self._tx
        if tx is not None:
            tx.check_open()
        checked = self._files.check_id(storage_id, method)
        return checked, self._files.read(tx, checked)

    def get_url(self, id: Any) -> Any:
        """A URL that serves the file with a GET, or None if there is no such file (any more)."""
        checked, row = self._row(id, "get_url")
        return self._ret(None if row is None else self._files.url_of(checked))

    def get_metadata(self, storage_id: Any) -> Any:
        """`{storageId, sha256, size, contentType}` or None (Convex deprecates it for ctx.db.system.get)."""
        checked, row = self._row(storage_id, "get_metadata")
        if row is None:
            return self._ret(None)
        return self._ret({"storageId": checked, "sha256": row["sha256"], "size": row["size"],
                          "contentType": row.get("contentType")})

    def __getattr__(self, name: str) -> Any:
        message = _ONLY_IN.get(_CAMEL.get(name, name))
        if message is None:
            raise AttributeError(f"ctx.storage has no method {name!r} (get_url, get_metadata, generate_upload_url, "
                                 "delete; store and get in actions).")
        raise AttributeError(message + ".")


@with_camel_case_aliases
class StorageWriter(StorageReader):
    """`ctx.storage` in a mutation: also `generate_upload_url` and `delete` (with the transaction)."""

    __slots__ = ()

    def generate_upload_url(self) -> Any:
        """A short-lived URL (an hour) that takes a POST of a file's bytes and answers `{"storageId": id}`."""
        if self._tx is not None:
            self._tx.check_open()
        return self._ret(self._files.upload_url())

    def delete(self, id: Any) -> Any:
        """Delete a file: its `_storage` row and its bytes."""
        tx = self._tx
        checked = self._files.check_id(id, "delete")
        if tx is not None:
            tx.check_open()
            self._files.remove_in(tx, checked)
        else:
            self._files.remove_now(checked)
        return self._ret(None)


@with_camel_case_aliases
class StorageActionWriter(StorageWriter):
    """`ctx.storage` in an action: also `store` and `get`, each at once."""

    __slots__ = ()

    def store(self, data: Any, content_type: str | None = None, *, sha256: str | None = None) -> Any:
        """Store bytes as a new file; returns its `Id("_storage")`. `sha256` (base64) checks the bytes.
        A `Blob` (`await request.blob()`) gives its own type unless `content_type` is passed."""
        if content_type is None and isinstance(data, Blob) and data.type:
            content_type = data.type
        return self._ret(self._files.add(data, content_type, sha256))

    def get(self, id: Any) -> Any:
        """The file as a `Blob` (bytes typed with its `contentType`), or None if there is no such file (any more)."""
        files = self._files
        checked = files.check_id(id, "get")
        data = files.bytes_of(checked)
        if data is not None:
            data = Blob(data, (files.row(checked) or {}).get("contentType") or "")
        return self._ret(data)


__all__ = ["FileStorage", "StorageActionWriter", "StorageReader", "StorageWriter", "UploadRefused",
           "sha256_base64"]
