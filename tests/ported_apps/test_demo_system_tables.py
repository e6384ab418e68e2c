"""Convex's system tables demo (convex-demos/system-tables): scheduled sends listed from
`_scheduled_functions` and cancelled, uploaded files listed from `_storage` with their author."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from convex_py import api

pytestmark = [pytest.mark.convex_app(str(Path(__file__).parent / "demo_system_tables")),
              pytest.mark.convex_time("2030-01-01T00:00:00Z")]
T0 = 1893456000000


def test_scheduled_sends_are_listed_cancelled_and_sent(convex):
    keep = convex.mutation(api.messages.scheduleMessage, {"delay": 1.5, "body": "later", "author": "ada"})
    drop = convex.mutation(api.messages.scheduleMessage, {"delay": 60, "body": "never", "author": "bob"})
    sends = convex.query(api.admin.listScheduledSends)
    assert [(j["_id"], j["name"], j["args"], j["scheduledTime"] - T0, j["state"]) for j in sends] == [
        (keep, "messages:sendMessage", [{"body": "later", "author": "ada"}], 1500, {"kind": "pending"}),
        (drop, "messages:sendMessage", [{"body": "never", "author": "bob"}], 60_000, {"kind": "pending"}),
    ]
    convex.mutation(api.admin.cancelMessage, {"jobId": drop})
    convex.advance(minutes=2)
    assert [(m["body"], m["format"], m["_creationTime"] - T0) for m in convex.query(api.messages.list)] == [
        ("later", "text", 1500)]
    assert [(j["state"]["kind"], j.get("completedTime", 0) - T0) for j in convex.query(api.admin.listScheduledSends)] == [
        ("success", 1500), ("canceled", 0)]


def test_uploaded_files_are_listed_with_their_metadata(convex):
    upload_url = convex.mutation(api.messages.generateUploadUrl)
    data = b"GIF89a-tiny"
    storage_id = convex.fetch(upload_url, method="POST", headers={"Content-Type": "image/gif"},
                              body=data).json()["storageId"]
    convex.mutation(api.messages.sendImage, {"storageId": storage_id, "author": "ada"})
    [file] = convex.query(api.admin.listFiles)
    assert file == {"_id": storage_id, "_creationTime": T0, "contentType": "image/gif",
                    "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(), "size": len(data),
                    "author": "ada"}
    [message] = convex.query(api.messages.list)
    assert message["url"] == convex.query(api.admin.getFileUrl, {"id": storage_id})
    assert convex.fetch(message["url"]).content == data
