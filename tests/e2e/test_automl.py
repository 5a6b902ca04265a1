"""AutoML on the version page, in headless Chromium (issue 14): a model made from the `auto`
template trains the template AutoML chose, and the version's page says which templates it
tried, their scores and why it chose this one; the model page offers the ONNX download the chosen
template allows (linear here), not what the saved `auto` template name would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.kit import Server

MODEL = "house_auto_e2e"  # the demo's house_quality rows (quality grows with price: a line)


@pytest.fixture(scope="module")
def auto_model(server: Server) -> str:
    with server.api() as client:
        client.post("/models", json={
            "name": MODEL, "source": "demo", "template": "auto", "label": "quality",
            "train_sql": "select id, price, quality from houses where quality is not null",
            "predict_sql": "select id, price from houses where quality is null"}).raise_for_status()
        run = client.post(f"/models/{MODEL}/train").raise_for_status().json()
        assert server.wait_run(run["id"])["status"] == "succeeded"
        assert client.get(f"/models/{MODEL}").json()["template"] == "auto"  # the next training chooses again
    return MODEL


def test_the_version_page_says_what_automl_tried_and_why(page: Page, auto_model: str,
                                                          shot: Callable[[Page, str], Path]) -> None:
    page.goto(f"/models/{auto_model}/versions/1")
    manifest = page.get_by_test_id("manifest")
    expect(manifest).to_contain_text("AutoML (regression, CV r2")  # what it measured
    for template in ("linear_regression", "ridge_regression", "knn_regressor", "random_forest_regressor"):
        expect(manifest).to_contain_text(template)  # which it tried, each with its score
    expect(manifest).to_contain_text("AutoML chose linear_regression: the best CV r2")  # and why
    expect(page.get_by_test_id("code")).to_contain_text("LinearRegression()")  # the version runs the choice
    shot(page, "version-automl")


def test_an_auto_model_that_chose_a_linear_template_offers_onnx(page: Page, auto_model: str) -> None:
    page.goto(f"/models/{auto_model}?tab=use")
    expect(page.get_by_test_id("export-onnx")).to_be_visible()
    expect(page.get_by_test_id("export-mlflow")).to_be_visible()
    expect(page.get_by_test_id("export-formats-note")).to_have_count(0)
