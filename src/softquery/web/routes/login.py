"""Logging in (password or one-time link) and out. Sessions live in an HttpOnly cookie."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.domain.accounts import Via
from softquery.errors import AuthenticationError, TooManyAttemptsError
from softquery.http.authentication import (
    SESSION_COOKIE,
    clear_session_cookie,
    client_ip,
    set_session_cookie,
)
from softquery.http.route_policies import allow, public
from softquery.services import accounts
from softquery.web.access import principal_of
from softquery.web.deps import anonymous_ctx, ctx_of, page_router, public_page_router
from softquery.web.login_page import render_link_login, render_login, safe_next
from softquery.web.plain_words import plain

router = public_page_router()
logout_router = page_router()
NO_REFERRER = {"Referrer-Policy": "no-referrer"}  # a login link's token must not leak onwards
# A link's page: its token must not leak to other sites nor stay in a cache; "same-origin", not
# "no-referrer", because under "no-referrer" a browser sends its button's POST with "Origin: null",
# which the login-CSRF check must refuse.
LINK_PAGE_HEADERS = {"Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
NOTICES = {"logged_out": "You are logged out."}


def _logged_in(request: Request, session: accounts.NewSession, next_url: str, *, via_link: bool = False) -> Response:
    target = "/account?welcome=1" if not session.user.has_password else safe_next(next_url)
    if via_link and session.user.has_password:
        target = "/account?reset=1#password"  # a link is how a forgotten password is replaced
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # the session this browser had before ends on the server too
        accounts.logout(anonymous_ctx(request), old)
    response = RedirectResponse(target, status_code=303, headers=NO_REFERRER)
    set_session_cookie(response, request, session)
    return response


def _link_refused(request: Request, message: str, status_code: int) -> Response:
    response = render_login(request, message=message, status_code=status_code)
    response.headers.update({**NO_REFERRER, "Cache-Control": "no-store"})
    return response


@router.get("/login", dependencies=[public()])
def login_page(request: Request, token: str = "", next_url: Annotated[str, Query(alias="next")] = "/",
               notice: str = "") -> Response:
    """The login form; with ``?token=`` a one-time login link's page, which only asks "Log in
    as …?": link previews and mail scanners fetch links too, so a GET never uses one."""
    if token:
        try:
            user = accounts.login_link_user(anonymous_ctx(request), token)
        except AuthenticationError as exc:
            return _link_refused(request, plain(exc.message), 401)
        response = render_link_login(request, token=token, username=user.username)
        response.headers.update(LINK_PAGE_HEADERS)
        return response
    principal = principal_of(request)
    if principal is not None and principal.via is Via.SESSION:
        return RedirectResponse(safe_next(next_url), status_code=303)
    return render_login(request, next_url=next_url, message=NOTICES.get(notice), message_ok=True)


def _same_origin(request: Request) -> bool:
    """A browser sends Origin with a form POST: it must be this site (none: not a browser form;
    "null", from a sandboxed frame, is refused)."""
    origin = request.headers.get("origin")
    return not origin or urlsplit(origin).netloc == request.url.netloc


@router.post("/login", dependencies=[public()])
def login(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next_url: Annotated[str, Form(alias="next")] = "/") -> Response:
    username = username.strip()
    if not _same_origin(request):
        # login CSRF: another site must not log this browser in as someone else
        return render_login(request, next_url="/", status_code=403,
                            error="This login form was sent from another site; open the login page here and try again.")
    if not username or not password:
        return render_login(request, next_url=next_url, username=username, status_code=422,
                            error="Enter your username and your password.")
    try:
        session = accounts.login_with_password(anonymous_ctx(request), username, password, client_ip(request))
    except TooManyAttemptsError as exc:
        response = render_login(request, next_url=next_url, username=username, message=plain(exc.message),
                                status_code=exc.http_status)
        retry = exc.details.get("retry_after_seconds")
        if retry:
            response.headers["Retry-After"] = str(retry)
        return response
    except AuthenticationError as exc:
        return render_login(request, next_url=next_url, username=username, status_code=401,
                            error=plain(exc.message) + " Check both and try again.")
    return _logged_in(request, session, next_url)


@router.post("/login/link", dependencies=[public()])
def login_with_link(request: Request, token: Annotated[str, Form()] = "") -> Response:
    """The button of a login link's page: use the link (once) and start the session."""
    if not _same_origin(request):
        # login CSRF: another site must not log this browser in with a link of its choosing
        return _link_refused(request, "This login link was sent from another site; open the link itself and "
                                      "press its button here.", 403)
    try:
        session = accounts.login_with_link(anonymous_ctx(request), token)
    except AuthenticationError as exc:
        return _link_refused(request, plain(exc.message), 401)
    return _logged_in(request, session, "/", via_link=True)


@logout_router.post("/logout", dependencies=[allow(Action.OWN_ACCOUNT)])
def logout(request: Request) -> Response:
    """End this browser's session (CSRF-checked like every form) and go back to the login page."""
    secret = request.cookies.get(SESSION_COOKIE)
    principal = principal_of(request)
    if secret and principal is not None and principal.via is Via.SESSION:
        accounts.logout(ctx_of(request), secret)
    response = RedirectResponse("/login?notice=logged_out", status_code=303)
    clear_session_cookie(response)
    return response
