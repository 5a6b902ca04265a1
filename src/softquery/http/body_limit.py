"""Every request body has a size limit, enforced before the body is read into memory.

Online predictions (``POST /api/v1/models/{name}/predict`` and MLSQL's ``/model/predict``)
may be as large as ``SOFTQUERY_SERVING_MAX_BODY_BYTES``, an upload into the files folder
(``POST /files``) as large as one file may be (``upload_max_body_bytes``); every other request of the API and
the pages at most ``SOFTQUERY_MAX_BODY_BYTES``. A ``Content-Length`` above the limit is
answered ``413`` before the app runs; a body without one (chunked) is counted as it arrives
and cut off as soon as it passes the limit, whatever the route was doing with it. The API
answers with its JSON error envelope, the pages with the HTML error page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from softquery.http.error_envelope import envelope

ONLINE_PREDICT = re.compile(r"/api/v1/models/[^/]+/predict|/model/predict")
JSON_PREFIXES = ("/api/", "/model/", "/static/")
UPLOAD_PATH = "/files"
UPLOAD_FORM_BYTES = 64 * 1024
JSON_PATHS = ("/docs", "/openapi.json", "/redoc")


class PageError(Protocol):
    """How the pages answer an error (``softquery.web.error_pages.error_page``)."""

    def __call__(self, request: Request, status: int, message: str, *, code: str = ...,
                 details: dict[str, Any] | None = ...) -> Response: ...


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    setting: str  # the environment variable that sets it
    advice: str


class _BodyTooLarge(HTTPException):
    """Raised by ``receive`` past the limit: an HTTPException, so FastAPI's body parsing
    passes it on instead of calling it a malformed body."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="The request body is too large.")


class BodyLimitMiddleware:
    """ASGI middleware: at most ``max_body_bytes`` per request body (online predictions:
    ``serving_max_body_bytes``)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, serving_max_body_bytes: int,
                 page_error: PageError | None = None, upload_max_body_bytes: int | None = None) -> None:
        self.app = app
        self.page_error = page_error
        self.general = BodyLimit(max_body_bytes, "SOFTQUERY_MAX_BODY_BYTES",
                                 "Send less: descriptions, model code and queries have limits of their own; "
                                 "an admin can raise SOFTQUERY_MAX_BODY_BYTES.")
        self.online = BodyLimit(serving_max_body_bytes, "SOFTQUERY_SERVING_MAX_BODY_BYTES",
                                "Send fewer rows per request, or use a batch prediction.")
        # the files page's upload (POST /files): as large as one file may be, plus the form around it
        self.upload = None if upload_max_body_bytes is None else BodyLimit(
            upload_max_body_bytes + UPLOAD_FORM_BYTES, "the upload limit",
            "Load big data from a data source instead of uploading it.")

    def limit_for(self, path: str) -> BodyLimit:
        if self.upload is not None and path == UPLOAD_PATH:
            return self.upload
        return self.online if ONLINE_PREDICT.fullmatch(path) else self.general

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        length = _content_length(scope)
        if length is not None and length > limit.max_bytes:
            await refuse(scope, receive, send, limit, length, self.page_error)  # not one byte of the body read
            return
        seen = 0
        exceeded = started = False

        async def limited_receive() -> Message:
            nonlocal seen, exceeded
            if exceeded:
                raise _BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the route's own answer to a body it could not read: ours replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await refuse(scope, receive, send, limit, seen, self.page_error)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None


async def refuse(scope: Scope, receive: Receive, send: Send, limit: BodyLimit, size: int,
                 page_error: PageError | None = None) -> None:
    """Answer 413 (JSON envelope for the API, the error page for pages) and close the connection
    (what is left of the body is not read)."""
    message = (f"The request body is larger than {limit.max_bytes:,} bytes ({limit.setting}). "
               f"{limit.advice}")
    details = {"bytes": size, "max_bytes": limit.max_bytes, "setting": limit.setting}
    path: str = scope.get("path", "")
    response: Response
    if page_error is None or path.startswith(JSON_PREFIXES) or path in JSON_PATHS:
        response = envelope(413, "payload_too_large", message, details)
    else:
        response = page_error(Request(scope, receive), 413, message, code="payload_too_large", details=details)
    response.headers["connection"] = "close"
    await response(scope, receive, send)
