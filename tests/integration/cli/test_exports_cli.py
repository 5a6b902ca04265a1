"""`softquery export --format onnx|mlflow` and `softquery import --format mlflow` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from tests.integration.cli.cli_harness import SoftqueryCLI


def test_export_onnx_and_mlflow_then_import_the_mlflow_directory(sq: SoftqueryCLI, tmp_path: Path) -> None:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    sq("demo")
    sq("train", "house_quality")
    onnx_file = tmp_path / "house.onnx"
    done = sq("export", "house_quality", "--format", "onnx", "-o", str(onnx_file))
    assert onnx_file.stat().st_size > 100 and "checked on" in done.out
    folder = tmp_path / "house_mlflow"
    sq("export", "house_quality", "--format", "mlflow", "-o", str(folder))
    assert json.loads((folder / "MLmodel").read_text())["metadata"]["model"] == "house_quality"
    again = sq("export", "house_quality", "--format", "mlflow", "-o", str(folder), ok=False)
    assert again.code == 2 and "not an empty directory" in again.err

    X = pd.DataFrame({"price": np.linspace(100.0, 900.0, 30)})
    saved = tmp_path / "lr"
    model = LinearRegression().fit(X, X["price"] / 100.0)
    mlflow.sklearn.save_model(model, str(saved), signature=infer_signature(X, model.predict(X)))
    imported = sq("import", "house_quality", str(saved), "--format", "mlflow")
    assert "as version 2 of house_quality" in imported.out and "softquery activate house_quality 2" in imported.out
    listed = sq("versions", "house_quality", "--json").json()
    assert [v["version"] for v in listed] == [1, 2]
    # softquery's own MLflow export imports back (a scikit-learn Pipeline; its signature is the feature schema)
    sq("import", "house_quality", str(folder), "--activate")
    shown = sq("model", "show", "house_quality", "--json").json()
    assert shown["active_version"] == 3
    missing = sq("import", "no_such_model", str(saved), ok=False)
    assert missing.code == 4
