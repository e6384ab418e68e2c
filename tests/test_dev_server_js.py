"""The dev server driven by Convex's own JavaScript client (npm `convex`, ConvexHttpClient) under Node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from convex_py import ConvexError, internal_mutation, mutation, query, v
from emulator import ConvexEmulator
from emulator.server import DevServer

NPM_DIR = Path(os.environ.get("CONVEX_NPM_DIR", "/tmp/convex-py-npm"))
CONVEX_NPM_VERSION = "1.48.0"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """npm `convex` installed once in its own folder (.ci/run installs it ahead of the tests)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node and npm are needed to test the dev server with Convex's JavaScript client")
    if not (NPM_DIR / "node_modules" / "convex" / "package.json").exists():
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "init", "-y"], cwd=NPM_DIR, check=True, capture_output=True)
        subprocess.run(["npm", "install", "--silent", f"convex@{CONVEX_NPM_VERSION}"], cwd=NPM_DIR, check=True,
                       capture_output=True, timeout=600)
    return NPM_DIR


@mutation(args={"n": v.int64(), "label": v.string()})
def add(ctx, args):
    return ctx.db.insert("items", {"n": args["n"], "label": args["label"]})


@query
def items(ctx, args):
    return [{"n": i["n"], "label": i["label"]} for i in ctx.db.query("items").collect()]


@mutation
def refuse(ctx, args):
    raise ConvexError({"reason": "no", "limit": 3})


@internal_mutation
def secret(ctx, args):
    return 1


MODULES = {"items": {"add": add, "items": items, "refuse": refuse, "secret": secret}}

SCRIPT = r"""
const { ConvexHttpClient } = require("convex/browser");
const { anyApi } = require("convex/server");
(async () => {
  const client = new ConvexHttpClient(process.argv[2]);
  const out = {};
  await client.mutation(anyApi.items.add, { n: 9007199254740993n, label: "big" });
  const items = await client.query(anyApi.items.items, {});
  out.type = typeof items[0].n;
  out.n = items[0].n.toString();
  out.label = items[0].label;
  try { await client.mutation(anyApi.items.refuse, {}); } catch (e) { out.errorData = e.data; }
  try { await client.mutation(anyApi.items.secret, {}); } catch (e) { out.internal = String(e.message); }
  try { await client.mutation(anyApi.items.add, { n: 1, label: "x" }); } catch (e) { out.badArgs = String(e.message); }
  console.log(JSON.stringify(out, (k, v) => (typeof v === "bigint" ? v.toString() + "n" : v)));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def test_the_javascript_client(node_modules: Path, tmp_path: Path) -> None:
    dev = DevServer(ConvexEmulator(modules=MODULES), port=0).start()
    try:
        script = node_modules / "client_check.cjs"
        script.write_text(SCRIPT)
        result = subprocess.run(["node", str(script), dev.url], capture_output=True, text=True, timeout=60)
    finally:
        dev.stop()
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["type"] == "bigint"  # an int64 arrives as a JavaScript bigint, exactly
    assert out["n"] == "9007199254740993"
    assert out["label"] == "big"
    assert out["errorData"] == {"reason": "no", "limit": "3n"}  # a Python int is an int64: a bigint
    assert "Could not find public function for 'items:secret'" in out["internal"]
    assert "ArgumentValidationError" in out["badArgs"]
