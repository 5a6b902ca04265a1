"""The editor's search form keeps what it cannot change: a parameter searched over its
defaults shows as "defaults" and is saved back unchanged; values and a range together are
refused at the search form, in plain words (no command-line flags)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.e2e.kit import Server

NAME = "forest_search"
SEARCH = {"method": "grid", "params": {"max_depth": {}, "min_samples_leaf": {"values": [1, 5]}}}


def _make_model(server: Server) -> None:
    with server.api() as client:
        if client.get(f"/models/{NAME}").status_code == 200:
            client.patch(f"/models/{NAME}", json={"search": SEARCH}).raise_for_status()
            return
        house = client.get("/models/house_quality").raise_for_status().json()
        client.post("/models", json={"name": NAME, "source": house["source"], "template": "random_forest_regressor",
                                     "train_sql": house["train_sql"], "predict_sql": house["predict_sql"],
                                     "label": house["label"], "search": SEARCH}).raise_for_status()


def _saved_search(server: Server) -> object:
    with server.api() as client:
        return client.get(f"/models/{NAME}").raise_for_status().json()["search"]


def test_a_parameter_searched_over_its_defaults_survives_saving_unchanged(page: Page, server: Server) -> None:
    _make_model(server)
    page.goto(f"/models/{NAME}/edit")
    form = page.get_by_test_id("search-form")
    depth = form.locator('[data-testid="search-param-row"][data-param="max_depth"]')
    expect(depth.get_by_test_id("search-param-values")).to_have_value("defaults")
    page.get_by_test_id("save-button").click()
    expect(page).to_have_url(re.compile(r"saved=1"))
    assert _saved_search(server) == SEARCH


def test_values_and_a_range_together_are_refused_at_the_search_form(page: Page, server: Server) -> None:
    _make_model(server)
    page.goto(f"/models/{NAME}/edit")
    form = page.get_by_test_id("search-form")
    leaf = form.locator('[data-testid="search-param-row"][data-param="min_samples_leaf"]')
    leaf.get_by_test_id("search-param-low").fill("3")
    page.get_by_test_id("save-button").click()
    error = page.get_by_test_id("error-search")
    expect(error).to_contain_text("min_samples_leaf: give either values to try or a low and a high, not both")
    assert "--" not in error.inner_text()
    leaf.get_by_test_id("search-param-values").fill("")
    page.get_by_test_id("save-button").click()
    expect(page.get_by_test_id("error-search")).to_contain_text("a range needs both a low and a high")
    assert "--" not in page.get_by_test_id("error-search").inner_text()
    assert _saved_search(server) == SEARCH
