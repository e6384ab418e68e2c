"""Convex's testing demo (get-convex/convex-demos, convex-test/): its app and each of its
`*.test.ts` files, ported test by test (the TypeScript test each ports is named above it).
Not ported: environment.test.ts (it checks vitest's JavaScript globals)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from convex_py import ConvexError, api, internal

APP = str(Path(__file__).parent / "demo_testing")

pytestmark = [pytest.mark.convex_app(APP), pytest.mark.convex_time("2030-01-01T00:00:00Z")]
T0 = 1893456000000


# auth.test.ts: test("authenticated functions")
def test_authenticated_functions(convex):
    as_sarah = convex.with_identity({"name": "Sarah"})
    as_sarah.mutation(api.tasks.create, {"text": "Add tests"})

    sarahs_tasks = as_sarah.query(api.tasks.list)
    assert [{k: task[k] for k in ("text", "author")} for task in sarahs_tasks] == [
        {"text": "Add tests", "author": "Sarah"}]

    as_lee = convex.with_identity({"name": "Lee"})
    lees_tasks = as_lee.query(api.tasks.list)
    assert lees_tasks == []
    with pytest.raises(Exception, match="Not authenticated"):
        convex.query(api.tasks.list)


# chainedScheduling.test.ts: test("mutation scheduling action scheduling action")
def test_mutation_scheduling_action_scheduling_action(convex):
    convex.mutation(api.scheduler.mutationSchedulingActionSchedulingAction)

    convex.finish_all_scheduled_functions()

    created_task = convex.run(lambda ctx: ctx.db.query("tasks").first())
    assert created_task["author"] == "AI"
    assert [(j["name"], j["scheduledTime"] - T0, j["state"]["kind"]) for j in convex.scheduled_functions()] == [
        ("scheduler:mutationSchedulingAction", 0, "success"),
        ("scheduler:someAction", 1000, "success"),
    ]
    assert convex.now == T0 + 1000


# error.test.ts: test("messages validation")
def test_messages_validation(convex):
    with pytest.raises(ConvexError, match="Empty message body is not allowed") as info:
        convex.mutation(api.messages.send, {"body": "", "author": "James"})
    assert info.value.data == "Empty message body is not allowed"
    assert convex.run(lambda ctx: ctx.db.query("messages").collect()) == []


# http.test.ts: test("functions")
def test_http_functions(convex):
    response = convex.fetch("/some/path", method="POST")
    assert response.status_code == 200
    assert response.text == "Hello, world!"
    assert convex.fetch("/some/path").status_code == 404  # only POST is routed


# mockingFetch.test.ts: test("ai")
def test_ai(convex, monkeypatch):
    async def fake_get(self, url, **kwargs):
        return httpx.Response(200, text="I am the overlord", request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx.AsyncClient, "get", fake_get)

    reply = convex.action(api.messages.sendAIMessage, {"prompt": "hello"})
    assert reply == "I am the overlord"


# posts.test.ts: describe("posts.list") / it("returns empty array when no posts exist")
def test_posts_list_returns_empty_array_when_no_posts_exist(convex):
    posts = convex.query(api.posts.list)
    assert posts == []


# posts.test.ts: describe("posts.list") / it("returns all posts ordered by creation time when there are posts")
def test_posts_list_returns_all_posts_newest_first(convex):
    first = convex.mutation(internal.posts.add, {
        "title": "First Post", "content": "This is the first post", "author": "Alice"})
    convex.mutation(internal.posts.add, {
        "title": "Second Post", "content": "This is the second post", "author": "Bob"})

    posts = convex.query(api.posts.list)
    assert len(posts) == 2
    assert posts[0]["title"] == "Second Post"
    assert posts[1]["title"] == "First Post"
    assert posts[1]["_id"] == first and posts[0]["_creationTime"] > posts[1]["_creationTime"] >= T0


# run.test.ts: test("functions")
def test_run_functions(convex):
    async def first_task(ctx):
        await ctx.db.insert("tasks", {"text": "Eat breakfast"})
        return await ctx.db.query("tasks").first()

    first = convex.run(first_task)
    assert first["text"] == "Eat breakfast" and "author" not in first


# scheduling.test.ts: test("mutation scheduling action")
def test_mutation_scheduling_action(convex):
    scheduled_function_id = convex.mutation(api.scheduler.mutationSchedulingAction, {"delayMs": 10000})

    convex.advance(5000)
    assert convex.run(lambda ctx: ctx.db.system.get("_scheduled_functions", scheduled_function_id))["state"] == {
        "kind": "pending"}

    convex.advance(6000)
    convex.finish_in_progress_scheduled_functions()

    scheduled_function_status = convex.run(
        lambda ctx: ctx.db.system.get("_scheduled_functions", scheduled_function_id))
    assert scheduled_function_status["state"] == {"kind": "success"}
    assert scheduled_function_status["scheduledTime"] == T0 + 10000
    assert scheduled_function_status["completedTime"] == T0 + 10000
