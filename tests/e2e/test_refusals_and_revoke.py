"""REVIEW_19 #16, #8 and #13 in a real browser: a refused Remove source leaves the browser on
/sources (a reload sends no POST); the Revoke dialog names which of two same-named tokens it
revokes (scope, start of the token, creation time); a run page's Stop pressed after the run
ended says there was nothing to stop."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, Request, expect
from tests.e2e.kit import Server

from softquery.config import Settings
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.services.context import open_context


def test_a_refused_remove_lands_on_the_sources_page_and_a_reload_sends_no_post(page: Page, server: Server) -> None:
    page.goto("/sources")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('[data-source="demo"]').get_by_test_id("remove-source").click()
    expect(page.get_by_test_id("remove-error")).to_contain_text("house_quality")
    expect(page).to_have_url(re.compile(r"/sources\?"))
    sent: list[str] = []

    def note(request: Request) -> None:
        if request.is_navigation_request():
            sent.append(request.method)

    page.on("request", note)
    page.reload()
    expect(page.get_by_test_id("remove-error")).to_contain_text("delete or move them first")
    assert sent == ["GET"], sent
    expect(page.locator('[data-source="demo"]')).to_have_count(1)


def test_the_revoke_dialog_tells_two_tokens_of_one_name_apart(page: Page, server: Server) -> None:
    for scope in ("predict", "full"):
        page.goto("/account")
        page.get_by_test_id("token-name").fill("rv19 twin")
        page.get_by_test_id("token-scope").select_option(scope)
        page.get_by_test_id("create-token").click()
        expect(page.get_by_test_id("new-token-value")).to_be_visible()
    page.goto("/account")
    rows = page.get_by_test_id("token-row").filter(has_text="rv19 twin")
    expect(rows).to_have_count(2)
    prefixes = [rows.nth(i).get_attribute("data-prefix") or "" for i in range(2)]
    scopes = [rows.nth(i).locator("td").nth(2).inner_text().strip() for i in range(2)]
    assert sorted(scopes) == ["full", "predict"] and all(prefixes) and prefixes[0] != prefixes[1]
    full = scopes.index("full")
    asked: list[str] = []

    def say_yes(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", say_yes)
    rows.nth(full).get_by_test_id("revoke-token").click()
    expect(page.get_by_test_id("notice")).to_contain_text("revoked")
    assert len(asked) == 1, asked
    question = asked[0]
    assert re.fullmatch(r"Revoke the full token rv19 twin \(starts " + re.escape(prefixes[full])
                        + r"…, created \d{4}-\d\d-\d\d \d\d:\d\d UTC\)\? Programs using it stop working\.",
                        question), question
    assert prefixes[1 - full] not in question
    states = {p: page.locator(f'[data-testid="token-row"][data-prefix="{p}"]').get_by_test_id("token-state")
              for p in prefixes}
    expect(states[prefixes[full]]).to_have_text("revoked")
    expect(states[prefixes[1 - full]]).to_have_text("active")


def test_a_stop_pressed_after_the_run_ended_says_nothing_was_stopped(page: Page, server: Server) -> None:
    ctx = open_context(Settings(home=server.home))
    try:
        run = ctx.runs.create("house_quality", RunKind.TRAIN, RunTrigger.WEB)
        ctx.runs.mark_running(run.id)  # a run no job runs: its page shows Stop until it ends
        page.route(f"**/runs/{run.id}/live*", lambda route: route.abort())  # the page keeps its Stop button
        page.goto(f"/runs/{run.id}")
        expect(page.get_by_test_id("stop-run-button")).to_be_visible()
        ctx.runs.finish(run.id, RunStatus.SUCCEEDED)  # it ends before the person presses Stop
        page.get_by_test_id("stop-run-button").click()
        expect(page.get_by_test_id("stop-ended")).to_have_text(
            f"Run {run.id} had already succeeded; nothing to stop.")
        expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
        assert ctx.runs.get(run.id).status is RunStatus.SUCCEEDED
    finally:
        ctx.close()
