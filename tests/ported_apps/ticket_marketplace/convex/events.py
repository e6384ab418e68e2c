"""Events: create, list, availability, joining the waiting list, purchases (events.ts)."""

import asyncio
import math
import time

from convex_py import UNSET, ConvexError, components, internal, mutation, query, v
from convex_py.components.rate_limiter import MINUTE, RateLimiter

from .constants import DURATIONS, TICKET_STATUS, WAITING_LIST_STATUS
from .waiting_list import process_queue

# Initialize rate limiter
rate_limiter = RateLimiter(components.rate_limiter, {
    "queueJoin": {
        "kind": "fixed window",
        "rate": 3,  # 3 joins allowed
        "period": 30 * MINUTE,  # in 30 minutes
    },
})


@query(args={})
async def get(ctx, args):
    return await ctx.db.query("events").filter(lambda q: q.eq(q.field("is_cancelled"), UNSET)).collect()


@query(args={"eventId": v.id("events")})
async def get_by_id(ctx, args):
    return await ctx.db.get(args["eventId"])


@mutation(args={
    "name": v.string(),
    "description": v.string(),
    "location": v.string(),
    "eventDate": v.number(),  # Store as timestamp
    "price": v.number(),
    "totalTickets": v.number(),
    "userId": v.string(),
})
async def create(ctx, args):
    event_id = await ctx.db.insert("events", {
        "name": args["name"],
        "description": args["description"],
        "location": args["location"],
        "eventDate": args["eventDate"],
        "price": args["price"],
        "totalTickets": args["totalTickets"],
        "userId": args["userId"],
    })
    return event_id


# Helper function to check ticket availability for an event
@query(args={"eventId": v.id("events")})
async def check_availability(ctx, args):
    event_id = args["eventId"]
    event = await ctx.db.get(event_id)
    if not event:
        raise Exception("Event not found")

    # Count total purchased tickets
    tickets = await ctx.db.query("tickets").with_index("by_event", lambda q: q.eq("eventId", event_id)).collect()
    purchased_count = len([
        t for t in tickets if t["status"] == TICKET_STATUS["VALID"] or t["status"] == TICKET_STATUS["USED"]
    ])

    # Count current valid offers
    now = time.time() * 1000
    entries = await (
        ctx.db.query("waitingList")
        .with_index("by_event_status", lambda q: q.eq("eventId", event_id).eq("status", WAITING_LIST_STATUS["OFFERED"]))
        .collect()
    )
    active_offers = len([e for e in entries if e.get("offerExpiresAt", 0) > now])

    available_spots = event["totalTickets"] - (purchased_count + active_offers)

    return {
        "available": available_spots > 0,
        "availableSpots": available_spots,
        "totalTickets": event["totalTickets"],
        "purchasedCount": purchased_count,
        "activeOffers": active_offers,
    }


# Join waiting list for an event
@mutation(args={"eventId": v.id("events"), "userId": v.string()})
async def join_waiting_list(ctx, args):
    event_id, user_id = args["eventId"], args["userId"]
    # Rate limit check
    status = await rate_limiter.limit(ctx, "queueJoin", {"key": user_id})
    if not status["ok"]:
        raise ConvexError(
            f"You've joined the waiting list too many times. Please wait "
            f"{math.ceil(status['retryAfter'] / (60 * 1000))} minutes before trying again."
        )

    # First check if user already has an active entry in waiting list for this event
    # Active means any status except EXPIRED
    existing_entry = await (
        ctx.db.query("waitingList")
        .with_index("by_user_event", lambda q: q.eq("userId", user_id).eq("eventId", event_id))
        .filter(lambda q: q.neq(q.field("status"), WAITING_LIST_STATUS["EXPIRED"]))
        .first()
    )

    # Don't allow duplicate entries
    if existing_entry:
        raise Exception("Already in waiting list for this event")

    # Verify the event exists
    event = await ctx.db.get(event_id)
    if not event:
        raise Exception("Event not found")

    # Check if there are any available tickets right now
    available = (await check_availability(ctx, {"eventId": event_id}))["available"]

    now = time.time() * 1000

    if available:
        # If tickets are available, create an offer entry
        waiting_list_id = await ctx.db.insert("waitingList", {
            "eventId": event_id,
            "userId": user_id,
            "status": WAITING_LIST_STATUS["OFFERED"],  # Mark as offered
            "offerExpiresAt": now + DURATIONS["TICKET_OFFER"],  # Set expiration time
        })

        # Schedule a job to expire this offer after the offer duration
        await ctx.scheduler.run_after(
            DURATIONS["TICKET_OFFER"],
            internal.waiting_list.expire_offer,
            {"waitingListId": waiting_list_id, "eventId": event_id},
        )
    else:
        # If no tickets available, add to waiting list
        await ctx.db.insert("waitingList", {
            "eventId": event_id,
            "userId": user_id,
            "status": WAITING_LIST_STATUS["WAITING"],  # Mark as waiting
        })

    # Return appropriate status message
    return {
        "success": True,
        "status": WAITING_LIST_STATUS["OFFERED"] if available else WAITING_LIST_STATUS["WAITING"],
        "message": "Ticket offered - you have 15 minutes to purchase" if available
        else "Added to waiting list - you'll be notified when a ticket becomes available",
    }


# Purchase ticket
@mutation(args={
    "eventId": v.id("events"),
    "userId": v.string(),
    "waitingListId": v.id("waitingList"),
    "paymentInfo": v.object({"paymentIntentId": v.string(), "amount": v.number()}),
})
async def purchase_ticket(ctx, args):
    event_id, user_id, waiting_list_id = args["eventId"], args["userId"], args["waitingListId"]
    payment_info = args["paymentInfo"]
    print("Starting purchaseTicket handler", {"eventId": event_id, "userId": user_id, "waitingListId": waiting_list_id})

    # Verify waiting list entry exists and is valid
    waiting_list_entry = await ctx.db.get(waiting_list_id)
    print("Waiting list entry:", waiting_list_entry)

    if not waiting_list_entry:
        raise Exception("Waiting list entry not found")

    if waiting_list_entry["status"] != WAITING_LIST_STATUS["OFFERED"]:
        raise Exception("Invalid waiting list status - ticket offer may have expired")

    if waiting_list_entry["userId"] != user_id:
        raise Exception("Waiting list entry does not belong to this user")

    # Verify event exists and is active
    event = await ctx.db.get(event_id)

    if not event:
        raise Exception("Event not found")

    if event.get("is_cancelled"):
        raise Exception("Event is no longer active")

    try:
        # Create ticket with payment info
        await ctx.db.insert("tickets", {
            "eventId": event_id,
            "userId": user_id,
            "purchasedAt": time.time() * 1000,
            "status": TICKET_STATUS["VALID"],
            "paymentIntentId": payment_info["paymentIntentId"],
            "amount": payment_info["amount"],
        })

        await ctx.db.patch(waiting_list_id, {"status": WAITING_LIST_STATUS["PURCHASED"]})

        # Process queue for next person
        await process_queue(ctx, {"eventId": event_id})
    except Exception as error:
        raise Exception(f"Failed to complete ticket purchase: {error}")


# Get user's tickets with event information
@query(args={"userId": v.string()})
async def get_user_tickets(ctx, args):
    tickets = await ctx.db.query("tickets").with_index("by_user", lambda q: q.eq("userId", args["userId"])).collect()

    async def with_event(ticket):
        event = await ctx.db.get(ticket["eventId"])
        return {**ticket, "event": event}

    return await asyncio.gather(*(with_event(ticket) for ticket in tickets))


# Get user's waiting list entries with event information
@query(args={"userId": v.string()})
async def get_user_waiting_list(ctx, args):
    entries = await ctx.db.query("waitingList").with_index("by_user", lambda q: q.eq("userId", args["userId"])).collect()

    async def with_event(entry):
        event = await ctx.db.get(entry["eventId"])
        return {**entry, "event": event}

    return await asyncio.gather(*(with_event(entry) for entry in entries))


@query(args={"eventId": v.id("events")})
async def get_event_availability(ctx, args):
    event_id = args["eventId"]
    event = await ctx.db.get(event_id)
    if not event:
        raise Exception("Event not found")

    # Count total purchased tickets
    tickets = await ctx.db.query("tickets").with_index("by_event", lambda q: q.eq("eventId", event_id)).collect()
    purchased_count = len([
        t for t in tickets if t["status"] == TICKET_STATUS["VALID"] or t["status"] == TICKET_STATUS["USED"]
    ])

    # Count current valid offers
    now = time.time() * 1000
    entries = await (
        ctx.db.query("waitingList")
        .with_index("by_event_status", lambda q: q.eq("eventId", event_id).eq("status", WAITING_LIST_STATUS["OFFERED"]))
        .collect()
    )
    active_offers = len([e for e in entries if e.get("offerExpiresAt", 0) > now])

    total_reserved = purchased_count + active_offers

    return {
        "isSoldOut": total_reserved >= event["totalTickets"],
        "totalTickets": event["totalTickets"],
        "purchasedCount": purchased_count,
        "activeOffers": active_offers,
        "remainingTickets": max(0, event["totalTickets"] - total_reserved),
    }


@query(args={"searchTerm": v.string()})
async def search(ctx, args):
    events = await ctx.db.query("events").filter(lambda q: q.eq(q.field("is_cancelled"), UNSET)).collect()

    search_term_lower = args["searchTerm"].lower()
    return [
        event for event in events
        if search_term_lower in event["name"].lower()
        or search_term_lower in event["description"].lower()
        or search_term_lower in event["location"].lower()
    ]


@query(args={"userId": v.string()})
async def get_seller_events(ctx, args):
    events = await ctx.db.query("events").filter(lambda q: q.eq(q.field("userId"), args["userId"])).collect()

    # For each event, get ticket sales data
    async def with_metrics(event):
        tickets = await ctx.db.query("tickets").with_index("by_event", lambda q: q.eq("eventId", event["_id"])).collect()

        valid_tickets = [t for t in tickets if t["status"] == "valid" or t["status"] == "used"]
        refunded_tickets = [t for t in tickets if t["status"] == "refunded"]
        cancelled_tickets = [t for t in tickets if t["status"] == "cancelled"]

        metrics = {
            "soldTickets": len(valid_tickets),
            "refundedTickets": len(refunded_tickets),
            "cancelledTickets": len(cancelled_tickets),
            "revenue": len(valid_tickets) * event["price"],
        }
        return {**event, "metrics": metrics}

    return await asyncio.gather(*(with_metrics(event) for event in events))


@mutation(args={
    "eventId": v.id("events"),
    "name": v.string(),
    "description": v.string(),
    "location": v.string(),
    "eventDate": v.number(),
    "price": v.number(),
    "totalTickets": v.number(),
})
async def update_event(ctx, args):
    event_id = args["eventId"]
    updates = {key: value for key, value in args.items() if key != "eventId"}

    # Get current event to check tickets sold
    event = await ctx.db.get(event_id)
    if not event:
        raise Exception("Event not found")

    sold_tickets = await (
        ctx.db.query("tickets")
        .with_index("by_event", lambda q: q.eq("eventId", event_id))
        .filter(lambda q: q.or_(q.eq(q.field("status"), "valid"), q.eq(q.field("status"), "used")))
        .collect()
    )

    # Ensure new total tickets is not less than sold tickets
    if updates["totalTickets"] < len(sold_tickets):
        raise Exception(
            f"Cannot reduce total tickets below {len(sold_tickets)} (number of tickets already sold)"
        )

    await ctx.db.patch(event_id, updates)
    return event_id


@mutation(args={"eventId": v.id("events")})
async def cancel_event(ctx, args):
    event_id = args["eventId"]
    event = await ctx.db.get(event_id)
    if not event:
        raise Exception("Event not found")

    # Get all valid tickets for this event
    tickets = await (
        ctx.db.query("tickets")
        .with_index("by_event", lambda q: q.eq("eventId", event_id))
        .filter(lambda q: q.or_(q.eq(q.field("status"), "valid"), q.eq(q.field("status"), "used")))
        .collect()
    )

    if len(tickets) > 0:
        raise Exception("Cannot cancel event with active tickets. Please refund all tickets first.")

    # Mark event as cancelled
    await ctx.db.patch(event_id, {"is_cancelled": True})

    # Delete any waiting list entries
    waiting_list_entries = await (
        ctx.db.query("waitingList").with_index("by_event_status", lambda q: q.eq("eventId", event_id)).collect()
    )

    for entry in waiting_list_entries:
        await ctx.db.delete(entry["_id"])

    return {"success": True}
