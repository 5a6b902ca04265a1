"""The model page in headless Chromium (issue 12): its tabs (in the URL, by keyboard), and
"Call it over HTTP", whose snippets carry the Authorization header and, after one press,
a predict token for this model only that makes the pasted curl and Python calls work."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect
from tests.e2e.kit import PHONE, Server, horizontal_overflow

Shot = Callable[[Page, str], Path]
TABS = ("overview", "versions", "runs", "output", "use")


def shown_tab(page: Page) -> str:
    """The tab a person sees: the one marked selected, whose panel alone is visible."""
    selected = [t for t in TABS
                if page.get_by_test_id(f"model-tab-{t}").get_attribute("aria-selected") == "true"]
    visible = [t for t in TABS if page.get_by_test_id(f"panel-{t}").is_visible()]
    assert len(selected) == 1 and selected == visible, f"selected {selected}, visible panels {visible}"
    return selected[0]


def expect_tab(page: Page, tab: str) -> None:
    expect(page.get_by_test_id(f"model-tab-{tab}")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id(f"panel-{tab}")).to_be_visible()
    assert shown_tab(page) == tab


def focused_testid(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.getAttribute('data-testid')"))


def test_tabs_follow_the_url_and_the_keyboard(page: Page, server: Server, trained_iris: str, shot: Shot) -> None:
    page.goto(f"/models/{trained_iris}")
    expect_tab(page, "overview")
    expect(page.get_by_test_id("confusion-matrix")).to_be_visible()
    expect(page.get_by_test_id("versions-table")).to_be_hidden()

    # a click switches in place and the URL follows; a reload keeps the tab
    page.get_by_test_id("model-tab-versions").click()
    expect_tab(page, "versions")
    expect(page).to_have_url(re.compile(r"\?tab=versions$"))
    expect(page.get_by_test_id("versions-table")).to_be_visible()
    expect(page.get_by_test_id("confusion-matrix")).to_be_hidden()
    page.reload()
    expect_tab(page, "versions")

    # a link to a tab opens it (output: the prediction table's first rows)
    other = page.context.new_page()
    other.goto(f"/models/{trained_iris}?tab=output")
    expect_tab(other, "output")
    expect(other.get_by_test_id("output-preview").locator("tbody tr").first).to_be_visible()
    other.close()
    # an old link to a section (#versions) opens the tab that holds it
    page.goto(f"/models/{trained_iris}#versions")
    expect_tab(page, "versions")

    # keyboard: Tab reaches the selected tab only, arrows / Home / End move, Tab enters the panel
    page.goto(f"/models/{trained_iris}")
    page.locator("body").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        if focused_testid(page).startswith("model-tab-"):
            break
    assert focused_testid(page) == "model-tab-overview"
    page.keyboard.press("ArrowRight")
    assert focused_testid(page) == "model-tab-versions"
    expect_tab(page, "versions")
    expect(page).to_have_url(re.compile(r"\?tab=versions$"))
    page.keyboard.press("End")
    assert focused_testid(page) == "model-tab-use"
    expect_tab(page, "use")
    page.keyboard.press("ArrowRight")  # wraps around
    assert focused_testid(page) == "model-tab-overview"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert focused_testid(page) == "model-tab-output"
    expect_tab(page, "output")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect_tab(page, "runs")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('[role=tabpanel]').id") == "panel-runs"
    assert focused_testid(page) == "all-runs-link"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/runs\?model={trained_iris}$"))
    page.go_back()
    expect_tab(page, "runs")
    shot(page, "model-page-tab-runs")


def test_the_http_snippet_works_when_pasted(page: Page, server: Server, trained_iris: str, shot: Shot) -> None:
    page.goto(f"/models/{trained_iris}")
    page.get_by_test_id("model-tab-use").click()
    curl, python = page.get_by_test_id("snippet-curl"), page.get_by_test_id("snippet-python")
    expect(curl).to_contain_text("-H 'Authorization: Bearer YOUR_PREDICT_TOKEN'")
    expect(python).to_contain_text("headers={'Authorization': 'Bearer YOUR_PREDICT_TOKEN'}")
    expect(page.get_by_test_id("token-hint")).to_contain_text("replace YOUR_PREDICT_TOKEN")

    page.get_by_test_id("create-predict-token").click()
    expect(page.get_by_test_id("new-predict-token")).to_contain_text("shown only this once")
    expect(page.get_by_test_id("new-predict-token")).to_contain_text(trained_iris)
    expect(curl).not_to_contain_text("YOUR_PREDICT_TOKEN")
    found = re.search(r"Authorization: Bearer (\S+?)'", curl.inner_text())
    assert found, curl.inner_text()
    token = found.group(1)
    expect(python).to_contain_text(f"'Bearer {token}'")
    expect(page.get_by_test_id("create-predict-token")).to_have_count(0)
    shot(page, "model-page-http-token")

    # the snippets, as shown, answer with predictions
    done = subprocess.run(["bash", "-c", curl.inner_text()], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["model"] == trained_iris and len(answer["predictions"]) == 1, answer
    page.get_by_test_id("snippet-tab-python").click()
    done = subprocess.run([sys.executable, "-c", python.inner_text()], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "'predictions': [" in done.stdout, done.stdout

    # a predict token of this model only: no other model, nothing else
    with httpx.Client(base_url=server.url + "/api/v1", timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        refused = client.post("/models/house_quality/predict", json={"rows": [{"price": 1.0}]})
        assert refused.status_code == 403 and f"may only call the models: {trained_iris}" in refused.text
        assert client.get(f"/models/{trained_iris}").status_code == 403
    # shown once: never again on the page
    page.reload()
    expect(page.get_by_test_id("snippet-curl")).to_contain_text("YOUR_PREDICT_TOKEN")
    assert token not in page.content()


def test_every_tab_fits_a_phone(new_page: Callable[..., Page], trained_iris: str, shot: Shot) -> None:
    page = new_page(viewport=PHONE)
    for tab in TABS:
        page.goto(f"/models/{trained_iris}?tab={tab}")
        expect_tab(page, tab)
        page.wait_for_load_state("networkidle")
        assert horizontal_overflow(page) == 0, f"the {tab} tab scrolls sideways at {PHONE['width']} px"
        shot(page, f"model-page-{tab}-phone")
