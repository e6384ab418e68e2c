"""fixtures/webhooks: a signed payment webhook stores a receipt and schedules a thank-you."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest

from emulator import ConvexEmulator

APP = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
START = 1_893_456_000_000  # 2030-01-01T00:00:00Z
HOUR = 3600 * 1000
SECRET = b"whsec_test_secret"
RECEIPT = b"Receipt evt_1\nCustomer: cus_9\nAmount: 42.50 EUR\n"


def delivery(event_id: str = "evt_1", amount: float = 42.5) -> bytes:
    event = {"id": event_id, "type": "payment.succeeded",
             "data": {"customer": "cus_9", "amount": amount, "currency": "EUR"}}
    return json.dumps(event).encode()


def sign(body: bytes, secret: bytes = SECRET) -> dict[str, str]:
    return {"X-Signature": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json"}


pytestmark = [pytest.mark.convex_app("fixtures/webhooks"), pytest.mark.convex_time("2030-01-01T00:00:00Z")]


@pytest.fixture
def t(convex):
    """The plugin's emulator: it holds time.time() at the virtual time, which send_thank_you reads."""
    return convex


def payment(t: ConvexEmulator, event_id: str = "evt_1"):
    return t.query("payments:by_event", {"eventId": event_id})


def test_a_signed_delivery_records_the_payment_and_stores_its_receipt(t):
    body = delivery()
    response = t.fetch("/webhooks/payment", method="POST", body=body, headers=sign(body))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    paid = payment(t)
    assert answer == {"received": True, "paymentId": paid["_id"], "receiptId": paid["receiptId"]}
    assert {k: paid[k] for k in ("eventId", "customer", "amount", "currency")} == {
        "eventId": "evt_1", "customer": "cus_9", "amount": 42.5, "currency": "EUR"}
    row = t.query(lambda ctx: ctx.db.system.get(paid["receiptId"]))
    assert {k: row[k] for k in ("sha256", "size", "contentType")} == {
        "sha256": base64.b64encode(hashlib.sha256(RECEIPT).digest()).decode(),
        "size": 48.0,
        "contentType": "text/plain; charset=utf-8",
    }
    url = t.query("payments:receipt_url", {"eventId": "evt_1"})
    download = t.fetch(url)
    assert (download.status_code, download.content) == (200, RECEIPT)


def test_the_thank_you_runs_one_hour_after_the_delivery(t):
    t.advance(minutes=5)
    body = delivery()
    t.fetch("/webhooks/payment", method="POST", body=body, headers=sign(body))
    [job] = t.scheduled_functions()
    assert (job["name"], job["scheduledTime"], job["state"]) == (
        "payments:send_thank_you", START + 5 * 60_000 + HOUR, {"kind": "pending"})
    t.advance(minutes=59)
    assert "thankedAt" not in payment(t)
    t.advance(minutes=1)
    assert payment(t)["thankedAt"] == START + 5 * 60_000 + HOUR
    assert [(e["time"], e["source"], e["function"], e["outcome"]) for e in t.timeline()] == [
        (START + 5 * 60_000, "http", "POST /webhooks/payment", "success"),
        (START + 5 * 60_000 + HOUR, "scheduled", "payments:send_thank_you", "success"),
    ]


def test_a_bad_signature_is_refused_and_changes_nothing(t):
    body = delivery()
    response = t.fetch("/webhooks/payment", method="POST", body=body, headers=sign(body, b"someone else"))
    assert (response.status_code, response.text) == (401, "invalid signature")
    unsigned = t.fetch("/webhooks/payment", method="POST", body=body)
    assert unsigned.status_code == 401
    assert payment(t) is None
    assert t.query(lambda ctx: ctx.db.system.query("_storage").collect()) == []
    assert t.scheduled_functions() == []


def test_a_retried_delivery_is_handled_once(t):
    body = delivery()
    first = t.fetch("/webhooks/payment", method="POST", body=body, headers=sign(body))
    again = t.fetch("/webhooks/payment", method="POST", body=body, headers=sign(body))
    assert first.status_code == again.status_code == 200
    assert again.json() == {"received": True, "duplicate": True}
    assert len(t.query(lambda ctx: ctx.db.system.query("_storage").collect())) == 1
    assert len(t.scheduled_functions()) == 1


def test_a_malformed_event_is_a_400(t):
    body = b'{"id": "evt_2", "type": "payment.failed"}'
    response = t.fetch("/webhooks/payment", method="POST", body=body, headers=sign(body))
    assert (response.status_code, response.text) == (400, "malformed event")


def test_receipts_are_served_with_cors_and_their_preflight_answered(t):
    body = delivery()
    t.fetch("/webhooks/payment", method="POST", body=body, headers=sign(body))
    receipt = t.fetch("/receipts/evt_1", headers={"Origin": "https://shop.example"})
    assert (receipt.status_code, receipt.content) == (200, RECEIPT)
    assert receipt.headers["access-control-allow-origin"] == "*"
    preflight = t.fetch("/receipts/evt_1", method="OPTIONS")
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-methods"] == "GET, OPTIONS"
    assert preflight.content == b""
    missing = t.fetch("/receipts/evt_404")
    assert (missing.status_code, missing.text) == (404, "no such receipt")
    # POST has no route under /receipts/: Convex's 404.
    wrong_method = t.fetch("/receipts/evt_1", method="POST")
    assert (wrong_method.status_code, wrong_method.text) == (404, "No HttpAction routed for /receipts/evt_1")
