"""Review 19 item 15: an ONNX export refused by its own equality check suggests the MLflow
export (as the model page does), and a ``save … as json.`` file, JSON lines, is downloaded
as JSON lines (application/x-ndjson) while a JSON document stays application/json."""

from __future__ import annotations

from fastapi.testclient import TestClient

from softquery.services.context import ServiceContext
from softquery.services.files import files_folder
from softquery.services.sql_scripts import run_script

from .conftest import assert_envelope, train_now


def test_an_onnx_export_that_predicts_otherwise_suggests_mlflow(ctx: ServiceContext, client: TestClient) -> None:
    train_now(ctx, "iris_species")  # a random forest: its ONNX probabilities differ beyond 1e-6
    error = assert_envelope(client.get("/api/v1/models/iris_species/export/onnx"), 422, "invalid_input")
    assert error["message"].startswith("The ONNX model's probabilities differ from softquery's"), error
    assert error["message"].endswith("the export was refused. The MLflow export keeps the scikit-learn pipeline "
                                     "itself: use it instead (softquery export --format mlflow, or "
                                     "/export/mlflow in the API).")


def test_json_lines_download_as_json_lines(ctx: ServiceContext, client: TestClient) -> None:
    answer = run_script(ctx, "select sepal_length_cm, species from iris limit 3 as t;\n"
                             "save overwrite t as json.`out/t.json`;", source="demo")
    assert answer.error is None, answer.error
    saved = client.get("/api/v1/files/out/t.json")
    assert saved.status_code == 200 and len(saved.text.splitlines()) == 3
    assert saved.headers["content-type"] == "application/x-ndjson"
    (files_folder(ctx) / "doc.json").write_text('{\n  "rows": [1, 2]\n}\n')
    (files_folder(ctx) / "one.json").write_text('{"rows": [1, 2]}')
    for name in ("doc.json", "one.json"):
        assert client.get(f"/api/v1/files/{name}").headers["content-type"] == "application/json", name
