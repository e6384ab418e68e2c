"""Port of convex-test's convex/getDeploymentMetadata.test.ts and convex/getFunctionMetadata.test.ts:
`ctx.meta.get_deployment_metadata()` and `ctx.meta.get_function_metadata()`.

"component function has component path" waits for components (issue 18)."""

from __future__ import annotations

import pytest

from convex_py import api

from _ct import APP

pytestmark = pytest.mark.convex_app(str(APP))

DEPLOYMENT = {"name": "test", "region": None, "class": "s16"}


# getDeploymentMetadata.test.ts: test("query"), test("mutation"), test("action")
def test_deployment_metadata(convex):
    assert convex.query(api.getDeploymentMetadata.metadataQuery) == DEPLOYMENT
    assert convex.mutation(api.getDeploymentMetadata.metadataMutation) == DEPLOYMENT
    assert convex.action(api.getDeploymentMetadata.metadataAction) == DEPLOYMENT


async def _metadata(ctx):
    return await ctx.meta.get_function_metadata()


# getFunctionMetadata.test.ts: test("inline query"), test("inline mutation"), test("inline action")
@pytest.mark.parametrize("kind", ["query", "mutation", "action"])
def test_inline_function_metadata(convex, kind):
    metadata = getattr(convex, kind)(_metadata)
    assert metadata == {"name": "inline", "componentPath": "", "type": kind, "visibility": "public"}


# getFunctionMetadata.test.ts: test("named query"), test("named mutation"), test("named action")
@pytest.mark.parametrize("kind, ref", [
    ("query", api.getFunctionMetadata.metadataQuery),
    ("mutation", api.getFunctionMetadata.metadataMutation),
    ("action", api.getFunctionMetadata.metadataAction),
])
def test_named_function_metadata(convex, kind, ref):
    name = "getFunctionMetadata:metadata" + kind.capitalize()
    assert getattr(convex, kind)(ref) == {"name": name, "componentPath": "", "type": kind, "visibility": "public"}


# getFunctionMetadata.test.ts: test("default export")
def test_default_export_metadata(convex):
    metadata = convex.query(api.getFunctionMetadata.default)
    assert metadata == {"name": "getFunctionMetadata", "componentPath": "", "type": "query", "visibility": "public"}


# getFunctionMetadata.test.ts: test("http action")
def test_http_action_metadata(convex):
    response = convex.fetch("/metadata", method="GET")
    assert response.json() == {"name": "http", "componentPath": "", "type": "action", "visibility": "public"}
