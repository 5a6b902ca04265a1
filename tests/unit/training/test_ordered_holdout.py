"""A model with an order column: the holdout is the latest rows, and a metric the ordered folds
cannot measure (r2 on one test row per fold) is named in the notes (items 8b, 8c of the issue 14
review)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from softquery.domain import Version
from softquery.modelcode.templates import template_code
from softquery.services import cv_figures
from softquery.training.pipeline import TrainOutput, train_from_rows
from softquery.training.spec import TrainSpec


def _noop(*_args: Any, **_kwargs: Any) -> None:
    return None


def _train(n: int, **spec: Any) -> TrainOutput:
    day = np.random.default_rng(3).permutation(n)  # the query's rows are not in order
    x = np.random.default_rng(5).normal(size=n)
    table = pa.table({"day": day, "x": x, "y": 3.0 * day + x})
    return train_from_rows(TrainSpec(model="m", code=template_code("linear_regression"), label="y", **spec),
                           lambda: (table, ["day", "x"]), _noop)


def test_the_holdout_of_an_ordered_model_is_its_latest_rows() -> None:
    out = _train(30, cv_folds=3, order_column="day")
    split = out.evaluation["split"]
    assert (split["method"], split["order_column"], split["train_rows"], split["test_rows"]) == ("ordered", "day", 24, 6)
    held_out = sorted(out.evaluation["predicted_vs_actual"]["actual"])
    latest = sorted(3.0 * d for d in range(24, 30))  # y is 3 * day + x, |x| < 3: the 6 latest days
    assert np.allclose(np.round(np.array(held_out) / 3), np.array(latest) / 3), held_out
    text = cv_figures.split_text(out.evaluation)
    assert text == "Measured on the latest 20% of the rows by day (trained on the earlier ones): " \
                   "24 training rows, 6 holdout rows.", text
    unordered = _train(30, cv_folds=3)
    assert unordered.evaluation["split"]["method"] == "holdout"


def test_ordered_folds_of_one_row_say_r2_was_not_measured() -> None:
    out = _train(11, order_column="day")  # 5 ordered folds of 11 rows: each tests one row
    assert out.cv is not None and out.cv["method"] == "ordered"
    assert "r2" not in out.cv["metrics"] and "mae" in out.cv["metrics"]
    assert "r2 was not measured: each fold has only 1 test row" in " ".join(out.cv["notes"]), out.cv["notes"]
    version = Version(model="m", version=1, created_at=datetime.now(UTC), manifest={"task": "regression", "cv": out.cv},
                      signature="", artifact_sha256="", artifact_size=0)
    assert cv_figures.key_cv_text(version) == "r2 (CV) not measured in these folds"
    assert cv_figures.fold_words(out.cv) == "each fold trains on earlier rows and is measured on the next ones"


def test_search_and_automl_keep_ordered_folds_when_the_order_column_is_an_id() -> None:
    """The order column need not be a feature: as an id column it is out of X, and a search's
    trials and AutoML's candidates still fold by it (shuffled folds would train on the future)."""
    search = {"method": "grid", "params": {"alpha": {"values": [0.1, 1.0]}}}
    for spec in ({"template": "ridge_regression", "search": search}, {"template": "auto_regressor"}):
        code = template_code(str(spec["template"]))
        n = 40
        day = np.random.default_rng(3).permutation(n)
        x = np.random.default_rng(5).normal(size=n)
        table = pa.table({"day": day, "x": x, "y": 3.0 * day + x})
        out = train_from_rows(TrainSpec(model="m", code=code, label="y", id_columns=["day"], cv_folds=3,
                                        order_column="day", time_budget_seconds=20, **spec),
                              lambda t=table: (t, ["day", "x"]), _noop)
        assert out.selection is not None, spec
        assert out.cv is not None and out.cv["method"] == "ordered", (spec, out.cv)
        assert out.data["id_columns"] == ["day"] and "day" not in [f["name"] for f in out.data["features"]]
