"""A component's file storage (fixtures/inbox's mailbox): its files are its own `_storage` rows,
served and uploaded at the deployment's URLs, as Convex serves components' files."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import api, components
from emulator import ConvexEmulator

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
APP = Path(__file__).resolve().parent.parent / "fixtures" / "inbox"


@pytest.fixture
def t() -> ConvexEmulator:
    return ConvexEmulator(APP, start_time=T0)


def test_a_file_a_component_stores_is_served_at_the_deployments_url(t: ConvexEmulator) -> None:
    t.mutation(api.inbox.post, {"text": "hello", "deliverAfter": 0})
    assert t.finish_all_scheduled_functions() == 1  # the delivery, an action run in the mailbox
    [message] = t.query(api.inbox.messages)
    assert (message["text"], message["delivered"]) == ("hello", True)
    assert message["url"].startswith("http://127.0.0.1:3210/api/storage/")
    response = t.fetch(message["url"])
    assert (response.status_code, response.content, response.headers["content-type"]) == (200, b"HELLO", "text/plain")
    assert t.run(lambda ctx: ctx.db.system.query("_storage").collect()) == []  # not the app's file


def test_an_upload_url_from_a_component_stores_into_its_storage(t: ConvexEmulator) -> None:
    message_id = t.mutation(api.inbox.post, {"text": "with attachment", "deliverAfter": 60_000})
    url = t.mutation(api.inbox.upload_url)
    assert "~mailbox." in url  # the token names the component it was issued for
    response = t.fetch(url, method="POST", body=b"attached", headers={"content-type": "application/pdf"})
    assert response.status_code == 200
    storage_id = response.json()["storageId"]
    t.mutation(api.inbox.attach, {"id": message_id, "storageId": storage_id})
    [message] = t.query(api.inbox.messages)
    served = t.fetch(message["url"])
    assert (served.content, served.headers["content-type"]) == (b"attached", "application/pdf")
    assert t.run(lambda ctx: ctx.db.system.get(storage_id)) is None  # the app's `_storage` has no such row


def test_an_upload_token_is_good_only_for_the_component_it_names(t: ConvexEmulator) -> None:
    url = t.mutation(api.inbox.upload_url)
    for forged in (url.replace("~mailbox.", "."), url.replace("~mailbox.", "~other.")):
        response = t.fetch(forged, method="POST", body=b"x")
        assert (response.status_code, response.json()["code"]) == (401, "StorageTokenInvalid")
    app_url = t.run(lambda ctx: ctx.storage.generate_upload_url())
    assert "~" not in app_url
    response = t.fetch(app_url, method="POST", body=b"for the app")
    assert response.status_code == 200
    assert t.run(lambda ctx: len(ctx.db.system.query("_storage").collect())) == 1
    assert t.query(components.mailbox.messages.list) == []
