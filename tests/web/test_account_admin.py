"""The account page (password, API tokens shown once, revoke) and the admin pages (users, audit)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.web.conftest import FakeExecutor, client_for, follow_login_link
from tests.web.html import element, has_testid

from softquery.domain.accounts import Role, TokenScope
from softquery.services import accounts
from softquery.services.context import ServiceContext


@pytest.fixture
def browser(demo_ctx: ServiceContext, executor: FakeExecutor) -> Iterator[TestClient]:
    with client_for(demo_ctx, executor, auth=False) as client:
        yield client


def test_create_a_token_shown_once_then_revoke_it(browser: TestClient, demo_ctx: ServiceContext) -> None:
    csrf = authkit.session(browser, demo_ctx, "ada", Role.EDITOR)
    assert has_testid(browser.get("/account").text, "tokens-empty")
    created = browser.post("/account/tokens", data={"csrf_token": csrf, "name": "report", "scope": "predict",
                                                     "models": ["iris_species"], "days": "7"})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    token = re.search(r'data-testid="new-token-value">(sq_[^<]+)<', created.text)
    assert token is not None and has_testid(created.text, "copy-token")
    assert "shown only this once" in created.text
    info = demo_ctx.tokens.list(demo_ctx.users.get("ada").id)[0]
    assert (info.name, info.scope, info.models) == ("report", TokenScope.PREDICT, ["iris_species"])
    listed = browser.get("/account").text
    assert token.group(1) not in listed  # never again
    assert info.prefix in element(listed, "token-row") and "active" in listed

    with client_for(demo_ctx, None, auth=False) as script:  # the token works for its model only
        script.headers["Authorization"] = f"Bearer {token.group(1)}"
        assert script.get("/").status_code == 403

    revoked = browser.post(f"/account/tokens/{info.id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    page = browser.get(revoked.headers["location"]).text
    assert "revoked" in element(page, "token-state") and not has_testid(page, "revoke-token")
    assert demo_ctx.tokens.get(info.id).revoked_at is not None


def test_token_form_errors_stay_by_their_field(browser: TestClient, demo_ctx: ServiceContext) -> None:
    csrf = authkit.session(browser, demo_ctx, "ada", Role.EDITOR)
    days = browser.post("/account/tokens", data={"csrf_token": csrf, "name": "x", "days": "soon"})
    assert days.status_code == 200 and not has_testid(days.text, "new-token")
    assert "whole number" in element(days.text, "error-days") and 'value="soon"' in days.text
    too_long = browser.post("/account/tokens", data={"csrf_token": csrf, "name": "x", "days": "99999"})
    assert "1 to 3660 days" in element(too_long.text, "error-days")
    assert demo_ctx.tokens.list(demo_ctx.users.get("ada").id) == []
    # models only limit predict tokens: a full token ignores the boxes ticked for them
    full = browser.post("/account/tokens", data={"csrf_token": csrf, "name": "x", "scope": "full",
                                                 "models": ["iris_species"]})
    assert has_testid(full.text, "new-token")
    made = demo_ctx.tokens.list(demo_ctx.users.get("ada").id)[0]
    assert (made.scope, made.models) == (TokenScope.FULL, None)


def test_a_token_for_a_model_that_no_longer_exists_is_refused_by_the_models_field(
        browser: TestClient, demo_ctx: ServiceContext) -> None:
    csrf = authkit.session(browser, demo_ctx, "ada", Role.EDITOR)
    # a page loaded before the model was deleted (or a forged form) names a model that is not there
    refused = browser.post("/account/tokens", data={"csrf_token": csrf, "name": "stale", "scope": "predict",
                                                    "models": ["iris_species", "deleted_meanwhile"]})
    assert refused.status_code == 200 and not has_testid(refused.text, "new-token")
    assert "'deleted_meanwhile'" in html.unescape(element(refused.text, "error-models"))
    assert demo_ctx.tokens.list(demo_ctx.users.get("ada").id) == []


def test_a_user_cannot_revoke_someone_elses_token(browser: TestClient, demo_ctx: ServiceContext) -> None:
    authkit.token(demo_ctx, "bo", Role.EDITOR)
    theirs = demo_ctx.tokens.list(demo_ctx.users.get("bo").id)[0]
    csrf = authkit.session(browser, demo_ctx, "ada", Role.EDITOR)
    response = browser.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 404
    assert demo_ctx.tokens.get(theirs.id).revoked_at is None


def test_set_then_change_the_password(browser: TestClient, demo_ctx: ServiceContext) -> None:
    accounts.add_user(demo_ctx, "bo", Role.VIEWER)
    assert follow_login_link(browser, accounts.new_login_link(demo_ctx, "bo")).status_code == 303
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/account").text)
    assert csrf is not None
    form = {"csrf_token": csrf.group(1), "new_password": "short", "confirm_password": "short"}
    weak = browser.post("/account/password", data=form)
    assert "at least 10 characters" in element(weak.text, "error-new_password")
    differ = browser.post("/account/password", data={**form, "new_password": "long enough pass",
                                                     "confirm_password": "long enough pas"})
    assert "differ" in element(differ.text, "error-confirm_password")
    done = browser.post("/account/password", data={**form, "new_password": "long enough pass",
                                                   "confirm_password": "long enough pass"})
    assert done.status_code == 303 and done.headers["location"] == "/account?notice=password"
    page = browser.get(done.headers["location"]).text
    assert has_testid(page, "current-password") and has_testid(page, "notice")
    # the change ended the user's sessions; this browser got a fresh one (new CSRF token)
    fresh = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert fresh is not None and fresh.group(1) != csrf.group(1)
    form["csrf_token"] = fresh.group(1)
    wrong = browser.post("/account/password", data={**form, "current_password": "guess guess",
                                                    "new_password": "another long one",
                                                    "confirm_password": "another long one"})
    assert "not your current password" in element(wrong.text, "error-current_password")
    assert accounts.login_with_password(demo_ctx, "bo", "long enough pass", "t").user.username == "bo"


def test_admin_adds_a_user_who_logs_in_with_the_link(browser: TestClient, demo_ctx: ServiceContext,
                                                     executor: FakeExecutor) -> None:
    csrf = authkit.session(browser, demo_ctx, "root", Role.ADMIN)
    page = browser.get("/admin/users").text
    assert "root" in element(page, "user-row") and has_testid(page, "add-user-form")
    added = browser.post("/admin/users", data={"csrf_token": csrf, "username": "cy", "role": "editor"})
    assert added.status_code == 200
    link = re.search(r'data-testid="new-link-url">(http://testserver/login\?token=[^<]+)<', added.text)
    assert link is not None and demo_ctx.users.get("cy").role is Role.EDITOR
    bad = browser.post("/admin/users", data={"csrf_token": csrf, "username": "no spaces", "role": "editor"})
    assert "not a valid username" in element(bad.text, "error-username") and 'value="no spaces"' in bad.text

    with client_for(demo_ctx, executor, auth=False) as newcomer:
        followed = follow_login_link(newcomer, link.group(1).split("?token=", 1)[1])
        assert followed.headers["location"] == "/account?welcome=1"

    assert browser.post("/admin/users/cy/role", data={"csrf_token": csrf, "role": "viewer"}).status_code == 303
    assert demo_ctx.users.get("cy").role is Role.VIEWER
    assert browser.post("/admin/users/cy/disable", data={"csrf_token": csrf}).status_code == 303
    assert not demo_ctx.users.get("cy").active
    assert "disabled" in element(browser.get("/admin/users?notice=disabled&name=cy").text, "notice")
    enabled = browser.post("/admin/users/cy/enable", data={"csrf_token": csrf})
    assert enabled.status_code == 303 and demo_ctx.users.get("cy").active
    fresh = browser.post("/admin/users/cy/link", data={"csrf_token": csrf})
    assert has_testid(fresh.text, "new-link-url") and "shown only this once" in fresh.text
    first_url = re.search(r'data-testid="new-link-url">http://testserver(/login\?token=[^<]+)<', fresh.text)
    newer = browser.post("/admin/users/cy/link", data={"csrf_token": csrf})  # asked twice: the newer one counts
    newer_url = re.search(r'data-testid="new-link-url">http://testserver/login\?token=([^<]+)<', newer.text)
    assert first_url is not None and newer_url is not None
    with client_for(demo_ctx, executor, auth=False) as newcomer:
        assert newcomer.get(first_url.group(1)).status_code == 401
        assert follow_login_link(newcomer, newer_url.group(1)).status_code == 303
    last_admin = browser.post("/admin/users/root/role", data={"csrf_token": csrf, "role": "editor"})
    assert "only active admin" in element(last_admin.text, "users-error")


def test_audit_page_filters_and_pages(browser: TestClient, demo_ctx: ServiceContext) -> None:
    admin = client_for(demo_ctx, None)  # bearer admin
    with admin:
        for n in range(3):
            accounts.add_user(demo_ctx, f"u{n}", Role.VIEWER)
        page = admin.get("/admin/audit").text
        assert has_testid(page, "audit-table") and "user.add" in page and "model.create" in page
        only = admin.get("/admin/audit", params={"action": "user.add", "target": "u1"}).text
        assert only.count('data-testid="audit-row"') == 1
        none = admin.get("/admin/audit", params={"actor": "nobody"}).text
        assert "No events match these filters" in element(none, "audit-empty") and has_testid(none, "clear-filters")
        for n in range(60):
            demo_ctx.audit.add("cli:test", "model.update", "model", f"m{n}", None, None)
        first = admin.get("/admin/audit", params={"action": "model.update"}).text
        assert first.count('data-testid="audit-row"') == 50 and has_testid(first, "older-page")
        assert "action=model.update" in element(first, "older-page")
        second = admin.get("/admin/audit", params={"action": "model.update", "page": 2}).text
        assert second.count('data-testid="audit-row"') == 10 and has_testid(second, "newer-page")
        assert not has_testid(second, "older-page")


def test_a_fresh_audit_log_explains_what_it_will_hold(empty_client: TestClient) -> None:
    page = empty_client.get("/admin/audit", params={"action": "model.train"}).text
    assert "No events match" in element(page, "audit-empty")


def test_non_admins_get_403_on_admin_pages(browser: TestClient, demo_ctx: ServiceContext) -> None:
    csrf = authkit.session(browser, demo_ctx, "ada", Role.EDITOR)
    for path in ("/admin/users", "/admin/audit"):
        refused = browser.get(path)
        assert refused.status_code == 403 and "it takes an admin" in element(refused.text, "error-message")
    assert browser.post("/admin/users", data={"csrf_token": csrf, "username": "zed", "role": "admin"}).status_code == 403
    assert "zed" not in [u.username for u in demo_ctx.users.list()]


def test_a_password_change_ends_the_users_other_sessions(browser: TestClient, demo_ctx: ServiceContext) -> None:
    authkit.user(demo_ctx, "dee", Role.EDITOR)
    elsewhere = accounts.login_with_password(demo_ctx, "dee", authkit.PASSWORD, "10.9.9.9")
    assert accounts.session_principal(demo_ctx, elsewhere.secret) is not None
    csrf = authkit.session(browser, demo_ctx, "dee", Role.EDITOR)
    done = browser.post("/account/password", data={"csrf_token": csrf, "current_password": authkit.PASSWORD,
                                                   "new_password": "a new long password",
                                                   "confirm_password": "a new long password"})
    assert done.status_code == 303
    assert accounts.session_principal(demo_ctx, elsewhere.secret) is None  # the other browser is out
    assert browser.get("/account").status_code == 200  # this one goes on
