"""The deployment's HTTP surface without a socket: what `t.fetch` and the dev server share.

A request on the site origin (or a bare path) runs an HTTP action; on the API
origin, `POST /api/storage/upload?token=...` stores a file and
`GET /api/storage/<uuid>` serves one, as Convex's backend does.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from convex_py._http import Headers, Response

from .http_actions import json_response
from .storage import UploadRefused

if TYPE_CHECKING:
    from .http_actions import HttpActions
    from .storage import FileStorage

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
MAX_CACHE_AGE_S = 60 * 60 * 24 * 30  # Convex: stored files never change, so browsers may keep them a month


def upload(files: "FileStorage", target: str, headers: Headers, body: bytes) -> Response:
    """`POST /api/storage/upload?token=...` with a file's raw bytes → `{"storageId": id}`."""
    token = parse_qs(urlsplit(target).query).get("token", [None])[0]
    files = files.for_token(token)  # a component's upload URL stores into its own `_storage`
    try:
        files.check_token(token)
        expected = None
        digest = headers.get("digest")
        if digest is not None:
            algorithm, _, value = digest.partition("=")
            if algorithm.strip().lower() != "sha-256" or not value:
                raise UploadRefused(400, "BadHeader", f"Bad header for Digest: expected sha-256=<base64>, got {digest!r}")
            expected = value.strip()
        try:
            storage_id = files.add(body, headers.get("content-type"), expected, what="upload")
        except ValueError as exc:  # a sha256 mismatch
            raise UploadRefused(400, "Sha256Mismatch", str(exc)) from None
    except UploadRefused as refused:
        return json_response(refused.status, {"code": refused.code, "message": str(refused)})
    return json_response(200, {"storageId": storage_id})


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The one range of a `Range: bytes=a-b` header (Convex serves one), as (start, end inclusive)."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:  # the last N bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    return (start, end) if start <= end and start < size else None


def download(files: "FileStorage", file_uuid: str, range_header: str | None = None) -> Response:
    """`GET /api/storage/<uuid>` → the bytes, with their content type and a sha-256 `Digest`;
    with `Range: bytes=a-b`, that part of them (206)."""
    if not _UUID.match(file_uuid):
        return json_response(400, {
            "code": "InvalidStoragePath",
            "message": f"Invalid storage path: \"{file_uuid}\". Please use `storage.getUrl(storageId: "
                       "Id<\"_storage\">)` to generate a valid URL to retrieve files. See "
                       "https://docs.convex.dev/file-storage/serve-files for more details",
        })
    files = files.holder_of(file_uuid.lower())  # the app's file, or a component's
    storage_id = files.ids_by_uuid.get(file_uuid.lower())
    row = files.row(storage_id) if storage_id is not None else None
    data = files.bytes_of(storage_id) if row is not None else None
    if row is None or data is None:
        return json_response(404, {"code": "FileNotFound", "message": f"File {file_uuid} not found"})
    headers = Headers({"digest": f"sha-256={row['sha256']}", "cache-control": f"private, max-age={MAX_CACHE_AGE_S}",
                       "accept-ranges": "bytes"})
    if row.get("contentType"):
        headers.set("content-type", row["contentType"])
    if range_header is not None:
        part = _byte_range(range_header, len(data))
        if part is None:
            return Response(None, status=416, headers={"content-range": f"bytes */{len(data)}"})
        start, end = part
        headers.delete("digest")  # the digest is the whole file's
        headers.set("content-range", f"bytes {start}-{end}/{len(data)}")
        return Response(data[start:end + 1], status=206, headers=headers)
    return Response(data, headers=headers)


def api_request(files: "FileStorage", method: str, target: str, headers: Headers, body: bytes | None) -> Response:
    """A request on the API origin that is not a function call: the storage routes."""
    path = target.split("?", 1)[0]
    if path == "/api/storage/upload":
        if method != "POST":
            return json_response(405, {"code": "MethodNotAllowed", "message": "Upload a file with a POST of its bytes"})
        return upload(files, target, headers, body or b"")
    if path.startswith("/api/storage/") and path.count("/") == 3:
        if method not in ("GET", "HEAD"):
            return json_response(405, {"code": "MethodNotAllowed", "message": "Download a file with a GET"})
        response = download(files, path.rsplit("/", 1)[1], headers.get("range"))
        return Response(None, status=response.status, headers=response.headers) if method == "HEAD" else response
    return json_response(404, {"code": "NotFound", "message": f"No route for {method} {path}"})


def _encode_body(body: Any, headers: Headers) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        if "content-type" not in headers:
            headers.set("content-type", "text/plain;charset=UTF-8")
        return body.encode()
    if isinstance(body, (dict, list)):
        if "content-type" not in headers:
            headers.set("content-type", "application/json")
        return json.dumps(body).encode()
    raise TypeError(f"fetch: body must be bytes, str, or a dict or list (sent as JSON), got {type(body).__name__}")


def fetch(http: "HttpActions", files: "FileStorage", url: str, *, method: str = "GET", headers: Any = None,
          body: Any = None, identity: dict[str, Any] | None = None, decode_identity: Any = None) -> Any:
    """One request to the deployment, answered as an `httpx.Response` (what `t.fetch` returns).

    `url` is a path on the site origin ("/hook?x=1"), or a full URL of the site or of the API
    origin (what `ctx.storage.get_url` and `generate_upload_url` return).
    """
    import httpx

    if not isinstance(url, str):
        raise TypeError(f"fetch: expected a path such as \"/hook\" or a URL, got {url!r}")
    if not isinstance(method, str) or not method.isalpha():
        raise ValueError(f"fetch: invalid method {method!r}")
    method = method.upper()
    request_headers = Headers(headers)
    data = _encode_body(body, request_headers)
    if url.startswith(("http://", "https://")):
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if origin == files.api_url:
            response = api_request(files, method, target, request_headers, data)
            return _to_httpx(httpx, response, method, url)
        if origin != http.site_url:
            raise ValueError(
                f"fetch: {url} is not a URL of this deployment: its HTTP actions are at {http.site_url} "
                f"and its files at {files.api_url}"
            )
    elif url.startswith("/"):
        target = url
    else:
        raise ValueError("Path given to `t.fetch` must start with a `/`")
    if identity is None and decode_identity is not None:
        identity = decode_identity(request_headers.get("authorization"))
    response = http.handle(method, target, request_headers, data, identity)
    return _to_httpx(httpx, response, method, http.site_url + target)


def _to_httpx(httpx: Any, response: Response, method: str, url: str) -> Any:
    return httpx.Response(response.status, headers=response.headers.raw(), content=response.body or b"",
                          request=httpx.Request(method, url))


__all__ = ["api_request", "download", "fetch", "upload"]
