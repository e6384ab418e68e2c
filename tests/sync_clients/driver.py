"""Drives PyPI `convex`'s ConvexClient (WebSocket sync protocol) from JSON-line commands on stdin.

Prints JSON lines: {"sub", "value"|"error"} per update, {"seq", "value"|"error", "data"} per call.
Subscriptions are read with `async for` (a blocking `for` would hold the GIL inside the client).
"""

import asyncio
import json
import sys

from convex import ConvexClient, ConvexError


def out(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def follow(subscription, sub_id):
    while True:
        try:
            async for value in subscription:
                out({"sub": sub_id, "value": value})
            return
        except ConvexError as error:
            out({"sub": sub_id, "error": str(error), "data": error.data})
        except Exception as error:
            out({"sub": sub_id, "error": str(error), "data": None})


async def main():
    client = ConvexClient(sys.argv[1])
    loop = asyncio.get_running_loop()
    tasks = {}
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        op = command["op"]
        if op == "subscribe":
            subscription = client.subscribe(command["path"], command.get("args") or {})
            tasks[command["id"]] = (subscription, asyncio.create_task(follow(subscription, command["id"])))
        elif op == "unsubscribe":
            subscription, task = tasks.pop(command["id"])
            task.cancel()
            subscription.unsubscribe()
        elif op == "auth":
            if command["token"] is None:
                client.clear_auth()
            else:
                client.set_auth(command["token"])
        elif op == "exit":
            return
        else:
            call = getattr(client, op)
            try:
                value = await loop.run_in_executor(None, call, command["path"], command.get("args") or {})
                out({"seq": command["seq"], "value": value})
            except ConvexError as error:
                out({"seq": command["seq"], "error": str(error), "data": error.data})
            except Exception as error:
                out({"seq": command["seq"], "error": str(error), "data": None})


asyncio.run(main())
