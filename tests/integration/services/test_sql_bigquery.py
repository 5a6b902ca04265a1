"""A BigQuery ML walkthrough on the demo tables: CREATE MODEL, the ML table functions, DROP MODEL.

The ML functions' answers, run as SELECTs through ``run_script`` (the planner places them
in the query), equal what the services (and so the CLI: ``softquery version show``,
``softquery export``) show for the same model and version.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from tests.integration.services.helpers import PASSWORD, as_user

from softquery.domain.accounts import Role
from softquery.services import accounts
from softquery.services.context import ServiceContext
from softquery.services.demo import create_demo
from softquery.services.export import export_json
from softquery.services.sql_ml_functions import TABLE_FUNCTIONS
from softquery.services.sql_scripts import run_script
from softquery.services.sql_session import Session
from softquery.services.versions import get_version
from softquery.sql.dialect import MLFunction
from softquery.sql.parse import parse_script
from softquery.sql.statements import Query
from softquery.training.metrics import classification_metrics

WINE = ("SELECT id, alcohol, malic_acid, ash, flavanoids, color_intensity, proline, cultivar "
        "FROM wine WHERE split = 'train'")
SCRIPT = f"""
-- three BigQuery ML models on the demo tables
CREATE MODEL demo.house_price_quality
  OPTIONS(model_type='linear_reg', input_label_cols=['quality'], id_columns=['id'])
AS SELECT id, price, quality FROM houses WHERE quality IS NOT NULL;

CREATE MODEL wine_kind
  OPTIONS(model_type='logistic_reg', input_label_cols=['cultivar'], l2_reg=0.5, max_iterations=500)
AS {WINE};

CREATE MODEL cancer_trees
  OPTIONS(model_type='boosted_tree_classifier', input_label_cols=['diagnosis'], learn_rate=0.1,
          max_iterations=30, data_split_method='RANDOM', data_split_eval_fraction=0.25)
AS SELECT * FROM breast_cancer WHERE split = 'train';
"""


@pytest.fixture
def walked(ctx: ServiceContext) -> ServiceContext:
    create_demo(ctx)
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    accounts.add_user(ctx, "vic", Role.VIEWER, PASSWORD)
    answer = run_script(as_user(ctx, "ann"), SCRIPT, source="demo", wait=True)
    assert answer.error is None, answer.error
    assert [r.message.split(",")[0] for r in answer.results] == [
        "model house_price_quality: version 1 trained", "model wine_kind: version 1 trained",
        "model cancer_trees: version 1 trained"]
    return ctx


class Failed(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.message, self.details = str(error["message"]), dict(error["details"])


def call(ctx: ServiceContext, sql: str) -> pa.Table:
    """The rows of one SELECT, through the SQL surface (``Failed`` with its error)."""
    answer = run_script(ctx, sql, source="demo", max_rows=100_000)
    if answer.error is not None:
        raise Failed(answer.error)
    (result,) = answer.results
    assert result.kind == "table" and not result.truncated
    return pa.Table.from_pylist([dict(zip([c.name for c in result.columns], row, strict=True))
                                 for row in result.rows])


def direct(ctx: ServiceContext, sql: str) -> pa.Table:
    """The same function called with its parsed node (no planner)."""
    statement = parse_script(sql)[0]
    assert isinstance(statement, Query)
    (node,) = statement.expression.find_all(MLFunction)
    return TABLE_FUNCTIONS[node.name](Session(ctx, "demo"), statement, node)


def test_evaluate_answers_the_metrics_the_cli_shows(walked: ServiceContext) -> None:
    version = get_version(walked, "house_price_quality")
    metrics, cv = version.metrics, version.manifest["cv"]
    (row,) = call(walked, "SELECT * FROM ML.EVALUATE(MODEL demo.house_price_quality)").to_pylist()
    holdout = {"r2_score": metrics["r2"], "mean_absolute_error": metrics["mae"],
               "root_mean_squared_error": metrics["rmse"], "mean_squared_error": metrics["rmse"] ** 2}
    assert {k: row[k] for k in holdout} == holdout
    # beside them the stored cross-validation: its folds, method and each metric's mean and std
    assert row["cv_folds"] == cv["folds"] == 5 and row["cv_method"] == "5-fold"
    assert row["cv_r2_score_mean"] == cv["metrics"]["r2"]["mean"]
    assert row["cv_root_mean_squared_error_std"] == cv["metrics"]["rmse"]["std"]
    squares = [v ** 2 for v in cv["metrics"]["rmse"]["folds"]]  # the holdout's mean_squared_error, cross-validated
    assert row["cv_mean_squared_error_mean"] == pytest.approx(sum(squares) / len(squares), rel=1e-12)
    assert row["cv_mean_squared_error_std"] == pytest.approx(float(np.std(squares)), rel=1e-9)
    assert set(row) == set(holdout) | {"cv_folds", "cv_method"} | {
        f"cv_{name}_{stat}" for name in ("r2_score", "mean_absolute_error", "root_mean_squared_error",
                                         "mean_squared_error")
        for stat in ("mean", "std")}
    metrics = get_version(walked, "wine_kind", 1).metrics
    (row,) = call(walked, "SELECT * FROM ML.EVALUATE(MODEL wine_kind)").to_pylist()
    assert direct(walked, "SELECT * FROM ML.EVALUATE(MODEL wine_kind)").to_pylist() == [row]
    assert row["f1_score"] == metrics["f1"] and row["accuracy"] == metrics["accuracy"]
    assert row["log_loss"] == metrics["log_loss"]
    version = get_version(walked, "cancer_trees")
    assert version.manifest["evaluation"]["split"]["test_fraction"] == 0.25
    assert "HistGradientBoostingClassifier(random_state=0, learning_rate=0.1, max_iter=30)" in \
        version.manifest["code"]


def test_weights_are_the_exported_coefficients(walked: ServiceContext) -> None:
    exported = export_json(walked, "house_price_quality")
    rows = call(walked, "SELECT * FROM ML.WEIGHTS(MODEL house_price_quality)").to_pylist()
    assert [r["processed_input"] for r in rows] == [*exported["feature_names"], "__INTERCEPT__"]
    assert [r["weight"] for r in rows] == [*exported["coefficients"], exported["intercept"]]
    # a standardised number's weight multiplies (value - input_mean) / input_scale: with them, the
    # weights predict from raw values what the model predicts
    columns = {c["name"]: c for c in exported["preprocessing"]["columns"]}
    numeric = next(r for r in rows if r["processed_input"] in columns and "mean" in columns[r["processed_input"]])
    described = columns[numeric["processed_input"]]
    assert (numeric["input_mean"], numeric["input_scale"]) == (described["mean"][0], described["scale"][0])
    assert rows[-1]["input_mean"] is None and rows[-1]["input_scale"] is None  # the intercept
    wine = export_json(walked, "wine_kind")
    rows = call(walked, "SELECT * FROM ML.WEIGHTS(MODEL wine_kind)").to_pylist()
    assert len(rows) == len(wine["classes"]) * (len(wine["feature_names"]) + 1)
    first = [r for r in rows if r["class"] == wine["classes"][0]]
    assert [r["weight"] for r in first] == [*wine["coefficients"][0], wine["intercept"][0]]
    with pytest.raises(Failed, match="only available for linear models"):
        call(walked, "SELECT * FROM ML.WEIGHTS(MODEL cancer_trees)")


def test_feature_importance_training_info_and_confusion_matrix(walked: ServiceContext) -> None:
    version = get_version(walked, "cancer_trees")
    stored = version.manifest["evaluation"]["feature_importance"]
    table = call(walked, "SELECT * FROM ML.FEATURE_IMPORTANCE(MODEL cancer_trees)")
    assert table.column("feature").to_pylist() == [r["feature"] for r in stored]
    assert table.column("importance").to_pylist() == [r["importance"] for r in stored]
    (info,) = call(walked, "SELECT * FROM ML.TRAINING_INFO(MODEL cancer_trees)").to_pylist()
    assert (info["version"], info["active"], info["metric"]) == (1, True, "f1")
    assert info["metric_value"] == version.metrics["f1"] and info["eval_fraction"] == 0.25
    matrix = call(walked, "SELECT * FROM ML.CONFUSION_MATRIX(MODEL wine_kind)").to_pylist()
    stored_matrix = get_version(walked, "wine_kind").manifest["evaluation"]["confusion_matrix"]
    assert [r["expected_label"] for r in matrix] == stored_matrix["labels"]
    assert [[r[label] for label in stored_matrix["labels"]] for r in matrix] == stored_matrix["matrix"]


def test_a_viewer_reads_but_cannot_create_or_drop(walked: ServiceContext) -> None:
    vic = as_user(walked, "vic")
    (row,) = call(vic, "SELECT * FROM ML.EVALUATE(MODEL wine_kind)").to_pylist()
    assert not math.isnan(row["f1_score"])
    models = {m.name for m in walked.models.list()}
    answer = run_script(vic, "CREATE MODEL viewer_model OPTIONS(model_type='linear_reg', "
                        "input_label_cols=['quality']) AS SELECT price, quality FROM houses", source="demo",
                        wait=True)
    assert answer.error is not None and answer.error["code"] == "forbidden" and not answer.results
    assert {m.name for m in walked.models.list()} == models
    denied = run_script(vic, "DROP MODEL wine_kind")
    assert denied.error is not None and denied.error["code"] == "forbidden"


def test_drop_model_and_then_the_functions_name_what_is_left(walked: ServiceContext) -> None:
    answer = run_script(as_user(walked, "ann"), "DROP MODEL wine_kind")
    assert answer.results[0].message == "model wine_kind dropped, with its 1 version(s)."
    with pytest.raises(Failed) as caught:
        call(walked, "SELECT * FROM ML.EVALUATE(MODEL wine_kind)")
    assert caught.value.details["column"] == len("SELECT * FROM ML.EVALUATE(MODEL ") + 1
    assert "no model wine_kind" in caught.value.message


@pytest.mark.parametrize(("sql", "words"), [
    ("SELECT * FROM ML.ROC_CURVE(MODEL cancer_trees)", "needs the rows"),
    ("SELECT * FROM ML.ROC_CURVE(MODEL wine_kind, (SELECT 1))", "binary classifiers"),
    ("SELECT * FROM ML.CONFUSION_MATRIX(MODEL house_price_quality)", "for classifiers"),
    ("SELECT * FROM ML.WEIGHTS(MODEL wine_kind, TABLE wine)", "takes only the model"),
    ("SELECT * FROM ML.EVALUATE(MODEL wine_kind, STRUCT(0.5 AS treshold))", "Did you mean setting 'threshold'"),
    ("SELECT * FROM ML.EVALUATE(MODEL wine_kinds)", "Did you mean model 'wine_kind'"),
    ("SELECT * FROM ML.EVALUATE(MODEL house_price_quality, (SELECT price, 'x' || quality AS quality FROM houses))",
     "quality cannot be measured against the predictions"),
])
def test_misuse_is_a_positioned_error(walked: ServiceContext, sql: str, words: str) -> None:
    with pytest.raises(Failed) as caught:
        call(walked, sql)
    assert words in caught.value.message and caught.value.details["line"] == 1


def test_functions_with_input_rows_measure_the_predictions(walked: ServiceContext) -> None:
    new = "(SELECT * FROM breast_cancer WHERE split = 'new')"
    predicted = call(walked, f"SELECT * FROM ML.PREDICT(MODEL cancer_trees, {new})")
    truth, preds = predicted.column("diagnosis").to_pylist(), predicted.column("predicted_diagnosis").to_pylist()
    probs = [{p["label"]: p["prob"] for p in row} for row in predicted.column("predicted_diagnosis_probs").to_pylist()]
    classes = get_version(walked, "cancer_trees").manifest["classes"]
    expected = classification_metrics(np.array(truth, dtype=object), np.array(preds, dtype=object),
                                      np.array([[p[c] for c in classes] for p in probs]), classes)
    (row,) = call(walked, f"SELECT * FROM ML.EVALUATE(MODEL cancer_trees, {new})").to_pylist()
    assert row["f1_score"] == pytest.approx(expected["f1"]) and row["roc_auc"] == pytest.approx(expected["roc_auc"])
    assert row["accuracy"] == pytest.approx(expected["accuracy"])
    matrix = {r["expected_label"]: r for r in call(
        walked, f"SELECT * FROM ML.CONFUSION_MATRIX(MODEL cancer_trees, {new})").to_pylist()}
    for actual in classes:
        for guess in classes:
            assert matrix[actual][guess] == sum(1 for t, p in zip(truth, preds, strict=True)
                                                if t == actual and p == guess)
    low = call(walked, f"SELECT * FROM ML.CONFUSION_MATRIX(MODEL cancer_trees, {new}, STRUCT(0.0 AS threshold))")
    assert [r["malignant"] for r in low.to_pylist()] == [
        sum(1 for t in truth if t == c) for c in [r["expected_label"] for r in low.to_pylist()]]
    roc = call(walked, f"SELECT * FROM ML.ROC_CURVE(MODEL cancer_trees, {new}) ORDER BY threshold DESC").to_pylist()
    positives = sum(1 for t in truth if t == "malignant")
    assert roc[-1]["recall"] == 1.0 and roc[-1]["true_positives"] == positives
    assert all(a["recall"] <= b["recall"] for a, b in zip(roc, roc[1:], strict=False))
    joined = call(walked, "SELECT w.processed_input, w.weight FROM ML.WEIGHTS(MODEL house_price_quality) AS w "
                  "WHERE w.processed_input <> '__INTERCEPT__' ORDER BY 1").to_pylist()
    assert [r["processed_input"] for r in joined] == sorted(export_json(walked, "house_price_quality")["feature_names"])


def test_rows_without_a_label_are_left_out_of_the_measure(walked: ServiceContext) -> None:
    every = call(walked, "SELECT * FROM ML.EVALUATE(MODEL house_price_quality, "
                         "(SELECT id, price, quality FROM houses))").to_pylist()
    labelled = call(walked, "SELECT * FROM ML.EVALUATE(MODEL house_price_quality, "
                            "(SELECT id, price, quality FROM houses WHERE quality IS NOT NULL))").to_pylist()
    assert every == labelled and 0 < every[0]["r2_score"] <= 1
    with pytest.raises(Failed, match="None of the input rows has a quality"):
        call(walked, "SELECT * FROM ML.EVALUATE(MODEL house_price_quality, "
                     "(SELECT id, price, quality FROM houses WHERE quality IS NULL))")
