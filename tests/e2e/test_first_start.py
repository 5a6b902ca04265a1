"""The first page anyone sees: the server's address opened without a login is a plain login
page (no error banner: not being logged in yet is no mistake), and logging in there leads on
to the models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.e2e.kit import ADMIN, PASSWORD, ConsoleWatch, Server

Shot = Callable[[Page, str], Path]


def test_the_first_page_is_a_plain_login_page(new_page: Callable[..., Page], server: Server,
                                              console: ConsoleWatch, shot: Shot) -> None:
    console.allow_status(server.url + "/", 401)  # the answer's status, which no person sees
    page = new_page(logged_in=False)
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in to softquery")).to_be_visible()
    expect(page.get_by_test_id("login-username")).to_be_focused()
    shot(page, "first-start")
    expect(page.get_by_test_id("login-message")).to_have_count(0)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator(".alert, .field-error")).to_have_count(0)
    expect(page.get_by_test_id("flash")).to_be_empty()
    # whoever just ran `make run` learns where their way in is
    expect(page.get_by_test_id("login-hint")).to_contain_text("Open the link softquery serve printed")
    page.get_by_test_id("login-username").fill(ADMIN)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-button").click()
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_test_id("model-list")).to_be_visible()
