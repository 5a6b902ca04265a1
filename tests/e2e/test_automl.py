"""AutoML on the version page, in headless Chromium (issue 14): a model made from the `auto`
template trains the template AutoML chose, and the version's page says which templates it
tried, their scores and why it chose this one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.e2e.kit import Server

MODEL = "house_auto_e2e"  # the demo's house_quality rows (quality grows with price: a line)


def test_the_version_page_says_what_automl_tried_and_why(page: Page, server: Server,
                                                          shot: Callable[[Page, str], Path]) -> None:
    with server.api() as client:
        client.post("/models", json={
            "name": MODEL, "source": "demo", "template": "auto", "label": "quality",
            "train_sql": "select id, price, quality from houses where quality is not null",
            "predict_sql": "select id, price from houses where quality is null"}).raise_for_status()
        run = client.post(f"/models/{MODEL}/train").raise_for_status().json()
        assert server.wait_run(run["id"])["status"] == "succeeded"
        assert client.get(f"/models/{MODEL}").json()["template"] == "auto"  # the next training chooses again

    page.goto(f"/models/{MODEL}/versions/1")
    manifest = page.get_by_test_id("manifest")
    expect(manifest).to_contain_text("AutoML (regression, CV r2")  # what it measured
    for template in ("linear_regression", "ridge_regression", "knn_regressor", "random_forest_regressor"):
        expect(manifest).to_contain_text(template)  # which it tried, each with its score
    expect(manifest).to_contain_text("AutoML chose linear_regression: the best CV r2")  # and why
    expect(page.get_by_test_id("code")).to_contain_text("LinearRegression()")  # the version runs the choice
    shot(page, "version-automl")
