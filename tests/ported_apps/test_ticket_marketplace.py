"""A ticket marketplace with a waiting list (the Next.js + Convex "ticket-marketplace-saas" app),
ported line by line: offers expire after 30 minutes (a scheduled job per offer, and a cron sweep
every minute as a fail-safe), a purchase or a release offers the ticket to the next in line, and
joining is rate limited (3 per 30 minutes per user). Times are virtual, relative to T0."""

from __future__ import annotations

from pathlib import Path

import pytest

from convex_py import ConvexError, api

APP = str(Path(__file__).parent / "ticket_marketplace")
T0 = 1893456000000  # 2030-01-01T00:00:00Z
MINUTE = 60_000
OFFER = 30 * MINUTE

pytestmark = [pytest.mark.convex_app(APP), pytest.mark.convex_time("2030-01-01T00:00:00Z"),
              pytest.mark.filterwarnings("ignore::convex_py.errors.DirectCallWarning")]


def make_event(convex, tickets: int) -> str:
    return convex.mutation(api.events.create, {
        "name": "Jazz Night", "description": "Live jazz by the river", "location": "Paris",
        "eventDate": T0 + 7 * 24 * 60 * MINUTE, "price": 25, "totalTickets": tickets, "userId": "seller",
    })


def entries(convex, user: str) -> list[tuple[str, float | None]]:
    return [(e["status"], e.get("offerExpiresAt")) for e in convex.query(api.events.get_user_waiting_list,
                                                                         {"userId": user})]


def test_offers_go_to_the_first_in_line_and_expire_after_thirty_minutes(convex):
    event_id = make_event(convex, tickets=2)
    assert convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "ada"}) == {
        "success": True, "status": "offered", "message": "Ticket offered - you have 15 minutes to purchase"}
    convex.advance(MINUTE)
    convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "bob"})
    convex.advance(MINUTE)
    assert convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "cy"}) == {
        "success": True, "status": "waiting",
        "message": "Added to waiting list - you'll be notified when a ticket becomes available"}
    assert convex.query(api.events.get_event_availability, {"eventId": event_id}) == {
        "isSoldOut": True, "totalTickets": 2.0, "purchasedCount": 0, "activeOffers": 2, "remainingTickets": 0}
    position = convex.query(api.waiting_list.get_queue_position, {"eventId": event_id, "userId": "cy"})
    assert (position["status"], position["position"]) == ("waiting", 3)

    # ada buys at T0+10min: nothing frees up for cy
    [ada_entry] = convex.query(api.events.get_user_waiting_list, {"userId": "ada"})
    convex.advance_to(T0 + 10 * MINUTE)
    convex.mutation(api.events.purchase_ticket, {
        "eventId": event_id, "userId": "ada", "waitingListId": ada_entry["_id"],
        "paymentInfo": {"paymentIntentId": "pi_1", "amount": 25}})
    assert entries(convex, "ada") == [("purchased", T0 + OFFER)]
    assert entries(convex, "cy") == [("waiting", None)]

    # bob's offer ends at T0+31min (his expireOffer job): cy gets the ticket for 30 minutes
    convex.advance_to(T0 + MINUTE + OFFER - 1)
    assert entries(convex, "bob") == [("offered", T0 + MINUTE + OFFER)]
    convex.advance(1)
    assert entries(convex, "bob") == [("expired", T0 + MINUTE + OFFER)]
    assert entries(convex, "cy") == [("offered", T0 + MINUTE + 2 * OFFER)]
    position = convex.query(api.waiting_list.get_queue_position, {"eventId": event_id, "userId": "cy"})
    assert (position["status"], position["position"]) == ("offered", 1)

    # nobody buys: cy's offer expires too, and the seats are free again
    convex.advance_to(T0 + MINUTE + 2 * OFFER)
    assert entries(convex, "cy") == [("expired", T0 + MINUTE + 2 * OFFER)]
    assert convex.query(api.events.check_availability, {"eventId": event_id}) == {
        "available": True, "availableSpots": 1.0, "totalTickets": 2.0, "purchasedCount": 1, "activeOffers": 0}
    jobs = [(j["name"], j["scheduledTime"] - T0, j["state"]["kind"]) for j in convex.scheduled_functions()]
    assert jobs == [
        ("waiting_list:expire_offer", OFFER, "success"),               # ada's (already purchased: no-op)
        ("waiting_list:expire_offer", MINUTE + OFFER, "success"),      # bob's
        ("waiting_list:expire_offer", MINUTE + 2 * OFFER, "success"),  # cy's, scheduled by bob's
    ]
    [ticket] = convex.query(api.events.get_user_tickets, {"userId": "ada"})
    assert (ticket["purchasedAt"], ticket["status"], ticket["amount"], ticket["event"]["name"]) == (
        T0 + 10 * MINUTE, "valid", 25.0, "Jazz Night")


def test_releasing_an_offer_passes_it_on_at_once(convex):
    event_id = make_event(convex, tickets=1)
    convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "ada"})
    convex.advance(5 * MINUTE)
    convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "bob"})
    [ada_entry] = convex.query(api.events.get_user_waiting_list, {"userId": "ada"})
    convex.mutation(api.waiting_list.release_ticket, {"eventId": event_id, "waitingListId": ada_entry["_id"]})
    assert entries(convex, "ada") == [("expired", T0 + OFFER)]
    assert entries(convex, "bob") == [("offered", T0 + 5 * MINUTE + OFFER)]
    with pytest.raises(Exception, match="No valid ticket offer found"):
        convex.mutation(api.waiting_list.release_ticket, {"eventId": event_id, "waitingListId": ada_entry["_id"]})
    with pytest.raises(Exception, match="Already in waiting list for this event"):
        convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "bob"})


def test_the_cron_sweep_expires_an_offer_whose_job_was_lost(convex):
    event_id = make_event(convex, tickets=1)
    convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "ada"})
    convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "bob"})
    [job] = convex.scheduled_functions("pending")
    convex.run(lambda ctx: ctx.scheduler.cancel(job["_id"]))  # "due to server issues"
    convex.advance_to(T0 + OFFER)
    assert entries(convex, "ada") == [("offered", T0 + OFFER)]  # the sweep wants offerExpiresAt < now
    convex.advance(MINUTE)
    assert entries(convex, "ada") == [("expired", T0 + OFFER)]
    assert entries(convex, "bob") == [("offered", T0 + OFFER + MINUTE + OFFER)]
    runs = [(r["name"], r["time"] - T0) for r in convex.cron_runs()]
    assert runs[:2] == [("cleanup-expired-offers", 0), ("cleanup-expired-offers", MINUTE)]
    assert len(runs) == 32 and runs[-1] == ("cleanup-expired-offers", OFFER + MINUTE)


def test_joining_is_limited_to_three_times_in_thirty_minutes(convex):
    event_id = make_event(convex, tickets=1)
    for minute in range(3):
        convex.advance_to(T0 + minute * MINUTE)
        [entry] = [e for e in convex.query(api.events.get_user_waiting_list, {"userId": "ada"})
                   if e["status"] != "expired"] or [None]
        if entry:
            convex.mutation(api.waiting_list.release_ticket, {"eventId": event_id, "waitingListId": entry["_id"]})
        convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "ada"})
    [entry] = [e for e in convex.query(api.events.get_user_waiting_list, {"userId": "ada"}) if e["status"] == "offered"]
    convex.mutation(api.waiting_list.release_ticket, {"eventId": event_id, "waitingListId": entry["_id"]})
    convex.advance_to(T0 + 10 * MINUTE)
    with pytest.raises(ConvexError) as info:
        convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "ada"})
    assert info.value.data == (
        "You've joined the waiting list too many times. Please wait 20 minutes before trying again.")
    convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "bob"})  # another key
    convex.advance_to(T0 + OFFER)
    convex.mutation(api.waiting_list.release_ticket, {
        "eventId": event_id,
        "waitingListId": convex.query(api.events.get_user_waiting_list, {"userId": "bob"})[0]["_id"]})
    assert convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "ada"})["status"] == "offered"


def test_a_seller_sees_sales_and_cannot_cancel_an_event_with_tickets(convex):
    event_id = make_event(convex, tickets=3)
    for user in ("ada", "bob"):
        convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": user})
        [entry] = convex.query(api.events.get_user_waiting_list, {"userId": user})
        convex.mutation(api.events.purchase_ticket, {
            "eventId": event_id, "userId": user, "waitingListId": entry["_id"],
            "paymentInfo": {"paymentIntentId": f"pi_{user}", "amount": 25}})
    [bob_ticket] = convex.query(api.events.get_user_tickets, {"userId": "bob"})
    convex.mutation(api.tickets.update_ticket_status, {"ticketId": bob_ticket["_id"], "status": "refunded"})
    [event] = convex.query(api.events.get_seller_events, {"userId": "seller"})
    assert event["metrics"] == {"soldTickets": 1, "refundedTickets": 1, "cancelledTickets": 0, "revenue": 25.0}
    with pytest.raises(Exception, match="Cannot reduce total tickets below 1 "):
        convex.mutation(api.events.update_event, {
            "eventId": event_id, "name": "Jazz Night", "description": "d", "location": "Paris",
            "eventDate": T0, "price": 30, "totalTickets": 0})
    with pytest.raises(Exception, match="Cannot cancel event with active tickets"):
        convex.mutation(api.events.cancel_event, {"eventId": event_id})
    assert [e["name"] for e in convex.query(api.events.search, {"searchTerm": "RIVER"})] == ["Jazz Night"]

    [ada_ticket] = convex.query(api.events.get_user_tickets, {"userId": "ada"})
    convex.mutation(api.tickets.update_ticket_status, {"ticketId": ada_ticket["_id"], "status": "cancelled"})
    assert convex.mutation(api.events.cancel_event, {"eventId": event_id}) == {"success": True}
    assert convex.query(api.events.get) == []
    assert convex.query(api.events.get_user_waiting_list, {"userId": "ada"}) == []
    with pytest.raises(Exception, match="Event is no longer active"):
        convex.mutation(api.events.join_waiting_list, {"eventId": event_id, "userId": "cy"})
        [entry] = convex.query(api.events.get_user_waiting_list, {"userId": "cy"})
        convex.mutation(api.events.purchase_ticket, {
            "eventId": event_id, "userId": "cy", "waitingListId": entry["_id"],
            "paymentInfo": {"paymentIntentId": "pi_cy", "amount": 25}})


def test_an_event_image_is_uploaded_served_and_deleted(convex):
    event_id = make_event(convex, tickets=1)
    upload_url = convex.mutation(api.storage.generate_upload_url)
    storage_id = convex.fetch(upload_url, method="POST", headers={"Content-Type": "image/png"},
                              body=b"\x89PNG-poster").json()["storageId"]
    convex.mutation(api.storage.update_event_image, {"eventId": event_id, "storageId": storage_id})
    assert convex.query(api.events.get_by_id, {"eventId": event_id})["imageStorageId"] == storage_id
    url = convex.query(api.storage.get_url, {"storageId": storage_id})
    image = convex.fetch(url)
    assert (image.status_code, image.content, image.headers["content-type"]) == (200, b"\x89PNG-poster", "image/png")
    convex.mutation(api.storage.update_event_image, {"eventId": event_id, "storageId": None})
    assert "imageStorageId" not in convex.query(api.events.get_by_id, {"eventId": event_id})
    convex.mutation(api.storage.delete_image, {"storageId": storage_id})
    assert convex.query(api.storage.get_url, {"storageId": storage_id}) is None


def test_users_and_their_stripe_connect_ids(convex):
    user_id = convex.mutation(api.users.update_user, {"userId": "u1", "name": "Ada", "email": "ada@example.com"})
    assert convex.query(api.users.get_users_stripe_connect_id, {"userId": "u1"}) is None
    assert convex.mutation(api.users.update_user, {"userId": "u1", "name": "Ada L", "email": "a@example.com"}) == user_id
    convex.mutation(api.users.update_or_create_user_stripe_connect_id, {"userId": "u1", "stripeConnectId": "acct_1"})
    assert convex.query(api.users.get_users_stripe_connect_id, {"userId": "u1"}) == "acct_1"
    user = convex.query(api.users.get_user_by_id, {"userId": "u1"})
    assert {k: user[k] for k in ("name", "email", "stripeConnectId")} == {
        "name": "Ada L", "email": "a@example.com", "stripeConnectId": "acct_1"}
    with pytest.raises(Exception, match="User not found"):
        convex.mutation(api.users.update_or_create_user_stripe_connect_id, {"userId": "u2", "stripeConnectId": "x"})
