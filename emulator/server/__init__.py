"""The dev server: Convex's HTTP API for real Convex clients, on Starlette and uvicorn, on the real clock.

One module per job: `app` (the DevServer: loop, clock, actions), `routes` (the
HTTP API as a route list), `auth` (bearer tokens), `persistence` (the `--db`
file), `convex_json` (Convex's JSON encoding), `logs` (function log lines),
`protocol` (the HTTP parser: JSON answers for unparsable HTTP, one send per
response), `errors` (bad requests),
`site` (HTTP actions on the site port), `storage_routes` (upload and download
URLs), `files_db` (file bytes in the `--db` file), `sync` (Convex's sync protocol
over WebSocket: live queries for `ConvexClient`).
"""

from __future__ import annotations

from .app import DevServer, startup_line
from .auth import TokenVerifier, identity_from_token
from .errors import RequestError
from .routes import MAX_BODY_BYTES, UDF_FAILED

__all__ = ["MAX_BODY_BYTES", "UDF_FAILED", "DevServer", "RequestError", "TokenVerifier", "identity_from_token",
           "startup_line"]
