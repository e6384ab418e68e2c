"""The waiting list: queue positions, time-limited offers, expiry (waitingList.ts)."""

import asyncio
import time

from convex_py import internal, internal_mutation, mutation, query, v

from .constants import DURATIONS, TICKET_STATUS, WAITING_LIST_STATUS


def group_by_event(offers):
    """Helper function to group waiting list entries by event ID.
    Used for batch processing expired offers by event."""
    acc = {}
    for offer in offers:
        event_id = offer["eventId"]
        if event_id not in acc:
            acc[event_id] = []
        acc[event_id].append(offer)
    return acc


@query(args={"eventId": v.id("events"), "userId": v.string()})
async def get_queue_position(ctx, args):
    """A user's current position in the waiting list for an event, or None."""
    event_id, user_id = args["eventId"], args["userId"]
    # Get entry for this specific user and event combination
    entry = await (
        ctx.db.query("waitingList")
        .with_index("by_user_event", lambda q: q.eq("userId", user_id).eq("eventId", event_id))
        .filter(lambda q: q.neq(q.field("status"), WAITING_LIST_STATUS["EXPIRED"]))
        .first()
    )

    if not entry:
        return None

    # Get total number of people ahead in line
    people_ahead = len(await (
        ctx.db.query("waitingList")
        .with_index("by_event_status", lambda q: q.eq("eventId", event_id))
        .filter(lambda q: q.and_(
            q.lt(q.field("_creationTime"), entry["_creationTime"]),
            q.or_(
                q.eq(q.field("status"), WAITING_LIST_STATUS["WAITING"]),
                q.eq(q.field("status"), WAITING_LIST_STATUS["OFFERED"]),
            ),
        ))
        .collect()
    ))

    return {**entry, "position": people_ahead + 1}


@mutation(args={"eventId": v.id("events")})
async def process_queue(ctx, args):
    """Offer tickets to the next eligible users, given purchased tickets and active offers."""
    event_id = args["eventId"]
    event = await ctx.db.get(event_id)
    if not event:
        raise Exception("Event not found")

    # Calculate available spots
    event = await ctx.db.query("events").filter(lambda q: q.eq(q.field("_id"), event_id)).first()
    if not event:
        raise Exception("Event not found")

    tickets = await ctx.db.query("tickets").with_index("by_event", lambda q: q.eq("eventId", event_id)).collect()
    purchased_count = len([
        t for t in tickets if t["status"] == TICKET_STATUS["VALID"] or t["status"] == TICKET_STATUS["USED"]
    ])

    now = time.time() * 1000
    entries = await (
        ctx.db.query("waitingList")
        .with_index("by_event_status", lambda q: q.eq("eventId", event_id).eq("status", WAITING_LIST_STATUS["OFFERED"]))
        .collect()
    )
    active_offers = len([e for e in entries if e.get("offerExpiresAt", 0) > now])

    available_spots = event["totalTickets"] - (purchased_count + active_offers)

    if available_spots <= 0:
        return

    # Get next users in line
    waiting_users = await (
        ctx.db.query("waitingList")
        .with_index("by_event_status", lambda q: q.eq("eventId", event_id).eq("status", WAITING_LIST_STATUS["WAITING"]))
        .order("asc")
        .take(available_spots)
    )

    # Create time-limited offers for selected users
    now = time.time() * 1000
    for user in waiting_users:
        # Update the waiting list entry to OFFERED status
        await ctx.db.patch(user["_id"], {
            "status": WAITING_LIST_STATUS["OFFERED"],
            "offerExpiresAt": now + DURATIONS["TICKET_OFFER"],
        })

        # Schedule expiration job for this offer
        await ctx.scheduler.run_after(
            DURATIONS["TICKET_OFFER"],
            internal.waiting_list.expire_offer,
            {"waitingListId": user["_id"], "eventId": event_id},
        )


@internal_mutation(args={"waitingListId": v.id("waitingList"), "eventId": v.id("events")})
async def expire_offer(ctx, args):
    """Expire a single offer and process the queue for the next person (a scheduled job)."""
    offer = await ctx.db.get(args["waitingListId"])
    if not offer or offer["status"] != WAITING_LIST_STATUS["OFFERED"]:
        return

    await ctx.db.patch(args["waitingListId"], {"status": WAITING_LIST_STATUS["EXPIRED"]})

    await process_queue(ctx, {"eventId": args["eventId"]})


@internal_mutation(args={})
async def cleanup_expired_offers(ctx, args):
    """Periodic fail-safe: expire offers whose time has passed, then process each event's queue."""
    now = time.time() * 1000
    # Find all expired but not yet cleaned up offers
    expired_offers = await (
        ctx.db.query("waitingList")
        .filter(lambda q: q.and_(
            q.eq(q.field("status"), WAITING_LIST_STATUS["OFFERED"]),
            q.lt(q.field("offerExpiresAt"), now),
        ))
        .collect()
    )

    # Group by event for batch processing
    grouped = group_by_event(expired_offers)

    # Process each event's expired offers and update queue
    for event_id, offers in grouped.items():
        await asyncio.gather(*(
            ctx.db.patch(offer["_id"], {"status": WAITING_LIST_STATUS["EXPIRED"]}) for offer in offers
        ))

        await process_queue(ctx, {"eventId": event_id})


@mutation(args={"eventId": v.id("events"), "waitingListId": v.id("waitingList")})
async def release_ticket(ctx, args):
    entry = await ctx.db.get(args["waitingListId"])
    if not entry or entry["status"] != WAITING_LIST_STATUS["OFFERED"]:
        raise Exception("No valid ticket offer found")

    # Mark the entry as expired
    await ctx.db.patch(args["waitingListId"], {"status": WAITING_LIST_STATUS["EXPIRED"]})

    # Process queue to offer ticket to next person
    await process_queue(ctx, {"eventId": args["eventId"]})
