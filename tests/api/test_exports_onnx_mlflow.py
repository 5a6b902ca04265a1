"""ONNX and MLflow exports (issue 14 item 5): the exported model predicts what softquery
predicts on rows it was not trained on (the demo's 'new' rows), 1e-6 relative; a model
that cannot convert, and user code, are refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from softquery.data import FeatureSpec, frame_for_prediction, open_source
from softquery.errors import InvalidInputError
from softquery.services import model_exports
from softquery.services.context import ServiceContext
from softquery.services.versions import get_version, load_version

from .conftest import assert_envelope, train_now

CASES = [("house_quality", "regression"), ("wine_cultivar", "classification")]


def holdout(ctx: ServiceContext, model: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    """X of the model's predict query (rows not trained on) and softquery's answers for them."""
    found = get_version(ctx, model)
    features = [FeatureSpec(**f) for f in found.manifest["data"]["features"]]
    with open_source(ctx.sources.get("demo").url) as conn:
        table = conn.read_table(ctx.models.get(model).predict_sql, what="predict query")
    X = frame_for_prediction(table, features)
    trained = load_version(ctx, found)
    proba = trained.predict_proba(X) if hasattr(trained, "predict_proba") else None
    return X, np.asarray(trained.predict(X)), proba


@pytest.mark.parametrize(("model", "task"), CASES)
def test_onnx_export_predicts_like_softquery(ctx: ServiceContext, tmp_path: Path, model: str, task: str) -> None:
    import onnx
    import onnxruntime as ort

    train_now(ctx, model)
    result = model_exports.export_version(ctx, model, "onnx")
    assert result.check["rows"] > 0 and result.check["relative_tolerance"] == 1e-6
    path = model_exports.write_export(result, tmp_path / "m.onnx")
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["softquery_model"] == model and meta["softquery_version"] == "1"
    inputs = json.loads(meta["softquery_inputs"])
    X, expected, proba = holdout(ctx, model)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    columns = [c for c in X.columns]
    assert [i["kind"] for i in inputs] == ["numeric"] * len(columns)
    feeds = {i.name: X[c].to_numpy(dtype=np.float64).reshape(-1, 1)
             for i, c in zip(session.get_inputs(), columns, strict=True)}
    outputs = session.run(None, feeds)
    if task == "regression":
        np.testing.assert_allclose(outputs[0].ravel(), expected.astype(float), rtol=1e-6)
    else:
        assert list(outputs[0].ravel()) == list(expected)
        assert proba is not None
        np.testing.assert_allclose(outputs[1], proba, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(("model", "task"), CASES)
def test_mlflow_export_loads_and_predicts_like_softquery(ctx: ServiceContext, tmp_path: Path,
                                                         model: str, task: str) -> None:
    import mlflow.pyfunc

    train_now(ctx, model)
    result = model_exports.export_version(ctx, model, "mlflow")
    folder = model_exports.write_export(result, tmp_path / "mlflow_model")
    assert {"MLmodel", "model.pkl", "requirements.txt", "python_env.yaml"} <= {p.name for p in folder.iterdir()}
    loaded = mlflow.pyfunc.load_model(str(folder))
    assert loaded.metadata.metadata["model"] == model and loaded.metadata.metadata["version"] == 1
    signature = loaded.metadata.get_input_schema()
    assert signature is not None and signature.input_names() == [f["name"] for f in
                                                                 get_version(ctx, model).manifest["data"]["features"]]
    X, expected, _ = holdout(ctx, model)
    got = np.asarray(loaded.predict(X))
    if task == "regression":
        np.testing.assert_allclose(got.astype(float), expected.astype(float), rtol=1e-6)
    else:
        assert list(got) == list(expected)


def test_a_model_that_cannot_convert_says_which_step_and_why(ctx: ServiceContext) -> None:
    train_now(ctx, "sms_kind")  # naive Bayes over a free-text column (TF-IDF)
    with pytest.raises(InvalidInputError) as refused:
        model_exports.export_version(ctx, "sms_kind", "onnx")
    assert "cannot convert step AutoPreprocessor: column 'message' is free text" in refused.value.message
    assert refused.value.details["step"] == "AutoPreprocessor"


def test_a_step_skl2onnx_cannot_convert_is_refused_in_one_plain_sentence(ctx: ServiceContext) -> None:
    """Review 14: svm_regressor's TransformedTargetRegressor has no skl2onnx converter: the message
    names the template and step, says why in one sentence and points to MLflow; skl2onnx's own
    multi-line text is whole in the details, not cut into the message."""
    from softquery.modelcode.templates import template_code

    model = ctx.models.get("house_quality")
    model.template, model.code, model.cv_folds = "svm_regressor", template_code("svm_regressor"), 2
    ctx.models.save(model)
    train_now(ctx, "house_quality")
    with pytest.raises(InvalidInputError) as refused:
        model_exports.export_version(ctx, "house_quality", "onnx")
    assert refused.value.message == (
        "ONNX export cannot convert the template svm_regressor's step TransformedTargetRegressor: skl2onnx, the "
        "ONNX converter, has no converter for scikit-learn's TransformedTargetRegressor. Use --format mlflow "
        "instead: it keeps the scikit-learn pipeline itself.")
    assert refused.value.details["step"] == "TransformedTargetRegressor"
    assert refused.value.details["skl2onnx"].rstrip().endswith("Examples can be found in the gallery.")


def test_a_tree_model_is_refused_with_the_converters_reason(ctx: ServiceContext) -> None:
    train_now(ctx, "iris_species")  # a random forest: skl2onnx converts trees in single precision only
    with pytest.raises(InvalidInputError) as refused:
        model_exports.export_version(ctx, "iris_species", "onnx")
    assert "RandomForestClassifier" in refused.value.message or "differ" in refused.value.message


@pytest.mark.parametrize("fmt", ["onnx", "mlflow"])
def test_user_code_export_is_refused_with_a_reason(ctx: ServiceContext, fmt: str) -> None:
    from softquery.modelcode.templates import template_code
    from softquery.services import models

    models.update_model(ctx, "house_quality", models.ModelSpec(code=template_code("linear_regression")))
    train_now(ctx, "house_quality")
    with pytest.raises(InvalidInputError) as refused:
        model_exports.export_version(ctx, "house_quality", fmt)
    assert "runs your own model code, not a template" in refused.value.message
    assert refused.value.details["reason"] == "user_code"


def test_api_downloads_onnx_and_mlflow_zip(client: TestClient, ctx: ServiceContext) -> None:
    import io
    import zipfile

    train_now(ctx, "house_quality")
    onnx_file = client.get("/api/v1/models/house_quality/export/onnx")
    assert onnx_file.status_code == 200, onnx_file.text
    assert 'filename="house_quality_v1.onnx"' in onnx_file.headers["content-disposition"]
    assert onnx_file.content[:2] == b"\x08\x09" or len(onnx_file.content) > 100
    archive = client.get("/api/v1/models/house_quality/versions/1/export/mlflow")
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert "house_quality_v1/MLmodel" in names and "house_quality_v1/model.pkl" in names
    assert client.get("/api/v1/models/house_quality/export/pmml").status_code == 422
    train_now(ctx, "sms_kind")
    error = assert_envelope(client.get("/api/v1/models/sms_kind/export/onnx"), 422, "invalid_input")
    assert "free text" in error["message"]
