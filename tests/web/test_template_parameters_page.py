"""The page of a model made by CREATE MODEL with template parameters (review 19 item 4): it is
the k-means template, so ONNX and MLflow downloads are offered and no JSON export link that
could only answer 422 (the JSON export is for linear models)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.web.html import element, has_testid

from softquery.services.context import ServiceContext
from softquery.services.sql_scripts import run_script


def test_a_kmeans_with_num_clusters_offers_onnx_and_no_json_link(demo_ctx: ServiceContext,
                                                                  demo_client: TestClient) -> None:
    answer = run_script(demo_ctx, "CREATE OR REPLACE MODEL demo.km OPTIONS(model_type='kmeans', num_clusters=3) "
                                  "AS SELECT sepal_length_cm, petal_length_cm FROM iris", wait=True)
    assert answer.error is None, answer.error
    html = demo_client.get("/models/km?tab=use").text
    assert not has_testid(html, "export-json") and "Download JSON export" not in html
    assert "only available for linear models" in element(html, "export-unavailable")
    assert has_testid(html, "export-onnx") and has_testid(html, "export-mlflow")
    assert "runs your own code" not in html
