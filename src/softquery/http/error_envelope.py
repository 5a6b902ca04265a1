"""One JSON error envelope for every error: {"error": {"code", "message", "details"}}.

``install_error_handlers`` maps every error to it (the status of a ``SoftqueryError`` is its
``http_status``); ``ErrorEnvelope`` is its shape, for the OpenAPI document.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from softquery.errors import AuthenticationError, SoftqueryError, TooManyAttemptsError

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str = Field(description="Stable error code, e.g. unauthenticated, forbidden, not_found.")
    message: str = Field(description="What went wrong and what to do next.")
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    """Every error of the API has this shape: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorBody


def envelope(status: int, code: str, message: str, details: dict[str, object] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message,
                                                               "details": details or {}}})


def allowed_methods(request: Request) -> list[str]:
    """Every method of the resource at this path (the router's 405 names only its first route's)."""
    path = request.url.path
    by_template: dict[str, set[str]] = {}
    for context in iter_route_contexts(request.app.routes):
        regex = getattr(context, "path_regex", None)
        if context.methods and context.path and regex is not None and regex.match(path):
            by_template.setdefault(context.path, set()).update(context.methods)
    if not by_template:
        return []
    # /models/preview also matches /models/{name}: the most literal template is the resource
    template = min(by_template, key=lambda t: (t.count("{"), t))
    return sorted(by_template[template])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SoftqueryError)
    async def softquery_error(_request: Request, exc: SoftqueryError) -> JSONResponse:
        response = envelope(exc.http_status, exc.code, exc.message, exc.details)
        if isinstance(exc, AuthenticationError):
            response.headers["WWW-Authenticate"] = 'Bearer realm="softquery"'
        if isinstance(exc, TooManyAttemptsError):
            response.headers["Retry-After"] = str(exc.details.get("retry_after_seconds", 60))
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
                    for e in exc.errors()]
        message = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or "Invalid request."
        return envelope(422, "invalid_input", message, {"problems": problems})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http_error")
        message = str(exc.detail)
        headers = dict(exc.headers or {})
        allowed = allowed_methods(request) if exc.status_code == 405 else []
        if allowed:
            headers["Allow"] = ", ".join(allowed)  # RFC 9110: every method of the resource
            message = f"{request.method} is not allowed here; use {' or '.join(allowed)}."
        response = envelope(exc.status_code, code, message)
        response.headers.update(headers)
        return response

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return envelope(500, "internal_error", "softquery hit an unexpected error; see the server log.")
