"""A short demo: the order-flow app living through a week on the virtual clock.

Run from the repository root: `python -m emulator.demo` (or give another app folder).
"""

from __future__ import annotations

import sys
import time

from convex_py import api

from ._emulator import ConvexEmulator
from .timeline import format_time, format_timeline


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    app = args[0] if args else "fixtures/orders"
    started = time.perf_counter()
    t = ConvexEmulator(app, start_time="2030-01-01T00:00:00Z")
    print(f"{format_time(t.now)}  client    mutation  orders:create_order  (3 orders)")
    order_ids = [t.mutation(api.orders.create_order, {"items": [f"book {i}"]}) for i in range(3)]
    t.advance(days=7)
    print(format_timeline(t.timeline(), t.now))
    statuses = [t.query(api.orders.get, {"orderId": order_id})["status"] for order_id in order_ids]
    elapsed = (time.perf_counter() - started) * 1000
    print(f"orders after a week: {statuses}; a virtual week took {elapsed:.1f} ms of real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
