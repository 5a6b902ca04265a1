"""Logging in and out of the pages: 401 with the login form, password and one-time links,
rate limits, sessions that end, and `next` that never leaves the site."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests import authkit
from tests.web.conftest import FakeExecutor, client_for, follow_login_link
from tests.web.html import element, has_testid

from softquery.domain.accounts import Role
from softquery.http.authentication import SESSION_COOKIE
from softquery.services import accounts
from softquery.services.context import ServiceContext
from softquery.store.tables import login_links, sessions
from softquery.web.login_page import safe_next

HX = {"HX-Request": "true"}


@pytest.fixture
def anon(demo_ctx: ServiceContext, executor: FakeExecutor) -> Iterator[TestClient]:
    """A browser that is not logged in (no bearer token, no cookie)."""
    with client_for(demo_ctx, executor, auth=False) as client:
        yield client


def login(client: TestClient, username: str, password: str = authkit.PASSWORD, next_url: str = "/") -> object:
    return client.post("/login", data={"username": username, "password": password, "next": next_url})


def test_a_page_without_login_is_401_with_the_login_form(anon: TestClient) -> None:
    for path in ("/", "/runs?model=iris_species", "/models/house_quality", "/account", "/admin/users"):
        response = anon.get(path)
        assert response.status_code == 401, path
        assert has_testid(response.text, "login-form")
        # the first page anyone sees: a plain login page, no error banner above the form
        assert not has_testid(response.text, "login-message") and 'role="alert"' not in response.text
        assert f'name="next" value="{path.replace("&", "&amp;")}"' in response.text
        assert not has_testid(response.text, "nav-models")  # no navigation for strangers
    assert anon.post("/models/house_quality/train").status_code == 401
    assert anon.get("/login").status_code == 200
    assert anon.get("/static/app.css").status_code == 200  # the login page needs its styles


def test_htmx_without_login_gets_401_and_a_redirect_to_the_login_page(anon: TestClient) -> None:
    response = anon.get("/models/house_quality/card",
                        headers={**HX, "HX-Current-URL": "http://testserver/models/house_quality?x=1"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/models/house_quality%3Fx%3D1"
    foreign = anon.get("/runs", headers={**HX, "HX-Current-URL": "http://evil.example/steal"})
    assert foreign.headers["HX-Redirect"] == "/login?next=/runs"


def test_wrong_password_shows_the_form_again_and_the_right_one_logs_in(
        anon: TestClient, demo_ctx: ServiceContext) -> None:
    authkit.user(demo_ctx, "ada", Role.EDITOR)
    wrong = login(anon, "ada", "not the password", "/runs")
    assert wrong.status_code == 401 and SESSION_COOKIE not in wrong.cookies
    assert "Wrong username or password." in element(wrong.text, "error-password")
    assert 'value="ada"' in wrong.text and 'name="next" value="/runs"' in wrong.text
    right = login(anon, "ada", next_url="/runs")
    assert right.status_code == 303 and right.headers["location"] == "/runs"
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = anon.get("/runs")
    assert page.status_code == 200
    assert element(page.text, "nav-username").endswith(">ada</") and "editor" in element(page.text, "nav-role")
    assert anon.get("/login").status_code == 303  # already logged in: on to the site
    assert any(e.action == "session.login" and e.actor == "ada" for e in demo_ctx.audit.list())


def test_too_many_wrong_passwords_get_the_429_message(anon: TestClient, demo_ctx: ServiceContext) -> None:
    authkit.user(demo_ctx, "ada", Role.EDITOR)
    for _ in range(demo_ctx.settings.login_max_failures):
        assert login(anon, "ada", "nope nope nope").status_code == 401
    refused = login(anon, "ada")  # even the right password waits now
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many failed logins" in element(refused.text, "login-message")
    assert "login link" in element(refused.text, "login-message")
    assert 'value="ada"' in refused.text


def link_state(ctx: ServiceContext) -> list[tuple[object, ...]]:
    """Every login link's (id, used_at) and every session: what a GET must leave alone."""
    with ctx.engine.connect() as conn:
        return [*conn.execute(select(login_links.c.id, login_links.c.used_at)).all(),
                *conn.execute(select(sessions.c.id)).all()]


def test_opening_a_login_link_only_asks_and_the_button_logs_in(anon: TestClient, demo_ctx: ServiceContext) -> None:
    accounts.add_user(demo_ctx, "bo", Role.VIEWER)
    secret = accounts.new_login_link(demo_ctx, "bo")
    before = link_state(demo_ctx)
    for _ in range(3):  # a chat's link preview, a mail scanner, then the person: nothing is used up
        shown = anon.get(f"/login?token={secret}&next=/runs")
        assert shown.status_code == 200 and "set-cookie" not in shown.headers
        assert shown.headers["Cache-Control"] == "no-store"
        # the token never goes to another site; not "no-referrer": browsers would then send
        # the button's POST with "Origin: null", which the login-CSRF check refuses
        assert shown.headers["Referrer-Policy"] == "same-origin"
        assert "Log in as" in shown.text and element(shown.text, "link-username").endswith(">bo</")
        assert has_testid(shown.text, "link-login-button") and not has_testid(shown.text, "login-password")
        assert link_state(demo_ctx) == before
    assert not any(e.action == "session.login" for e in demo_ctx.audit.list())
    first = follow_login_link(anon, secret)
    assert first.status_code == 303 and first.headers["location"] == "/account?welcome=1"
    assert first.headers["Referrer-Policy"] == "no-referrer" and SESSION_COOKIE in first.cookies
    welcome = anon.get("/account?welcome=1")
    assert welcome.status_code == 200 and has_testid(welcome.text, "welcome")
    assert not has_testid(welcome.text, "current-password")  # none yet: nothing to confirm
    anon.cookies.clear()
    again = anon.get(f"/login?token={secret}")
    assert again.status_code == 401 and "already used or has expired" in element(again.text, "login-message")
    assert SESSION_COOKIE not in again.cookies and not has_testid(again.text, "link-login-form")
    pressed_again = anon.post("/login/link", data={"token": secret}, headers={"Origin": "http://testserver"})
    assert pressed_again.status_code == 401 and SESSION_COOKIE not in pressed_again.cookies
    assert "already used or has expired" in element(pressed_again.text, "login-message")


@pytest.mark.parametrize("how", ["expired", "unknown", "replaced", "disabled"])
def test_a_bad_link_shows_the_error_and_the_get_uses_nothing(anon: TestClient, demo_ctx: ServiceContext,
                                                             how: str) -> None:
    authkit.user(demo_ctx, "root", Role.ADMIN)
    accounts.add_user(demo_ctx, "bo", Role.VIEWER)
    secret = accounts.new_login_link(demo_ctx, "bo")
    if how == "expired":
        with demo_ctx.engine.begin() as conn:
            conn.execute(update(login_links).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    elif how == "unknown":
        secret = secret[:-4] + "abcd"
    elif how == "replaced":
        accounts.new_login_link(demo_ctx, "bo")
    else:
        accounts.disable_user(demo_ctx, "bo")
    before = link_state(demo_ctx)
    shown = anon.get("/login", params={"token": secret})
    assert shown.status_code == 401 and "set-cookie" not in shown.headers
    assert "already used or has expired" in element(shown.text, "login-message")
    assert not has_testid(shown.text, "link-login-form") and has_testid(shown.text, "login-form")
    assert shown.headers["Referrer-Policy"] == "no-referrer"
    assert link_state(demo_ctx) == before
    if how == "disabled":  # looking at it did not spend it: once enabled, the link still works
        accounts.enable_user(demo_ctx, "bo")
        assert follow_login_link(anon, secret).status_code == 303


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
def test_a_link_button_pressed_on_another_site_is_refused(anon: TestClient, demo_ctx: ServiceContext,
                                                          origin: str) -> None:
    # login CSRF: another site must not log this browser in with a link of its own choosing
    accounts.add_user(demo_ctx, "bo", Role.VIEWER)
    secret = accounts.new_login_link(demo_ctx, "bo")
    before = link_state(demo_ctx)
    refused = anon.post("/login/link", data={"token": secret}, headers={"Origin": origin})
    assert refused.status_code == 403 and "another site" in element(refused.text, "login-message")
    assert SESSION_COOKIE not in refused.cookies and link_state(demo_ctx) == before
    assert follow_login_link(anon, secret).status_code == 303  # the link is still good here


def test_a_login_link_resets_a_forgotten_password(anon: TestClient, demo_ctx: ServiceContext) -> None:
    authkit.user(demo_ctx, "ada", Role.EDITOR)  # has a password she forgot
    response = follow_login_link(anon, accounts.new_login_link(demo_ctx, "ada"), next="/models/iris_species")
    assert response.status_code == 303 and response.headers["location"] == "/account?reset=1#password"
    page = anon.get("/account?reset=1").text
    assert has_testid(page, "reset-notice") and not has_testid(page, "current-password")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert csrf is not None
    done = anon.post("/account/password", data={"csrf_token": csrf.group(1), "new_password": "remembered at last",
                                                "confirm_password": "remembered at last"})
    assert done.status_code == 303
    assert accounts.login_with_password(demo_ctx, "ada", "remembered at last", "t").user.username == "ada"
    # the fresh session is a password session: the old password is needed again from now on
    assert has_testid(anon.get("/account").text, "current-password")


def test_a_link_session_may_reset_the_password_only_for_a_while(anon: TestClient, demo_ctx: ServiceContext) -> None:
    authkit.user(demo_ctx, "ada", Role.EDITOR)
    assert follow_login_link(anon, accounts.new_login_link(demo_ctx, "ada")).status_code == 303
    with demo_ctx.engine.begin() as conn:  # the link login was 16 minutes ago
        conn.execute(update(sessions).values(created_at=datetime.now(UTC) - timedelta(minutes=16)))
    page = anon.get("/account").text
    assert has_testid(page, "current-password") and not has_testid(page, "reset-notice")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert csrf is not None
    refused = anon.post("/account/password", data={"csrf_token": csrf.group(1), "new_password": "taken over now",
                                                   "confirm_password": "taken over now"})
    assert "not your current password" in element(refused.text, "error-current_password")


def test_logout_ends_the_session(anon: TestClient, demo_ctx: ServiceContext) -> None:
    csrf = authkit.session(anon, demo_ctx, "ada", Role.EDITOR)
    secret = anon.cookies[SESSION_COOKIE]
    assert has_testid(anon.get("/").text, "logout-button")
    assert anon.post("/logout").status_code == 403  # a form without the CSRF token
    response = anon.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login?notice=logged_out"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]  # the browser forgets it
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert "You are logged out." in anon.get("/login?notice=logged_out").text
    anon.cookies.set(SESSION_COOKIE, secret)  # the old cookie is worthless now
    stale = anon.get("/runs")
    assert stale.status_code == 401 and "Your session has ended" in element(stale.text, "login-message")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example",
                                    "/\t/evil.example", "javascript:alert(1)", "evil.example", "", "/login"])
def test_next_never_leaves_the_site(anon: TestClient, demo_ctx: ServiceContext, target: str) -> None:
    authkit.user(demo_ctx, "ada", Role.EDITOR)
    response = login(anon, "ada", next_url=target)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert safe_next(target) == "/"
    via_link = follow_login_link(anon, accounts.new_login_link(demo_ctx, "ada"), next=target)
    assert via_link.headers["location"] == "/account?reset=1#password"  # a link login resets, never leaves


def test_safe_next_keeps_paths_on_the_site() -> None:
    assert safe_next("/runs?model=a&status=failed") == "/runs?model=a&status=failed"
    assert safe_next("/models/house_quality#versions") == "/models/house_quality#versions"


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
def test_a_login_form_sent_from_another_site_is_refused(anon: TestClient, demo_ctx: ServiceContext,
                                                        origin: str) -> None:
    authkit.user(demo_ctx, "ann", Role.EDITOR)
    refused = anon.post("/login", data={"username": "ann", "password": authkit.PASSWORD},
                        headers={"Origin": origin}, follow_redirects=False)
    assert refused.status_code == 403 and "sent from another site" in refused.text
    assert SESSION_COOKIE not in refused.cookies
    ours = anon.post("/login", data={"username": "ann", "password": authkit.PASSWORD},
                     headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert ours.status_code == 303 and SESSION_COOKIE in ours.cookies
