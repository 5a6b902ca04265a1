"""Who is asking (401): the session cookie or ``Authorization: Bearer``, and the CSRF check.

``require_access`` (on every protected router of the API and the pages) reads
``Authorization: Bearer`` or the session cookie, refuses anything else with 401, checks
the CSRF token of a cookie-authenticated state-changing request, and keeps the principal
on ``request.state.principal``. What that principal may do is each route's own decision:
``softquery.http.route_policies``.

It is ``async``: no threadpool hop per request (online predictions are measured in
milliseconds). Bearer tokens are looked up at most every ``serving_refresh_seconds`` per
token (an LRU cache), so a revoked token stops working within that time.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from softquery.auth import credentials
from softquery.domain.accounts import Principal, Via
from softquery.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from softquery.services import accounts, tokens
from softquery.services.context import ServiceContext

SESSION_COOKIE = "softquery_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_QUERY_PARAMS = frozenset({"access_token", "api_key", "apikey", "bearer"})
_CACHE_SIZE = 1024

LOGIN_HINT = ("Log in at /login, or send an API token as `Authorization: Bearer <token>` "
              "(create one with `softquery token create`).")


class _TokenCache:
    """Bearer token -> principal for a short time, so the hot prediction path skips the DB."""

    def __init__(self) -> None:
        self.entries: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()

    async def get(self, ctx: ServiceContext, token: str) -> Principal | None:
        key = credentials.digest(token)
        now = time.monotonic()
        hit = self.entries.get(key)
        if hit is not None and now - hit[0] < ctx.settings.serving_refresh_seconds:
            self.entries.move_to_end(key)
            return hit[1]
        # a miss reads the DB: off the event loop, so other requests go on meanwhile
        principal = await run_in_threadpool(tokens.token_principal, ctx, token)
        self.entries[key] = (now, principal)
        self.entries.move_to_end(key)
        while len(self.entries) > _CACHE_SIZE:
            self.entries.popitem(last=False)
        return principal


def base_ctx(request: Request) -> ServiceContext:
    """The app's service context (acting for nobody yet)."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _token_cache(request: Request) -> _TokenCache:
    cache = getattr(request.app.state, "token_cache", None)
    if cache is None:
        cache = request.app.state.token_cache = _TokenCache()
    return cache


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationError("The Authorization header must be `Bearer <token>`.")
    return value.strip()


async def authenticate(request: Request) -> Principal | None:
    """The principal of this request, or None (no credentials). Bad credentials raise 401."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    for key, value in request.query_params.multi_items():
        if key.lower() in TOKEN_QUERY_PARAMS or value.startswith(credentials.TOKEN_PREFIX):
            raise InvalidInputError("API tokens are never sent in URLs (they end up in logs and "
                                    "browser history): send `Authorization: Bearer <token>`.",
                                    details={"parameter": key})
    ctx = base_ctx(request)
    token = bearer_token(request)
    principal: Principal | None = None
    if token is not None:
        principal = await _token_cache(request).get(ctx, token)
        if principal is None:
            raise AuthenticationError("This API token is unknown, expired or revoked, or its user is disabled. "
                                      + LOGIN_HINT)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            principal = await run_in_threadpool(accounts.session_principal, ctx, cookie)
    if principal is not None:
        request.state.principal = principal
    return principal


async def require_access(request: Request) -> Principal:
    """401 unless logged in (session cookie) or holding a valid bearer token; CSRF on sessions."""
    principal = await authenticate(request)
    if principal is None:
        raise AuthenticationError("You are not logged in. " + LOGIN_HINT)
    if principal.via is Via.SESSION and request.method not in SAFE_METHODS:
        await _check_csrf(request, principal)
    return principal


async def _check_csrf(request: Request, principal: Principal) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not principal.csrf_token or not credentials.same(sent, principal.csrf_token):
        raise PermissionDeniedError(
            "This form is out of date or did not come from softquery (missing CSRF token). "
            "Reload the page and try again.", code="csrf_failed")


def set_session_cookie(response: Response, request: Request, session: accounts.NewSession) -> None:
    """HttpOnly, SameSite=Lax, and Secure behind https (or with SOFTQUERY_SECURE_COOKIES)."""
    settings = base_ctx(request).settings
    secure = settings.secure_cookies or request.url.scheme == "https"
    max_age = int(settings.session_hours * 3600)
    response.set_cookie(SESSION_COOKIE, session.secret, max_age=max_age, httponly=True,
                        samesite="lax", secure=secure, path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def request_ctx(request: Request) -> ServiceContext:
    """The service context acting for this request's principal (owner, audit actor)."""
    ctx = base_ctx(request)
    principal: Principal | None = getattr(request.state, "principal", None)
    return ctx.acting_as(principal, client_ip(request)) if principal is not None else ctx
