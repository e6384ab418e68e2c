"""File bytes in the `--db` file: a `files` table beside the documents, written in the same
SQLite transaction as the `_storage` rows, so a restart serves every file it had (the app's and
its components', whose storage ids never repeat).
"""

from __future__ import annotations

import os
import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..storage import FileStorage

SCHEMA = "CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, uuid TEXT NOT NULL, data BLOB NOT NULL);"
SECRET_KEY = "storage_secret"  # signs upload URLs: kept, so a URL handed out before a restart still works


def attach(files: "FileStorage", saved_secret: str | None) -> bool:
    """Track changed files from now on; use the saved secret, or say the new one must be saved."""
    files.changed = set()
    if saved_secret is not None:
        files.secret = bytes.fromhex(saved_secret)
        return False
    files.secret = os.urandom(32)
    return True


def save(db: sqlite3.Connection, files: "FileStorage") -> list[str]:
    """Write the files changed since the last save (inside the caller's transaction); return their ids."""
    changed = list(files.changed or ())
    if files.changed:
        files.changed.clear()
    for storage_id in changed:
        holder = _holding(files, storage_id)
        data = None if holder is None else holder.data[storage_id]
        if data is None:
            db.execute("DELETE FROM files WHERE id = ?", (storage_id,))
        else:
            db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?)", (storage_id, holder.uuids[storage_id], data))
    return changed


def _holding(files: "FileStorage", storage_id: str) -> "FileStorage | None":
    """The storage keeping this file's bytes: the app's, or a component's (ids are deployment-wide)."""
    if storage_id in files.data:
        return files
    for linked in files.linked.values():
        if storage_id in linked.data:
            return linked
    return None


def load(db: sqlite3.Connection, files: "FileStorage") -> int:
    """Bring back the saved files whose `_storage` row exists; the others are deleted at the next save."""
    restored = 0
    for storage_id, file_uuid, data in db.execute("SELECT id, uuid, data FROM files"):
        holder = files.holder_of_id(storage_id)  # the app's `_storage` row, or a component's
        if holder is None:  # its row went in a commit saved before the bytes' removal
            assert files.changed is not None
            files.changed.add(storage_id)
            continue
        holder.restore(storage_id, file_uuid, bytes(data))
        restored += 1
    return restored


__all__ = ["SCHEMA", "SECRET_KEY", "attach", "load", "save"]
