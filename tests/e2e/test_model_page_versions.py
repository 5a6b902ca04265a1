"""Versions one can open, and plain words on the model pages, in headless Chromium (issue 12):
each version's page shows its metrics, manifest, run and code diffed against the active
version, and activates it; the list card follows a rollback; messages carry no CLI flags or
error codes; numbers are rounded; score axes end at 1; a schedule reads as words."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.kit import ConsoleWatch, Server, card, expect_status

Shot = Callable[[Page, str], Path]
MODEL = "house_versions_e2e"  # a copy of the demo's house_quality (linear regression: trains fast)
ADDED_LINE = "# v2: the same model, with this comment"


def rounded(text: str) -> bool:
    """Shown to at most 3 significant digits (or as a whole number with thousands separators)."""
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text):
        return True
    return bool(re.fullmatch(r"-?\d+(\.\d+)?", text)) and len(re.sub(r"\D", "", text).lstrip("0")) <= 3


@pytest.fixture(scope="module")
def two_versions(server: Server) -> str:
    """MODEL trained twice through the REST API, its code changed in between (v2 active)."""
    with server.api() as client:
        client.post("/models/house_quality/duplicate", json={"new_name": MODEL}).raise_for_status()
        assert server.wait_run(client.post(f"/models/{MODEL}/train").raise_for_status().json()["id"]
                               )["status"] == "succeeded"
        code = client.get(f"/models/{MODEL}").raise_for_status().json()["code"]
        client.patch(f"/models/{MODEL}", json={"code": ADDED_LINE + "\n" + code}).raise_for_status()
        assert server.wait_run(client.post(f"/models/{MODEL}/train").raise_for_status().json()["id"]
                               )["status"] == "succeeded"
        assert client.get(f"/models/{MODEL}").json()["active_version"] == 2
    return MODEL


def test_every_version_has_a_page_with_its_diff_and_activate(page: Page, server: Server, two_versions: str,
                                                             console: ConsoleWatch, shot: Shot) -> None:
    page.goto(f"/models/{two_versions}?tab=versions")
    rows = page.get_by_test_id("version-row")
    expect(rows).to_have_count(2)
    page.locator('[data-testid="version-row"][data-version="1"]').get_by_test_id("version-link").click()

    expect(page).to_have_url(re.compile(rf"/models/{two_versions}/versions/1$"))
    expect(page.locator("h1")).to_have_text(f"{two_versions} v1")
    expect(page.get_by_test_id("active-note")).to_contain_text("The active version is v2")
    expect(page.get_by_test_id("active-marker")).to_have_count(0)
    # metrics beside the active version's, rounded for reading
    metrics = page.get_by_test_id("version-metrics")
    expect(metrics).to_contain_text("active v2")
    expect(metrics.locator('[data-metric="r2"]')).to_be_visible()
    values = page.get_by_test_id("metric-value").all_inner_texts()
    assert values and all(rounded(v) for v in values), values
    # the code against the active version: v2 added a line v1 does not have
    expect(page.get_by_test_id("diff-stats")).to_contain_text("0 lines only in v1")
    expect(page.get_by_test_id("diff-stats")).to_contain_text("1 line only in v2")
    removed = page.get_by_test_id("diff-del")
    expect(removed).to_have_count(1)
    expect(removed).to_contain_text(ADDED_LINE)
    expect(page.get_by_test_id("code-diff")).to_contain_text("Linear regression")  # context around the change
    expect(page.get_by_test_id("manifest")).to_contain_text("quality")
    run_link = page.get_by_test_id("version-run-link")
    expect(run_link).to_have_attribute("href", re.compile(r"^/runs/\w+$"))
    shot(page, "version-page")

    # Activate (here: roll back), post/redirect/get
    expect(page.get_by_test_id("activate-version")).to_have_text("Roll back to v1")
    page.get_by_test_id("activate-version").click()
    expect(page).to_have_url(re.compile(rf"/models/{two_versions}/versions/1\?notice=activated$"))
    expect(page.get_by_test_id("notice")).to_contain_text("Version 1 is now active")
    expect(page.get_by_test_id("active-marker")).to_be_visible()
    expect(page.get_by_test_id("activate-version")).to_have_count(0)
    expect(page.get_by_test_id("code")).to_contain_text("class Model")
    page.reload()  # a GET: nothing is posted again
    expect(page.get_by_test_id("active-marker")).to_be_visible()

    # v2, no longer active, now shows the line it adds
    page.goto(f"/models/{two_versions}/versions/2")
    expect(page.get_by_test_id("diff-add")).to_contain_text(ADDED_LINE)
    expect(page.get_by_test_id("activate-version")).to_have_text("Activate v2")
    page.get_by_test_id("version-run-link").click()
    expect(page).to_have_url(re.compile(r"/runs/\w+$"))

    # the list card follows the rollback: its last run says which version is active now
    page.goto("/")
    model = card(page, two_versions)
    expect(model.get_by_test_id("active-version")).to_have_text("v1")
    expect(model.get_by_test_id("run-summary")).to_contain_text("Trained version 2")
    expect(model.get_by_test_id("run-summary")).to_contain_text("version 1 is active now")
    # a version that does not exist: a page in plain words (no CLI hint, no error code)
    console.allow_404(f"{server.url}/models/{two_versions}/versions/9")
    response = page.goto(f"/models/{two_versions}/versions/9")
    assert response is not None and response.status == 404
    expect(page.get_by_test_id("error-message")).to_have_text(f"Model '{two_versions}' has no version 9.")
    expect(page.get_by_test_id("error-page")).not_to_contain_text("not_found")


def test_numbers_rounded_and_score_axis_ends_at_one(page: Page, server: Server) -> None:
    """A weak classifier (one column of iris): its f1 chart still ends at 1, the best f1 there is."""
    name = "iris_weak_e2e"
    with server.api() as client:
        client.post("/models/iris_species/duplicate", json={"new_name": name}).raise_for_status()
        client.patch(f"/models/{name}", json={
            "train_sql": "select id, sepal_width_cm, species from iris where split = 'train'",
            "predict_sql": "select id, sepal_width_cm from iris where split = 'new'"}).raise_for_status()
        run = client.post(f"/models/{name}/train").raise_for_status().json()
        assert server.wait_run(run["id"])["status"] == "succeeded"
        f1 = client.get(f"/models/{name}/versions/1").raise_for_status().json()["metrics"]["f1"]
    assert f1 < 0.85, f"f1 {f1}: too good to show that the axis does not just follow the data"
    page.goto(f"/models/{name}")
    key = page.get_by_test_id("key-metric").inner_text()
    assert re.fullmatch(r"f1 0\.\d{1,3}", key) and abs(float(key[3:]) - f1) < 0.0006, (key, f1)
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart-history'))")
    axis = page.evaluate("""() => { const y = Chart.getChart(document.getElementById('chart-history')).scales.y;
                                   return {max: y.max, min: y.min, top: y.ticks[y.ticks.length - 1].label}; }""")
    assert axis["max"] == 1 and axis["min"] == 0 and axis["top"] == "1", axis
    page.get_by_test_id("model-tab-versions").click()
    values = page.get_by_test_id("metric-value").all_inner_texts()
    assert values and all(rounded(v) for v in values), values


def test_web_messages_in_plain_words(page: Page, server: Server, two_versions: str) -> None:
    """A training that fails with a data error: the card says what went wrong without the CLI's
    flags (`--label`) or the error code (`data_error`)."""
    name = "house_words_e2e"
    with server.api() as client:
        client.post(f"/models/{two_versions}/duplicate", json={"new_name": name}).raise_for_status()
        client.patch(f"/models/{name}", json={"label": "no_such_column"}).raise_for_status()
    page.goto(f"/models/{name}")
    model = card(page, name)
    model.get_by_test_id("train-button").click()
    expect_status(page, name, "failed")
    page.get_by_test_id("model-tab-runs").click()
    page.reload()
    expect(page.get_by_test_id("run-row")).to_have_count(1)
    for where in (model, page.get_by_test_id("panel-runs")):
        text = where.inner_text()
        for unwanted in ("--label", "data_error", "softquery model", "`"):
            assert unwanted not in text, f"{unwanted!r} shown: {text}"
    expect(page.get_by_test_id("run-row")).to_contain_text("The label column 'no_such_column' is not among")
    expect(model.get_by_test_id("run-error-title")).to_have_text("The rows cannot be used")
    expect(model.get_by_test_id("run-error-message")).to_contain_text("pick another label column")
    expect(model.get_by_test_id("run-summary")).to_contain_text("Failed: the rows cannot be used.")
    model.get_by_test_id("run-link").click()
    expect(page.get_by_test_id("run-error-message")).to_contain_text("pick another label column")
    assert "--label" not in page.locator("main").inner_text()
    with server.api() as client:  # the API keeps its own words
        run = client.get(f"/models/{name}/runs").raise_for_status().json()[0]
        assert run["error"]["code"] == "data_error" and "--label" in run["error"]["message"]


def test_the_schedule_in_words(page: Page, server: Server, two_versions: str) -> None:
    with server.api() as client:
        client.patch(f"/models/{two_versions}", json={"schedule": "weekly"}).raise_for_status()
    now = datetime.now(UTC)
    monday = (now + timedelta(days=(7 - now.weekday()) % 7 or 7)).date()
    year = f" {monday.year}" if monday.year != now.year else ""
    expected = f"Mondays 00:00 UTC, next {monday.day} {monday.strftime('%b')}{year}"
    page.goto(f"/models/{two_versions}")
    expect(page.get_by_test_id("schedule-words").first).to_have_text(expected)
    expect(page.get_by_test_id("schedule")).to_contain_text("Scheduled train: " + expected)
    page.goto("/")
    expect(card(page, two_versions).get_by_test_id("next-run")).to_have_text(expected + " (train)")
    with server.api() as client:
        client.patch(f"/models/{two_versions}", json={"schedule": None}).raise_for_status()
