"""One JSON error envelope for every error: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from softquery.errors import AuthenticationError, SoftqueryError, TooManyAttemptsError

log = logging.getLogger(__name__)


def envelope(status: int, code: str, message: str, details: dict[str, object] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message,
                                                               "details": details or {}}})


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
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}.get(
            exc.status_code, "http_error")
        return envelope(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return envelope(500, "internal_error", "softquery hit an unexpected error; see the server log.")
