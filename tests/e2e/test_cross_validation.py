"""Cross-validation in the browser (issue 14): the editor saves the folds and the order column; a
version's page shows each metric's holdout value beside its CV mean ± std and per-fold values."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.kit import Server

Shot = Callable[[Page, str], Path]
TRAINED = "house_cv_e2e"    # copies of the demo's house_quality (linear regression: trains fast)
EDITED = "house_cv_editor"


@pytest.fixture(scope="module")
def three_folds(server: Server) -> str:
    """TRAINED, set to 3 folds through the REST API and trained once."""
    with server.api() as client:
        client.post("/models/house_quality/duplicate", json={"new_name": TRAINED}).raise_for_status()
        client.patch(f"/models/{TRAINED}", json={"cv_folds": 3}).raise_for_status()
        run = client.post(f"/models/{TRAINED}/train").raise_for_status().json()
        assert server.wait_run(run["id"])["status"] == "succeeded"
    return TRAINED


def test_the_version_page_shows_the_cv_table(page: Page, three_folds: str, shot: Shot) -> None:
    page.goto(f"/models/{three_folds}/versions/1")
    expect(page.get_by_test_id("cv-method")).to_contain_text("3-fold on")
    table = page.get_by_test_id("cv-table")
    expect(table).to_be_visible()
    expect(table.locator("thead")).to_contain_text("fold 3")
    r2 = table.locator('[data-testid="cv-metric"][data-metric="r2"]')
    expect(r2.get_by_test_id("cv-mean")).to_have_text(re.compile(r"^-?\d+(\.\d+)? ± \d+(\.\d+)?$"))
    expect(r2.get_by_test_id("cv-fold")).to_have_count(3)
    expect(r2.get_by_test_id("cv-holdout")).not_to_have_text("—")
    shot(page, "version-cv-table")
    # the model's versions list shows the same mean ± std
    page.goto(f"/models/{three_folds}?tab=versions")
    expect(page.get_by_test_id("version-cv")).to_have_text(re.compile(r"^r2 -?\d+(\.\d+)? ± \d+(\.\d+)?$"))


def test_the_editor_saves_the_folds_and_the_order_column(page: Page, server: Server, shot: Shot) -> None:
    with server.api() as client:
        client.post("/models/house_quality/duplicate", json={"new_name": EDITED}).raise_for_status()
    page.goto(f"/models/{EDITED}/edit")
    group = page.get_by_test_id("cv-settings")
    expect(group).to_contain_text("Cross-validation")
    group.get_by_test_id("field-cv-folds").fill("4")
    group.get_by_test_id("field-order-column").fill("id")
    shot(page, "editor-cv-settings")
    page.get_by_test_id("save-button").click()
    expect(page.get_by_test_id("saved-notice")).to_have_text("Saved.")
    with server.api() as client:
        saved = client.get(f"/models/{EDITED}").raise_for_status().json()
    assert (saved["cv_folds"], saved["order_column"]) == (4, "id")
    # shown again when the editor opens; emptied, they go back to the defaults
    page.goto(f"/models/{EDITED}/edit")
    expect(page.get_by_test_id("field-cv-folds")).to_have_value("4")
    expect(page.get_by_test_id("field-order-column")).to_have_value("id")
    page.get_by_test_id("field-cv-folds").fill("")
    page.get_by_test_id("field-order-column").fill("")
    page.get_by_test_id("save-button").click()
    expect(page.get_by_test_id("saved-notice")).to_have_text("Saved.")
    expect(page.get_by_test_id("field-cv-folds")).to_have_value("")
    with server.api() as client:
        cleared = client.get(f"/models/{EDITED}").raise_for_status().json()
        client.delete(f"/models/{EDITED}").raise_for_status()
    assert (cleared["cv_folds"], cleared["order_column"]) == (None, None)
