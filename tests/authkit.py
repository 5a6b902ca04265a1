"""Credentials for tests: users, bearer tokens and web sessions made through the service layer.

``bearer(ctx)`` is the usual way in for API and page tests (a full-scope token of an admin);
``session(client, ctx, ...)`` logs a TestClient in with a cookie and returns the CSRF token
that state-changing cookie requests must send (header ``X-CSRF-Token`` or form field
``csrf_token``).
"""

from __future__ import annotations

from typing import Any

from softquery.domain.accounts import Role, TokenScope, User
from softquery.errors import NotFoundError
from softquery.http.authentication import CSRF_HEADER, SESSION_COOKIE
from softquery.services import accounts, tokens
from softquery.services.context import ServiceContext

PASSWORD = "correct horse battery staple"


def user(ctx: ServiceContext, username: str = "admin", role: Role = Role.ADMIN,
         password: str | None = PASSWORD) -> User:
    """The user ``username`` (created with ``role`` and ``password`` when missing)."""
    try:
        return ctx.users.get(username)
    except NotFoundError:
        return accounts.add_user(ctx, username, role, password)


def token(ctx: ServiceContext, username: str = "admin", role: Role = Role.ADMIN, *,
          scope: TokenScope = TokenScope.FULL, models: list[str] | None = None, days: int | None = None) -> str:
    user(ctx, username, role)
    return tokens.create_token(ctx, username, scope=scope, models=models, days=days).token


def bearer(ctx: ServiceContext, username: str = "admin", role: Role = Role.ADMIN, *,
           scope: TokenScope = TokenScope.FULL, models: list[str] | None = None) -> dict[str, str]:
    """``{"Authorization": "Bearer …"}`` for a new token of ``username``."""
    return {"Authorization": "Bearer " + token(ctx, username, role, scope=scope, models=models)}


def session(client: Any, ctx: ServiceContext, username: str = "admin", role: Role = Role.ADMIN) -> str:
    """Log ``client`` (a TestClient) in with a session cookie; returns the CSRF token."""
    user(ctx, username, role)
    opened = accounts.login_with_password(ctx, username, PASSWORD, "testclient")
    client.cookies.set(SESSION_COOKIE, opened.secret)
    return opened.csrf_token


def csrf_headers(csrf: str) -> dict[str, str]:
    return {CSRF_HEADER: csrf}
