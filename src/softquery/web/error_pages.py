"""Friendly HTML errors for page routes (the REST API keeps its JSON envelope).

Page routers use ``PageRoute``: a SoftqueryError becomes a page with its
message; anything unexpected an apology (and a log entry). An htmx request
gets the same message as a fragment, retargeted to the page's message area
(status 200 with the real status in ``X-Softquery-Status``: no console errors).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from softquery.errors import AuthenticationError, PermissionDeniedError, SoftqueryError
from softquery.http.authentication import SESSION_COOKIE, authenticate, clear_session_cookie
from softquery.http.error_envelope import allowed_methods
from softquery.web.access import ROLE_RULE, principal_of
from softquery.web.login_page import login_location, render_login, requested_path
from softquery.web.plain_words import CODE_TITLES, plain
from softquery.web.templating import is_htmx, render

log = logging.getLogger(__name__)

TITLES = {400: "That did not work", 401: "Please log in", 403: "Not allowed", 404: "Not found",
          405: "Not allowed here", 409: "Conflict", 413: "Too large", 422: "Please check your input", 429: "Too many attempts",
          500: "Something went wrong", 503: "Not ready"}

GENERIC_CODES = {"error", "http_error", "invalid_input", "not_found", "forbidden", "unauthenticated"}


def error_page(request: Request, status: int, message: str, *, code: str = "error",
               details: dict[str, Any] | None = None, explain: str | None = None) -> Response:
    # pages say it in their own words: no CLI hints in the message, a title instead of the code
    title = CODE_TITLES.get(code) if code not in GENERIC_CODES else None
    context = {"status": status, "title": title or TITLES.get(status, "That did not work"), "message": plain(message),
               "code": code, "details": details or {}, "explain": explain}
    if is_htmx(request):
        # 200, so the browser logs no failed request; the real status travels in a header.
        return render(request, "partials/flash_error.html", context, status_code=200,
                      headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML",
                               "X-Softquery-Status": str(status), "X-Softquery-Error": code})
    return render(request, "error.html", context, status_code=status)


def login_required(request: Request, exc: AuthenticationError) -> Response:
    """401 with the login form (next = the page asked for); htmx: 401 + HX-Redirect to it.

    Someone who simply is not logged in yet (the first page anyone sees) gets the plain login
    page; only an ended session or a refused Authorization header is explained on top."""
    next_url = requested_path(request)
    stale = bool(request.cookies.get(SESSION_COOKIE)) and "authorization" not in request.headers
    message: str | None = None
    if stale:
        message = "Your session has ended (it expired, or you logged out elsewhere). Log in again to continue."
    elif "authorization" in request.headers:
        message = exc.message
    if is_htmx(request):
        response: Response = render(request, "partials/flash_error.html",
                                    {"title": TITLES[401], "message": message or "Log in to continue."},
                                    status_code=401, headers={"HX-Redirect": login_location(next_url)})
    else:
        response = render_login(request, next_url=next_url, message=message, status_code=401)
    if stale:
        clear_session_cookie(response)
    return response


def forbidden(request: Request, exc: PermissionDeniedError) -> Response:
    """403 with the rule that refused it, and who the user is logged in as."""
    principal = principal_of(request)
    if exc.code == "csrf_failed" or principal is None:
        return error_page(request, 403, exc.message, code=exc.code)
    explain = (f"You are logged in as {principal.username} ({principal.role.value}). {ROLE_RULE} "
               "Ask an admin if you need a different role, or to change who owns a model.")
    return error_page(request, 403, exc.message, code=exc.code, explain=explain)


def page_error_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, AuthenticationError):
        return login_required(request, exc)
    if isinstance(exc, PermissionDeniedError):
        return forbidden(request, exc)
    if isinstance(exc, SoftqueryError):
        return error_page(request, exc.http_status, exc.message, code=exc.code)
    if isinstance(exc, RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}"
            for e in exc.errors())
        return error_page(request, 422, f"Some of the values sent are not valid: {problems}.",
                          code="invalid_input")
    if isinstance(exc, HTTPException):
        return error_page(request, exc.status_code, str(exc.detail), code="http_error")
    log.exception("unexpected error on page %s", request.url.path)
    return error_page(request, 500, "Sorry — softquery hit an unexpected error while building this "
                      "page. It has been logged; try again, or go back to the models.",
                      code="internal_error")


class PageRoute(APIRoute):
    """An APIRoute whose errors render as HTML pages instead of the API's JSON envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except Exception as exc:  # noqa: BLE001 - every error becomes a page, never a bare 500
                return page_error_response(request, exc)

        return handler


def install_page_not_found(app: FastAPI) -> None:
    """Unknown paths outside /api/ and /static/ get the HTML 404 page; the API keeps its JSON one."""

    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/api/", "/static/")) or path in (
                "/docs", "/openapi.json", "/redoc"):
            raise HTTPException(status_code=404)
        request = Request(scope, receive)
        try:
            await authenticate(request)  # the top bar shows who is logged in
        except SoftqueryError:
            pass
        response = error_page(request, 404, f"There is no page at {path}.", code="not_found")
        await response(scope, receive, send)

    app.router.default = not_found


def _is_page_path(path: str) -> bool:
    return not path.startswith(("/api/", "/static/")) and path not in ("/docs", "/openapi.json", "/redoc")


def nearest_page(app: FastAPI, path: str) -> str:
    """The closest address above ``path`` that a browser can open (GET), e.g. the model page
    for ``/models/iris/owner``, the account page for ``/account/tokens/3/revoke``; else ``/``."""
    pages = [c.path_regex for c in iter_route_contexts(app.routes)
             if c.methods and "GET" in c.methods and c.path and _is_page_path(c.path)
             and getattr(c, "path_regex", None) is not None]
    parts = path.rstrip("/").split("/")
    while len(parts) > 1:
        parts.pop()
        candidate = "/".join(parts) or "/"
        if any(regex.match(candidate) for regex in pages):
            return candidate
    return "/"


def install_page_method_not_allowed(app: FastAPI) -> None:
    """A page address opened with a method it does not take never answers with the API's JSON.

    Reloading or bookmarking the address a form was sent to (a POST-only address such as
    ``/models/iris/stop``) opens the nearest page above it instead (303); any other method
    gets the HTML 405 page. The API's paths keep their JSON envelope."""
    api_handler = app.exception_handlers.get(HTTPException)

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        if (isinstance(exc, HTTPException) and exc.status_code == 405
                and _is_page_path(request.url.path)):
            if request.method in ("GET", "HEAD"):
                return RedirectResponse(nearest_page(request.app, request.url.path), status_code=303)
            try:
                await authenticate(request)  # the top bar shows who is logged in
            except SoftqueryError:
                pass
            response = error_page(request, 405, f"{request.method} is not something this address does. "
                                  "Open the page it belongs to and use its buttons.", code="method_not_allowed")
            allowed = allowed_methods(request)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
            return response
        if api_handler is None:
            raise exc
        answer = api_handler(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(HTTPException, method_not_allowed)
