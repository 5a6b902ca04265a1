"""The editor's search rows follow the template picked in the dropdown, before saving, in
headless Chromium: one row per parameter of the chosen template (its hint under the name),
values typed for a parameter the new template also has are kept, and what is saved is the
new template's search."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect
from tests.e2e.kit import Server

NAME = "house_search_rows_e2e"  # a copy of the demo's house_quality (linear regression)


def _params(page: Page) -> list[str]:
    rows = page.get_by_test_id("search-form").get_by_test_id("search-param-row")
    return [str(rows.nth(i).get_attribute("data-param")) for i in range(rows.count())]


def _row(page: Page, param: str) -> Locator:
    return page.get_by_test_id("search-form").locator(f'[data-testid="search-param-row"][data-param="{param}"]')


def test_the_rows_follow_the_chosen_template_and_keep_shared_values(page: Page) -> None:
    page.goto("/new?template=random_forest_regressor")
    expect(_row(page, "n_estimators")).to_have_count(1)
    _row(page, "max_depth").get_by_test_id("search-param-values").fill("3, 5")
    _row(page, "n_estimators").get_by_test_id("search-param-values").fill("50")
    page.get_by_test_id("template-select").select_option("hist_gradient_boosting_regressor")
    expect(_row(page, "learning_rate")).to_have_count(1)
    assert _params(page) == ["learning_rate", "max_iter", "max_depth", "max_leaf_nodes", "l2_regularization", ""]
    expect(_row(page, "max_depth").get_by_test_id("search-param-values")).to_have_value("3, 5")  # kept
    expect(_row(page, "learning_rate").get_by_test_id("search-param-values")).to_have_value("")
    expect(_row(page, "learning_rate")).to_contain_text("range")  # the new parameter's hint
    expect(_row(page, "learning_rate").get_by_test_id("search-param-values")).to_have_attribute(
        "aria-label", "values of learning_rate")


def test_a_search_for_the_newly_chosen_template_is_saved(page: Page, server: Server) -> None:
    with server.api() as client:
        client.post("/models/house_quality/duplicate", json={"new_name": NAME}).raise_for_status()
    page.goto(f"/models/{NAME}/edit")
    expect(_row(page, "fit_intercept")).to_have_count(1)
    page.get_by_test_id("template-select").select_option("ridge_regression")
    expect(_row(page, "fit_intercept")).to_have_count(0)
    _row(page, "alpha").get_by_test_id("search-param-values").fill("0.1, 1")
    page.get_by_test_id("field-search-method").select_option("grid")
    page.get_by_test_id("save-button").click()
    expect(page).to_have_url(re.compile(r"saved=1"))
    with server.api() as client:
        saved = client.get(f"/models/{NAME}").raise_for_status().json()
    assert saved["template"] == "ridge_regression"
    assert saved["search"]["params"] == {"alpha": {"values": [0.1, 1]}}
