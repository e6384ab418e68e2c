"""Tickets: a user's ticket for an event, details, valid tickets, status changes (tickets.ts)."""

from convex_py import mutation, query, v


@query(args={"eventId": v.id("events"), "userId": v.string()})
async def get_user_ticket_for_event(ctx, args):
    ticket = await (
        ctx.db.query("tickets")
        .with_index("by_user_event", lambda q: q.eq("userId", args["userId"]).eq("eventId", args["eventId"]))
        .first()
    )
    return ticket


@query(args={"ticketId": v.id("tickets")})
async def get_ticket_with_details(ctx, args):
    ticket = await ctx.db.get(args["ticketId"])
    if not ticket:
        return None

    event = await ctx.db.get(ticket["eventId"])

    return {**ticket, "event": event}


@query(args={"eventId": v.id("events")})
async def get_valid_tickets_for_event(ctx, args):
    return await (
        ctx.db.query("tickets")
        .with_index("by_event", lambda q: q.eq("eventId", args["eventId"]))
        .filter(lambda q: q.or_(q.eq(q.field("status"), "valid"), q.eq(q.field("status"), "used")))
        .collect()
    )


@mutation(args={
    "ticketId": v.id("tickets"),
    "status": v.union(v.literal("valid"), v.literal("used"), v.literal("refunded"), v.literal("cancelled")),
})
async def update_ticket_status(ctx, args):
    await ctx.db.patch(args["ticketId"], {"status": args["status"]})
