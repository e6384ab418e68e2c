"""File URLs on the API port, as Convex serves them: `POST /api/storage/upload?token=...` takes a
file's raw bytes and answers `{"storageId": id}`; `GET /api/storage/<uuid>` serves the bytes with
their content type. Also `ByPort`, which sends each connection to the app of the port it came in on.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from convex_py._http import Headers
from convex_py._http import Response as FetchResponse

from ..fetch import api_request, download, upload
from .site import read_body, request_headers



def _starlette(response: FetchResponse, method: str = "GET") -> Response:
    headers = dict(response.headers.items())
    body = response.body or b""
    if method == "HEAD":
        headers["content-length"] = str(len(body))
        return Response(b"", status_code=response.status, headers=headers)
    return Response(body, status_code=response.status, headers=headers)


def storage_routes(server: Any) -> list[BaseRoute]:
    """The storage routes of the API port (upload URLs have no size limit, as Convex's have none)."""
    files = server.files

    async def upload_file(request: Request) -> Response:
        body = await read_body(request.receive, request_headers(request.scope), None)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = upload(files, target, request_headers(request.scope), body)
        if response.status == 200:
            await server.after_upload()
        return _starlette(response)

    async def download_file(request: Request) -> Response:
        if request.path_params["uuid"] == "upload":  # a GET of the upload URL: answered as t.fetch does
            return _starlette(api_request(files, request.method, "/api/storage/upload", Headers(), None))
        return _starlette(download(files, request.path_params["uuid"], request.headers.get("range")), request.method)

    return [
        Route("/api/storage/upload", upload_file, methods=["POST"]),
        Route("/api/storage/{uuid}", download_file, methods=["GET", "HEAD"]),
    ]


class ByPort:
    """An ASGI app that hands each request to the API app or the site app by the port it reached."""

    def __init__(self, api: Any, site: Any, site_port: int) -> None:
        self.api = api
        self.site = site
        self.site_port = site_port

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        server = scope.get("server")
        if scope["type"] == "http" and server is not None and server[1] == self.site_port:
            await self.site(scope, receive, send)
        else:
            await self.api(scope, receive, send)


__all__ = ["ByPort", "storage_routes"]
