"""ONNX and MLflow downloads on the model page's "Use it elsewhere" tab (issue 14 item 5), in
headless Chromium: a trained linear model offers both, each download is a real ONNX file /
MLflow directory zip of the active version; an untrained model says why there is none."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.kit import Server

MODEL = "house_exports_e2e"  # a copy of the demo's house_quality (linear regression: trains fast)


@pytest.fixture(scope="module")
def trained(server: Server) -> str:
    with server.api() as client:
        client.post("/models/house_quality/duplicate", json={"new_name": MODEL}).raise_for_status()
        assert server.wait_run(client.post(f"/models/{MODEL}/train").raise_for_status().json()["id"]
                               )["status"] == "succeeded"
    return MODEL


def test_model_page_downloads_onnx_and_mlflow(page: Page, server: Server, trained: str) -> None:
    import onnx

    page.goto(f"/models/{trained}?tab=use")
    expect(page.get_by_test_id("export-formats-note")).to_have_count(0)
    with page.expect_download() as onnx_download:
        page.get_by_test_id("export-onnx").click()
    assert onnx_download.value.suggested_filename == f"{trained}_v1.onnx"
    graph = onnx.load(onnx_download.value.path())
    assert {p.key: p.value for p in graph.metadata_props}["softquery_model"] == trained
    with page.expect_download() as zip_download:
        page.get_by_test_id("export-mlflow").click()
    assert zip_download.value.suggested_filename == f"{trained}_v1_mlflow.zip"
    with open(zip_download.value.path(), "rb") as handle:
        names = zipfile.ZipFile(io.BytesIO(handle.read())).namelist()
    assert f"{trained}_v1/MLmodel" in names and f"{trained}_v1/model.pkl" in names


def test_untrained_model_says_why_there_is_no_export(page: Page, server: Server) -> None:
    with server.api() as client:
        client.post("/models/house_quality/duplicate", json={"new_name": "house_untrained_e2e"}).raise_for_status()
    page.goto("/models/house_untrained_e2e?tab=use")
    expect(page.get_by_test_id("export-formats-note")).to_contain_text("Train the model first")
    expect(page.get_by_test_id("export-onnx")).to_have_count(0)
    expect(page.get_by_test_id("export-mlflow")).to_have_count(0)


def test_a_kmeans_made_with_num_clusters_offers_onnx_and_no_json_link(page: Page, server: Server) -> None:
    """Review 19 item 4: CREATE MODEL with a template parameter is still the k-means template, so
    the page offers ONNX and MLflow, and no JSON export link (JSON is for linear models)."""
    with server.api() as client:
        answer = client.post("/sql", json={"sql": "CREATE OR REPLACE MODEL demo.km_e2e OPTIONS(model_type='kmeans', "
                                                  "num_clusters=3) AS SELECT sepal_length_cm, petal_length_cm FROM iris",
                                           "wait": True}).raise_for_status().json()
        assert "version 1 trained" in str(answer), answer
    page.goto("/models/km_e2e?tab=use")
    expect(page.get_by_test_id("export-unavailable")).to_contain_text("only available for linear models")
    expect(page.get_by_text("Download JSON export")).to_have_count(0)
    expect(page.get_by_test_id("export-onnx")).to_be_visible()
    expect(page.get_by_test_id("export-mlflow")).to_be_visible()
    expect(page.get_by_test_id("export-formats-note")).to_have_count(0)
