"""Durations and statuses of the ticket marketplace (constants.ts)."""

# Time constants in milliseconds
DURATIONS = {
    "TICKET_OFFER": 30 * 60 * 1000,  # 30 minutes (Minimum Stripe allows for checkout expiry)
}

# Status types for better type safety
WAITING_LIST_STATUS = {
    "WAITING": "waiting",
    "OFFERED": "offered",
    "PURCHASED": "purchased",
    "EXPIRED": "expired",
}

TICKET_STATUS = {
    "VALID": "valid",
    "USED": "used",
    "REFUNDED": "refunded",
    "CANCELLED": "cancelled",
}
