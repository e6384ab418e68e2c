"""Convex's file storage over HTTP demo (convex-demos/file-storage-with-http): an image POSTed to an
HTTP action is stored and sent as a message; another route serves it back; CORS preflight."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import api

pytestmark = [pytest.mark.convex_app(str(Path(__file__).parent / "demo_file_storage_http")),
              pytest.mark.convex_env(CLIENT_ORIGIN="https://mywebsite.com")]

PNG = b"\x89PNG\r\n\x1a\n-a-cat"


def test_an_image_is_stored_sent_and_served_back(convex):
    sent = convex.fetch("/sendImage?author=ada", method="POST", headers={"Content-Type": "image/png"}, body=PNG)
    assert (sent.status_code, sent.headers["access-control-allow-origin"], sent.headers["vary"]) == (
        200, "https://mywebsite.com", "origin")
    [message] = convex.query(api.messages.list)
    assert (message["author"], message["format"]) == ("ada", "image")
    storage_id = message["body"]
    file = convex.run(lambda ctx: ctx.db.system.get(storage_id))
    assert (file["size"], file["contentType"]) == (len(PNG), "image/png")

    image = convex.fetch(f"/getImage?storageId={storage_id}")
    assert (image.status_code, image.content, image.headers["content-type"]) == (200, PNG, "image/png")


def test_without_an_author_the_file_is_stored_but_no_message_is_sent(convex):
    refused = convex.fetch("/sendImage", method="POST", headers={"Content-Type": "image/png"}, body=PNG)
    assert (refused.status_code, refused.text) == (400, "Author is required")
    assert convex.query(api.messages.list) == []
    [file] = convex.run(lambda ctx: ctx.db.system.query("_storage").collect())  # an action: no rollback
    assert file["size"] == len(PNG)


def test_a_missing_image_and_the_preflight(convex):
    storage_id = convex.action(lambda ctx: ctx.storage.store(b"x"))
    convex.action(lambda ctx: ctx.storage.delete(storage_id))
    missing = convex.fetch(f"/getImage?storageId={storage_id}")
    assert (missing.status_code, missing.text) == (404, "Image not found")

    preflight = convex.fetch("/sendImage", method="OPTIONS", headers={
        "Origin": "https://mywebsite.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 200
    assert {k: preflight.headers[k] for k in ("access-control-allow-origin", "access-control-allow-methods",
                                              "access-control-allow-headers", "access-control-max-age")} == {
        "access-control-allow-origin": "https://mywebsite.com", "access-control-allow-methods": "POST",
        "access-control-allow-headers": "Content-Type, Digest", "access-control-max-age": "86400"}
    bare = convex.fetch("/sendImage", method="OPTIONS")
    assert (bare.status_code, bare.content, "access-control-allow-origin" in bare.headers) == (200, b"", False)
