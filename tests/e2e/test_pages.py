"""Every page in headless Chromium: it loads without console errors, fits 1280 px and a
375 px phone without horizontal scrolling, and its main controls are reachable by Tab.
Screenshots of each page at both widths go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.kit import (
    DESKTOP,
    PHONE,
    RUN_TIMEOUT_MS,
    ConsoleWatch,
    Server,
    card,
    horizontal_overflow,
)

Shot = Callable[[Page, str], Path]

# name, path ({model} and {run} are filled in), HTTP status
PAGES = [
    ("models", "/", 200),
    ("editor-new", "/new", 200),
    ("editor-edit", "/models/{model}/edit", 200),
    ("model-page", "/models/{model}", 200),
    ("version-page", "/models/{model}/versions/1", 200),
    ("runs", "/runs", 200),
    ("run-log", "/runs/{run}", 200),
    ("sources", "/sources", 200),
    ("account", "/account", 200),
    ("admin-users", "/admin/users", 200),
    ("admin-audit", "/admin/audit", 200),
    ("not-found", "/no/such/page", 404),
    ("model-not-found", "/models/no_such_model", 404),
]


def wait_until_drawn(page: Page, name: str) -> None:
    """Wait for what a page fills in after loading (charts, the output table, editors)."""
    expect(page.get_by_test_id("nav-home")).to_be_visible()
    expect(page.locator("h1")).to_be_visible()
    if name == "model-page":
        expect(page.get_by_test_id("confusion-matrix")).to_be_visible()
        # the output table is on its own tab (issue 12): loaded with the page, shown on that tab
        expect(page.get_by_test_id("output-preview").locator("tbody tr").first).to_be_attached()
        page.wait_for_function(
            "() => [...document.querySelectorAll('canvas')].every(c => window.Chart && Chart.getChart(c)"
            " && !Chart.getChart(c).animating)")
    if name.startswith("editor"):
        page.wait_for_function("() => window.softqueryEditors && window.softqueryEditors.code")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize(("name", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_page_fits_desktop_and_phone(name: str, path: str, status: int, new_page: Callable[..., Page],
                                     server: Server, trained_iris: str, console: ConsoleWatch, shot: Shot) -> None:
    with server.api() as client:
        run = client.get(f"/models/{trained_iris}/runs").raise_for_status().json()[0]["id"]
    url = path.format(model=trained_iris, run=run)
    if status == 404:
        console.allow_404(server.url + url)
    for suffix, viewport in (("", DESKTOP), ("-phone", PHONE)):
        page = new_page(viewport=viewport)
        response = page.goto(url)
        assert response is not None and response.status == status, f"{url} answered {response and response.status}"
        wait_until_drawn(page, name)
        if status == 404:
            expect(page.get_by_test_id("error-page")).to_be_visible()
            expect(page.get_by_test_id("error-home")).to_be_visible()
        shot(page, f"{name}{suffix}")
        assert horizontal_overflow(page) == 0, f"{url} scrolls sideways at {viewport['width']} px"
        nav = page.get_by_test_id("nav-create")
        expect(nav).to_be_in_viewport()


def tab_until(page: Page, wanted: set[str], limit: int = 120) -> list[str]:
    """Press Tab until every data-testid in ``wanted`` had the focus; Esc leaves a CodeMirror
    editor (Tab indents inside it). Returns the data-testids in the order they were reached."""
    reached: list[str] = []
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        testid = page.evaluate("""() => {
            const el = document.activeElement;
            if (el && el.closest('.CodeMirror')) return 'codemirror';
            return el ? el.getAttribute('data-testid') || el.tagName.toLowerCase() : '';
        }""")
        reached.append(testid)
        if testid == "codemirror":
            page.keyboard.press("Escape")
            reached.append(page.evaluate("() => document.activeElement.getAttribute('data-testid') || ''"))
        if wanted <= set(reached):
            break
    return reached


def focus_is_visible(page: Page) -> bool:
    return bool(page.evaluate("""() => {
        const s = getComputedStyle(document.activeElement);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
    }"""))


def test_tab_reaches_the_main_buttons(page: Page, trained_iris: str) -> None:
    page.goto("/")
    main = {"nav-home", "nav-models", "nav-runs", "nav-sources", "nav-create", "create-model",
            "model-link", "train-button", "predict-button", "edit-link"}
    reached = tab_until(page, main)
    assert main <= set(reached), f"Tab never reached {sorted(main - set(reached))}; got {reached}"

    # the first Train button on the page is reachable, visibly focused, and Enter presses it
    page.locator("body").focus()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.getAttribute('data-testid')") == "predict-button":
            break
    owner = str(page.evaluate("() => document.activeElement.closest('[data-model]').dataset.model"))
    assert focus_is_visible(page), "the focused Predict button has no visible focus ring"
    if owner == trained_iris:
        before = card(page, owner).get_by_test_id("run-result").get_attribute("data-run")
        page.keyboard.press("Enter")
        expect(card(page, owner).get_by_test_id("run-result")).not_to_have_attribute("data-run", str(before))
        expect(card(page, owner)).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)


def test_tab_reaches_the_editor_buttons(page: Page) -> None:
    page.goto("/new")
    page.wait_for_function("() => window.softqueryEditors && window.softqueryEditors.code")
    wanted = {"field-name", "field-source", "template-select", "load-template", "preview-button",
              "field-label", "save-button", "cancel-button"}
    reached = tab_until(page, wanted, limit=200)
    assert wanted <= set(reached), f"Tab never reached {sorted(wanted - set(reached))}; got {reached}"
    assert "codemirror" in reached  # the code editors are in the tab order too
    assert reached.index("template-select") < reached.index("preview-button") < reached.index("save-button")


def test_tab_reaches_the_model_page_controls(page: Page, trained_iris: str) -> None:
    # the model page is in tabs (issue 12): each tab's controls are reached on that tab
    for tab, wanted in (("overview", {"edit-link", "train-button", "predict-button"}),
                        ("use", {"snippet-tab-curl", "copy-curl"}), ("output", {"refresh-output"}),
                        ("runs", {"all-runs-link"})):
        page.goto(f"/models/{trained_iris}?tab={tab}")
        wanted = wanted | {f"model-tab-{tab}"}
        reached = tab_until(page, wanted)
        assert wanted <= set(reached), f"Tab never reached {sorted(wanted - set(reached))}; got {reached}"


def test_runs_filter_updates_the_list(page: Page, trained_iris: str) -> None:
    page.goto("/runs")
    expect(page.get_by_test_id("run-row").first).to_be_visible()
    page.get_by_test_id("filter-model").select_option(trained_iris)
    expect(page).to_have_url(re.compile(rf"model={trained_iris}"))
    page.get_by_test_id("filter-status").select_option("failed")
    expect(page).to_have_url(re.compile(r"status=failed"))
    expect(page.get_by_test_id("runs-empty")).to_have_text("No runs match these filters.")
    page.get_by_test_id("filter-status").select_option("succeeded")
    rows = page.get_by_test_id("run-row")
    expect(rows.first).to_be_visible()
    for i in range(rows.count()):
        expect(rows.nth(i)).to_have_attribute("data-status", "succeeded")
    page.get_by_test_id("run-link").first.click()
    expect(page.get_by_test_id("run-live")).to_have_attribute("data-status", "succeeded")


def test_sources_list_masks_passwords_and_tests_a_connection(page: Page, shot: Shot) -> None:
    page.goto("/sources")
    row = page.locator('[data-testid="source-row"][data-source="demo"]')
    expect(row).to_be_visible()
    row.get_by_test_id("test-source").click()
    expect(row.locator(".test-result")).to_contain_text(re.compile(r"\S"))
    expect(page.get_by_test_id("add-source-form")).to_be_visible()
    expect(page.get_by_test_id("source-url-input")).to_have_attribute("type", "password")


def test_tab_focus_is_never_hidden_under_the_save_bar(new_page: Callable[..., Page]) -> None:
    page = new_page(viewport=PHONE)
    page.goto("/new")
    page.wait_for_function("() => window.softqueryEditors && window.softqueryEditors.code")
    page.locator("body").focus()
    hidden: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        found = page.evaluate("""() => {
            const el = document.activeElement, bar = document.querySelector('.save-bar');
            if (el.closest('.CodeMirror')) return 'codemirror';
            if (el === document.body || bar.contains(el)) return '';
            const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
            return r.bottom > b.top + 1 && r.top < b.bottom ? (el.dataset.testid || el.id) : '';
        }""")
        if found == "codemirror":
            page.keyboard.press("Escape")
        elif found:
            hidden.append(found)
        if page.evaluate("() => document.activeElement.dataset.testid") == "save-button":
            break
    assert hidden == [], f"focused controls hidden under the save bar: {hidden}"
