"""Accounts in the browser: the login page, the one-time link `softquery serve` prints,
a new user's first login, API tokens shown once, roles, and the admin pages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests import authkit
from tests.e2e.kit import ADMIN, PASSWORD, PHONE, ConsoleWatch, Server, horizontal_overflow, log_in

from softquery.config import Settings
from softquery.domain.accounts import Role
from softquery.services.context import open_context

Shot = Callable[[Page, str], Path]


def test_login_page_refuses_a_wrong_password_and_lets_the_right_one_in(
        new_page: Callable[..., Page], server: Server, console: ConsoleWatch, shot: Shot) -> None:
    for path in ("/runs", "/login"):
        console.allow_status(server.url + path, 401)
    page = new_page(logged_in=False)
    response = page.goto("/runs")
    assert response is not None and response.status == 401
    expect(page.get_by_test_id("login-form")).to_be_visible()
    expect(page.get_by_test_id("login-message")).to_have_count(0)  # not logged in yet is no error
    shot(page, "login")
    page.get_by_test_id("login-username").fill(ADMIN)
    page.get_by_test_id("login-password").fill("not the password")
    page.get_by_test_id("login-button").click()
    expect(page.get_by_test_id("error-password")).to_contain_text("Wrong username or password.")
    expect(page.get_by_test_id("login-username")).to_have_value(ADMIN)
    expect(page.get_by_test_id("login-password")).to_be_focused()
    shot(page, "login-wrong-password")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-button").click()
    expect(page).to_have_url(server.url + "/runs")  # back where they were going
    expect(page.get_by_test_id("nav-username")).to_have_text(ADMIN)
    expect(page.get_by_test_id("nav-role")).to_have_text("admin")
    page.get_by_test_id("nav-models").click()
    expect(page.get_by_test_id("model-list")).to_be_visible()

    page.get_by_test_id("logout-button").click()
    expect(page.get_by_test_id("login-message")).to_have_text("You are logged out.")
    console.allow_status(server.url + "/", 401)
    response = page.goto("/")
    assert response is not None and response.status == 401


def test_login_page_fits_a_phone(new_page: Callable[..., Page], shot: Shot) -> None:
    page = new_page(viewport=PHONE, logged_in=False)
    page.goto("/login")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    shot(page, "login-phone")
    assert horizontal_overflow(page) == 0


def test_the_link_serve_prints_on_first_start_logs_in_once(
        new_page: Callable[..., Page], server: Server, console: ConsoleWatch, shot: Shot) -> None:
    deadline = time.monotonic() + 5
    link = server.login_link()
    while link is None and time.monotonic() < deadline and server.proc.poll() is None:
        time.sleep(0.05)
        link = server.login_link()
    if link is None:
        pytest.skip("`softquery serve` printed no line with `/login?token=` on its first start:\n"
                    + "".join(server.output))
    path = link.split("://", 1)[1].split("/", 1)[1]
    # a chat's link preview fetches the link first: it sees the question, no session, and
    # the link stays good for the person
    preview = httpx.get(server.url + "/" + path, timeout=10)
    assert preview.status_code == 200 and "set-cookie" not in preview.headers
    assert "link-login-button" in preview.text
    page = new_page(logged_in=False)
    page.goto("/" + path)
    expect(page.get_by_test_id("link-username")).to_have_text(ADMIN)
    expect(page.get_by_test_id("nav-username")).to_have_count(0)  # opening the link alone logs nobody in
    assert not page.context.cookies()
    shot(page, "login-link")
    page.get_by_test_id("link-login-button").click()
    expect(page.get_by_test_id("nav-username")).to_have_text(ADMIN)
    # the admin has a password: a link login offers to replace it (a forgotten password)
    expect(page).to_have_url(server.url + "/account?reset=1#password")
    expect(page.get_by_test_id("reset-notice")).to_be_visible()
    expect(page.get_by_test_id("current-password")).to_have_count(0)
    console.allow_status(server.url + "/" + path, 401)
    again = new_page(logged_in=False)
    response = again.goto("/" + path)
    assert response is not None and response.status == 401
    expect(again.get_by_test_id("login-message")).to_contain_text("already used")


def test_a_new_user_follows_their_link_and_sets_a_password(
        new_page: Callable[..., Page], server: Server, shot: Shot) -> None:
    admin = new_page()
    admin.goto("/admin/users")
    admin.get_by_test_id("new-username").fill("newcomer")
    admin.get_by_test_id("new-role").select_option("viewer")
    admin.get_by_test_id("add-user-button").click()
    link = admin.get_by_test_id("new-link-url").inner_text().strip()
    assert "/login?token=" in link
    shot(admin, "admin-users-new-link")

    page = new_page(logged_in=False)
    page.goto(link)
    expect(page.get_by_test_id("link-username")).to_have_text("newcomer")
    page.get_by_test_id("link-login-button").click()
    expect(page).to_have_url(server.url + "/account?welcome=1")
    expect(page.get_by_test_id("welcome")).to_be_visible()
    page.get_by_test_id("new-password").fill("a long new password")
    page.get_by_test_id("confirm-password").fill("a long new password")
    page.get_by_test_id("save-password").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Your password is set")
    page.get_by_test_id("logout-button").click()
    log_in(page, "newcomer", "a long new password")
    expect(page.get_by_test_id("nav-role")).to_have_text("viewer")
    expect(page.get_by_test_id("model-list")).to_be_visible()
    expect(page.get_by_test_id("train-button")).to_have_count(0)  # viewers read only
    expect(page.get_by_test_id("nav-create")).to_have_count(0)
    expect(page.get_by_test_id("nav-users")).to_have_count(0)
    shot(page, "models-viewer")


def test_an_api_token_is_shown_once(page: Page, server: Server, shot: Shot) -> None:
    page.goto("/account")
    page.get_by_test_id("token-name").fill("e2e report")
    page.get_by_test_id("token-scope").select_option("predict")
    page.get_by_test_id("token-models").get_by_label("iris_species").check()
    page.get_by_test_id("create-token").click()
    value = page.get_by_test_id("new-token-value")
    expect(value).to_have_text(re.compile(r"^sq_\w+_\S+$"))
    token = value.inner_text().strip()
    expect(page.get_by_test_id("copy-token")).to_be_visible()
    shot(page, "account-new-token")
    row = page.get_by_test_id("token-row").filter(has_text="e2e report")
    expect(row).to_contain_text("iris_species")
    page.goto("/account")
    assert token not in page.content()  # shown once, never again
    row = page.get_by_test_id("token-row").filter(has_text="e2e report")
    expect(row.get_by_test_id("token-state")).to_have_text("active")
    with server.api() as client:
        client.headers["Authorization"] = f"Bearer {token}"
        assert client.get("/models").status_code == 403  # predict scope: online predictions only
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_test_id("revoke-token").click()
    expect(page.get_by_test_id("notice")).to_contain_text("revoked")
    expect(page.get_by_test_id("token-row").filter(has_text="e2e report").get_by_test_id("token-state")
           ).to_have_text("revoked")


def test_an_editor_sees_controls_only_on_their_own_models(new_page: Callable[..., Page], server: Server) -> None:
    ctx = open_context(Settings(home=server.home))
    try:
        authkit.user(ctx, "edna", Role.EDITOR)
    finally:
        ctx.close()
    page = new_page(logged_in=False)
    log_in(page, "edna", authkit.PASSWORD)
    card = page.locator("#model-house_quality")
    expect(card.get_by_test_id("read-only")).to_be_visible()
    expect(card.get_by_test_id("train-button")).to_have_count(0)
    expect(page.get_by_test_id("nav-create")).to_be_visible()
    expect(card.get_by_test_id("model-owner")).to_contain_text("admins")


def test_admin_audit_page_lists_what_happened(page: Page, shot: Shot) -> None:
    page.goto("/admin/audit")
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    page.get_by_test_id("filter-action").fill("session.login")
    page.get_by_test_id("apply-filters").click()
    rows = page.get_by_test_id("audit-row")
    expect(rows.first).to_contain_text("session.login")
    shot(page, "admin-audit-filtered")
    page.get_by_test_id("filter-actor").fill("nobody-at-all")
    page.get_by_test_id("apply-filters").click()
    expect(page.get_by_test_id("audit-empty")).to_contain_text("No events match these filters")
