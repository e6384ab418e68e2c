"""The marketplace's tables (schema.ts)."""

from convex_py import define_schema, define_table, v

schema = define_schema({
    "events": define_table({
        "name": v.string(),
        "description": v.string(),
        "location": v.string(),
        "eventDate": v.number(),
        "price": v.number(),
        "totalTickets": v.number(),
        "userId": v.string(),
        "imageStorageId": v.optional(v.id("_storage")),
        "is_cancelled": v.optional(v.boolean()),
    }),
    "tickets": define_table({
        "eventId": v.id("events"),
        "userId": v.string(),
        "purchasedAt": v.number(),
        "status": v.union(
            v.literal("valid"),
            v.literal("used"),
            v.literal("refunded"),
            v.literal("cancelled"),
        ),
        "paymentIntentId": v.optional(v.string()),
        "amount": v.optional(v.number()),
    })
    .index("by_event", ["eventId"])
    .index("by_user", ["userId"])
    .index("by_user_event", ["userId", "eventId"])
    .index("by_payment_intent", ["paymentIntentId"]),

    "waitingList": define_table({
        "eventId": v.id("events"),
        "userId": v.string(),
        "status": v.union(
            v.literal("waiting"),
            v.literal("offered"),
            v.literal("purchased"),
            v.literal("expired"),
        ),
        "offerExpiresAt": v.optional(v.number()),
    })
    .index("by_event_status", ["eventId", "status"])
    .index("by_user_event", ["userId", "eventId"])
    .index("by_user", ["userId"]),

    "users": define_table({
        "name": v.string(),
        "email": v.string(),
        "userId": v.string(),
        "stripeConnectId": v.optional(v.string()),
    })
    .index("by_user_id", ["userId"])
    .index("by_email", ["email"]),
})
