"""Components under `convex-py dev`: fixtures/inbox (its mailbox component schedules an action that
stores a file) served over HTTP to the PyPI `convex` client, then restarted on its --db file; and
fixtures/ticker's component crons across a restart."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

from convex.http_client import ConvexHttpClient

from convex_py import components
from emulator import ConvexEmulator
from emulator.server import DevServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
INBOX, TICKER = FIXTURES / "inbox", FIXTURES / "ticker"


def wait_for(check, timeout: float = 10.0):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(0.02)


def get(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers["content-type"]


def upload(url: str, data: bytes) -> str:
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["storageId"]


def test_an_app_using_a_component_served_then_restarted_on_its_db_file(tmp_path: Path) -> None:
    db = str(tmp_path / "state.sqlite")
    hour = 3_600_000.0
    first = DevServer(ConvexEmulator(INBOX), port=0, tick_seconds=0.01, db=db).start()
    try:
        client = ConvexHttpClient(first.url)
        client.mutation("inbox:post", {"text": "hello", "deliverAfter": 0.0})
        # The delivery is an action of the component, run on the server's loop inside the component.
        delivered = wait_for(lambda: [m for m in client.query("inbox:messages") if m["delivered"]])
        assert [(m["text"], m["delivered"]) for m in delivered] == [("hello", True)]
        assert get(delivered[0]["url"]) == (b"HELLO", "text/plain")
        later_id = client.mutation("inbox:post", {"text": "later", "deliverAfter": hour})
        storage_id = upload(client.mutation("inbox:upload_url"), b"attached")
        client.mutation("inbox:attach", {"id": later_id, "storageId": storage_id})
        app_job_id = client.mutation("inbox:post_later", {"text": "after the restart", "delay": hour})
    finally:
        first.stop()
    before = first.emulator
    component_jobs = [(j["name"], j["state"]["kind"], j["scheduledTime"]) for j in before.scheduled_functions(component="mailbox")]
    app_jobs = [(j["_id"], j["name"], j["state"]["kind"], j["scheduledTime"]) for j in before.scheduled_functions()]
    assert [(name, state) for name, state, _due in component_jobs] == [("messages:deliver", "success"),
                                                                       ("messages:deliver", "pending")]
    assert [(job_id, name, state) for job_id, name, state, _due in app_jobs] == [(app_job_id, "messages:post", "pending")]

    second = DevServer(ConvexEmulator(INBOX), port=0, tick_seconds=0.01, db=db).start()
    try:
        # 2 messages, 2 files, 2 component jobs and the app's job into the component: all back.
        assert second.restored == 7
        t = second.emulator
        assert [(j["name"], j["state"]["kind"], j["scheduledTime"]) for j in t.scheduled_functions(component="mailbox")] \
            == component_jobs
        assert [(j["_id"], j["name"], j["state"]["kind"], j["scheduledTime"]) for j in t.scheduled_functions()] == app_jobs
        client = ConvexHttpClient(second.url)
        messages = client.query("inbox:messages")
        assert [(m["text"], m["delivered"]) for m in messages] == [("hello", True), ("later", False)]
        assert [get(m["url"]) for m in messages] == [(b"HELLO", "text/plain"), (b"attached", "text/plain")]
        with second.lock:  # an hour on: the component's job, and the app's job into the component, run
            t.advance_to(max(due for _name, _state, due in component_jobs + [a[1:] for a in app_jobs]))

        def all_three_delivered() -> list | None:
            found = client.query("inbox:messages")
            return found if len(found) == 3 and all(m["delivered"] for m in found) else None

        messages = wait_for(all_three_delivered)
        assert [(m["text"], m["delivered"]) for m in messages] == [
            ("hello", True), ("later", True), ("after the restart", True)]
        assert [get(m["url"])[0] for m in messages] == [b"HELLO", b"LATER", b"AFTER THE RESTART"]
        assert [(j["name"], j["state"]["kind"]) for j in t.scheduled_functions()] == [("messages:post", "success")]
    finally:
        second.stop()

    third = DevServer(ConvexEmulator(INBOX), port=0, db=db)
    try:
        tables = sorted({table for table, in third.persistence.db.execute("SELECT tbl FROM documents")})
        assert tables == ["_scheduled_functions", "mailbox:_scheduled_functions", "mailbox:_storage", "mailbox:messages"]
        assert list(third.persistence.db.execute("SELECT id, runs_in FROM job_homes")) == [(app_job_id, "mailbox")]
    finally:
        third.stop()


def test_component_crons_across_a_restart(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "state.sqlite")
    start = time.time() * 1000 - 150_000
    first = DevServer(ConvexEmulator(TICKER, start_time=start), port=0, db=db)
    first.emulator.advance_to(start)  # the deploy-time run of each instance's "every minute"
    first.emulator.mutation(components.ticker.ticks.start_heartbeat, {"ms": 30_000})
    first.stop()  # saves to the --db file
    # Down for 150 s: "every minute" missed start + 60 s and start + 120 s.
    second = DevServer(ConvexEmulator(TICKER), port=0, db=db)
    try:
        t = second.emulator
        t.advance(0)
        now = t.now
        for component in ("ticker", "ticker2"):
            assert [r["time"] for r in t.cron_runs("every minute", component=component)] == [now]  # once, now
        out = capsys.readouterr().out
        assert "Skipping 1 run(s) of job every minute of component ticker because" in out
        assert "Skipping 1 run(s) of job every minute of component ticker2 because" in out
        # The heartbeat the component registered is back in its own `_crons`, and beats again.
        assert t.query(components.ticker.ticks.registered) == [
            ["heartbeat", "ticks:record", {"kind": "interval", "ms": 30_000.0}, False]]
        assert t.query(components.ticker2.ticks.registered) == []
        t.advance(30_000)
        assert [r["time"] - now for r in t.cron_runs("heartbeat", component="ticker")] == [30_000]
        sources = [source for source, _at in t.query(components.ticker.ticks.ticks) if source != "hourly action"]
        # at deploy, the catch-up now, start + 180 s (the schedule goes on), then the heartbeat at now + 30 s
        assert sources == ["minute", "minute", "minute", "heartbeat"]
    finally:
        second.stop()
