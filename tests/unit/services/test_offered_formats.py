"""Which ONNX / MLflow downloads a version's page offers, and the reason in words when not:
the template a version really runs (AutoML's choice for an `auto` model) decides."""

from __future__ import annotations

from softquery.services.model_exports import offered_formats


def test_an_auto_version_is_judged_by_the_template_automl_chose() -> None:
    chose = {"template": "auto", "selection": {"kind": "auto", "auto": "auto", "chosen": "ridge_regression"}}
    assert offered_formats(chose) == {"onnx": True, "mlflow": True, "note": None}


def test_a_random_forest_gets_mlflow_and_a_note_naming_what_onnx_covers() -> None:
    found = offered_formats({"template": "auto",
                             "selection": {"kind": "auto", "chosen": "random_forest_regressor"}})
    assert (found["onnx"], found["mlflow"]) == (False, True)
    assert found["note"].startswith("ONNX export covers linear models, k-NN, SVM classifiers and k-means; "
                                    "this version is a random forest")


def test_own_code_gets_neither() -> None:
    found = offered_formats({"template": None, "data": {"fingerprint": "abc"}})
    assert (found["onnx"], found["mlflow"]) == (False, False)
    assert "your own code" in found["note"]
