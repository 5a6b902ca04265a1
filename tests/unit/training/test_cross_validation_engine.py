"""Cross-validation in every training: the same figures as scikit-learn's ``cross_validate`` on
the same folds, ordered folds on the order column, small data, large data (a sample), the run's
time limit, and the fits side by side in other processes."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit
from sklearn.model_selection import cross_validate as sklearn_cross_validate
from sklearn.pipeline import make_pipeline

from softquery.errors import DataError
from softquery.modelcode.preprocessing import AutoPreprocessor
from softquery.modelcode.templates import template_code
from softquery.training import parallel
from softquery.training.pipeline import TrainOutput, train_from_rows
from softquery.training.spec import TrainSpec


def _noop(*_args: Any, **_kwargs: Any) -> None:
    return None


def _train(table: pa.Table, code: str, **spec: Any) -> TrainOutput:
    predict_columns = [c for c in table.column_names if c != spec.get("label")]
    return train_from_rows(TrainSpec(model="m", code=code, **spec), lambda: (table, predict_columns), _noop)


def _regression_rows(n: int = 120, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.uniform(0, 5, size=n)
    return {"x": x, "z": z, "y": 2 * x - 0.5 * z + rng.normal(0, 0.8, size=n)}


def _classification_rows(n: int = 150) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    x, z = rng.normal(size=n), rng.normal(size=n)
    score = x + 0.5 * z + rng.normal(0, 0.7, size=n)
    kind = np.where(score < -0.5, "low", np.where(score < 0.5, "mid", "high"))
    return {"x": x, "z": z, "kind": kind.astype(object)}


def _folds(out: TrainOutput, metric: str) -> list[float]:
    assert out.cv is not None
    return list(out.cv["metrics"][metric]["folds"])


def test_regression_cv_equals_scikit_learns_cross_validate() -> None:
    rows = _regression_rows()
    out = _train(pa.table(rows), template_code("linear_regression"), label="y", cv_folds=5)
    X = pa.table({k: rows[k] for k in ("x", "z")}).to_pandas()
    theirs = sklearn_cross_validate(make_pipeline(AutoPreprocessor(), LinearRegression()), X, rows["y"],
                                    cv=KFold(5, shuffle=True, random_state=0), scoring="r2")
    assert out.cv is not None and out.cv["method"] == "kfold" and out.cv["folds"] == 5
    assert _folds(out, "r2") == pytest.approx(list(theirs["test_score"]), rel=1e-9, abs=1e-9)
    assert out.cv["metrics"]["r2"]["mean"] == pytest.approx(float(np.mean(theirs["test_score"])), rel=1e-9)
    assert out.cv["metrics"]["r2"]["std"] == pytest.approx(float(np.std(theirs["test_score"])), rel=1e-6)


def test_classification_cv_equals_scikit_learns_stratified_cross_validate() -> None:
    rows = _classification_rows()
    out = _train(pa.table(rows), template_code("logistic_regression"), label="kind", cv_folds=4)
    X = pa.table({k: rows[k] for k in ("x", "z")}).to_pandas()
    theirs = sklearn_cross_validate(make_pipeline(AutoPreprocessor(), LogisticRegression(max_iter=1000)), X,
                                    rows["kind"], cv=StratifiedKFold(4, shuffle=True, random_state=0),
                                    scoring=["f1_macro", "accuracy"])
    assert out.cv is not None and out.cv["method"] == "stratified_kfold"
    assert _folds(out, "f1") == pytest.approx(list(theirs["test_f1_macro"]), rel=1e-9, abs=1e-9)
    assert _folds(out, "accuracy") == pytest.approx(list(theirs["test_accuracy"]), rel=1e-9, abs=1e-9)


def test_ordered_folds_sort_by_the_order_column_and_stay_aligned_after_dropped_labels() -> None:
    n = 90
    rows = _regression_rows(n, seed=3)
    day = np.random.default_rng(4).permutation(n)  # the query's rows are not in order
    label = [None if i % 7 == 0 else float(v) for i, v in enumerate(rows["y"])]  # dropped rows
    table = pa.table({"day": day, "x": rows["x"], "z": rows["z"], "y": pa.array(label, pa.float64())})
    out = _train(table, template_code("linear_regression"), label="y", cv_folds=3, order_column="day")
    kept = np.array([v is not None for v in label])
    frame = table.to_pandas()[kept].sort_values("day", kind="stable")
    theirs = sklearn_cross_validate(make_pipeline(AutoPreprocessor(), LinearRegression()),
                                    frame[["day", "x", "z"]], frame["y"], cv=TimeSeriesSplit(3), scoring="r2")
    assert out.cv is not None and out.cv["method"] == "ordered" and out.cv["order_column"] == "day"
    assert _folds(out, "r2") == pytest.approx(list(theirs["test_score"]), rel=1e-9, abs=1e-9)
    assert "day" in out.data["columns"][0]["name"] and any(f["name"] == "day" for f in out.data["features"])


def test_an_order_column_that_is_an_id_column_orders_the_folds_without_being_a_feature() -> None:
    rows = _regression_rows(60, seed=5)
    table = pa.table({"event_id": np.arange(60)[::-1], **rows})
    out = _train(table, template_code("linear_regression"), label="y", cv_folds=3, order_column="event_id")
    frame = table.to_pandas().sort_values("event_id")
    theirs = sklearn_cross_validate(make_pipeline(AutoPreprocessor(), LinearRegression()), frame[["x", "z"]],
                                    frame["y"], cv=TimeSeriesSplit(3), scoring="r2")
    assert out.data["id_columns"] == ["event_id"] and all(f["name"] != "event_id" for f in out.data["features"])
    assert _folds(out, "r2") == pytest.approx(list(theirs["test_score"]), rel=1e-9, abs=1e-9)


def test_a_missing_order_column_names_the_nearest_column() -> None:
    table = pa.table({"sold_on": np.arange(30), **_regression_rows(30)})
    with pytest.raises(DataError) as caught:
        _train(table, template_code("linear_regression"), label="y", order_column="sold_at")
    assert "'sold_at' is not a column of the train query" in caught.value.message
    assert "Did you mean 'sold_on'?" in caught.value.message


def test_null_order_values_are_a_clear_error() -> None:
    rows = _regression_rows(30)
    day = pa.array([None if i == 4 else i for i in range(30)], pa.int64())
    with pytest.raises(DataError) as caught:
        _train(pa.table({"day": day, **rows}), template_code("linear_regression"), label="y", order_column="day")
    assert "'day' is NULL in 1 of the 30" in caught.value.message and "IS NOT NULL" in caught.value.message


@pytest.mark.parametrize(("n", "folds", "method", "needle"), [
    (3, 5, "none", "Only 3 training rows: too few for cross-validation"),
    (7, 5, "kfold", "Only 7 training rows: cross-validated with 3 folds instead of 5"),
])
def test_too_few_rows_for_k_folds_say_so_and_fall_back(n: int, folds: int, method: str, needle: str) -> None:
    out = _train(pa.table(_regression_rows(n)), template_code("linear_regression"), label="y", cv_folds=folds)
    assert out.cv is not None and out.cv["method"] == method
    assert any(needle in note for note in out.cv["notes"]), out.cv["notes"]
    assert any(needle in note for note in out.notes)


def test_large_data_cross_validates_on_a_stratified_sample_and_says_so() -> None:
    rows = _classification_rows(300)
    out = _train(pa.table(rows), template_code("logistic_regression"), label="kind", cv_folds=3, cv_max_rows=120)
    assert out.cv is not None and out.cv["rows"] == 120 and out.cv["method"] == "stratified_kfold"
    assert "Cross-validated on a sample of 120 of 300 rows (a seeded sample stratified by label)" in " ".join(
        out.notes)
    assert out.data["rows"] == 300 and out.evaluation["split"]["train_rows"] + out.evaluation["split"][
        "test_rows"] == 300  # the holdout uses every row


def test_ordered_folds_on_large_data_use_the_last_rows() -> None:
    n = 200
    rows = _regression_rows(n, seed=7)
    table = pa.table({"day": np.arange(n)[::-1].copy(), **rows})
    out = _train(table, template_code("linear_regression"), label="y", cv_folds=3, order_column="day",
                 cv_max_rows=80)
    frame = table.to_pandas().sort_values("day").tail(80)
    theirs = sklearn_cross_validate(make_pipeline(AutoPreprocessor(), LinearRegression()),
                                    frame[["day", "x", "z"]], frame["y"], cv=TimeSeriesSplit(3), scoring="r2")
    assert _folds(out, "r2") == pytest.approx(list(theirs["test_score"]), rel=1e-9, abs=1e-9)
    assert "a sample of 80 of 200 rows (the last rows in order)" in " ".join(out.notes)


SLOW = '''import time
from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        time.sleep(0.25)
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


@pytest.mark.parametrize("cores", [1, 2])  # 2: the folds run beside the holdout fit
def test_a_cv_that_would_exceed_the_time_limit_is_cut_to_fewer_folds_with_a_note(cores: int) -> None:
    # each fit takes 0.25 s; 10 folds (2.5 s) do not fit in what a 3.5 s limit leaves after the
    # holdout and final fits and the room kept for the round trip (>= 1 s), a few folds do
    out = _train(pa.table(_regression_rows(100)), SLOW, label="y", cv_folds=10, time_limit_seconds=3.5,
                 cores=cores)
    assert out.cv is not None and 2 <= out.cv["folds"] < 10, out.cv
    note = next(n for n in out.cv["notes"] if "instead of 10" in n)
    assert "time limit of 3.5 s" in note and "estimated from a fit of" in note
    assert note in out.notes


@pytest.mark.parametrize("cores", [1, 2])
def test_a_cv_with_no_time_left_is_skipped_with_a_note(cores: int) -> None:
    out = _train(pa.table(_regression_rows(100)), SLOW, label="y", cv_folds=5, time_limit_seconds=1.5, cores=cores)
    assert out.cv is not None and out.cv["method"] == "none" and out.cv["folds"] == 0
    assert any("Cross-validation was skipped" in n and "time limit of 1.5 s" in n for n in out.cv["notes"])
    assert out.metrics  # the holdout figures are still there


def test_without_a_time_limit_every_fold_runs() -> None:
    out = _train(pa.table(_regression_rows(100)), template_code("linear_regression"), label="y", cv_folds=10)
    assert out.cv is not None and out.cv["folds"] == 10


@pytest.fixture
def always_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork even these tiny fits (training forks the folds only when they take a while)."""
    monkeypatch.setattr(parallel, "WORTH_FORKING_SECONDS", 0.0)


def test_fits_run_in_other_processes_and_give_the_sequential_figures(always_fork: None) -> None:
    rows = pa.table(_regression_rows(150))
    one = _train(rows, template_code("linear_regression"), label="y", cv_folds=4, cores=1)
    two = _train(rows, template_code("linear_regression"), label="y", cv_folds=4, cores=2)
    assert one.cv == {**two.cv, "seconds": one.cv["seconds"]} if one.cv and two.cv else False
    assert one.metrics == two.metrics and one.evaluation == two.evaluation
    for key in ("holdout_fit", "final_fit", "parallel_fits_wall", "cross_validation", "cv_fold_fits"):
        assert key in two.timings


def test_with_two_cores_the_holdout_and_the_folds_are_fitted_in_forked_processes() -> None:
    from softquery.modelcode.loader import load_code_module, model_class
    from softquery.training.cross_validation import cross_validate
    from softquery.training.fit import fit_and_evaluate

    rows = _regression_rows(100)
    X, y = pa.table({k: rows[k] for k in ("x", "z")}).to_pandas(), pa.array(rows["y"]).to_pandas()
    code = template_code("linear_regression")
    fit = fit_and_evaluate(code, X, y, label="y", progress=_noop, cores=2)
    assert fit.pids["final_fit"] == os.getpid() and fit.pids["holdout_fit"] != os.getpid()
    cv = cross_validate(model_class(load_code_module(code)), X, y, fit.task, None, folds=4, cores=2)
    assert os.getpid() not in cv.pids and len(set(cv.pids)) == 4  # a fresh process per fold
    sequential = cross_validate(model_class(load_code_module(code)), X, y, fit.task, None, folds=4, cores=1)
    assert sequential.pids == [os.getpid()] * 4 and sequential.metrics == cv.metrics


FIRST_FIT_SLOW = '''import os, time
from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        if len(X) >= 80:  # the holdout (80 rows) and final (100) fits: as slow as a process's first fit
            time.sleep(0.1)
        else:  # a fold (75 rows): as fast as a warm fit
            print("fold in process", os.getpid())
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


@pytest.mark.parametrize("whole", [False, True])  # the folds beside the holdout fit / after it (task unknown)
def test_folds_quicker_than_forking_costs_run_in_the_job_process_on_two_cores(whole: bool) -> None:
    """A job child's first fit is slow (imports), the folds after it are not: they are not worth
    forking (``parallel.FORK_SECONDS``), so they run in the job process itself."""
    rows = _regression_rows(100)
    if whole:  # a label of a few whole numbers: the task waits for the holdout's predictions
        rows["y"] = np.clip(np.round(rows["y"]), -2, 2).astype(np.int64)
    out = _train(pa.table(rows), FIRST_FIT_SLOW, label="y", cv_folds=4, cores=2, capture_output=True)
    folds = [line for line in out.stdout.splitlines() if line.startswith("fold in process")]
    assert folds == [f"fold in process {os.getpid()}"] * 4, out.stdout
    print(f"\nCV wall {out.timings['cross_validation'] * 1000:.1f} ms for {out.timings['cv_fold_fits'] * 1000:.1f} ms "
          "of fold fits, in the job process")


PRINTS = '''from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        print("training on", len(X), "rows")
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X)
'''


@pytest.mark.parametrize("cores", [1, 2])
def test_what_every_fit_prints_reaches_the_captured_log(cores: int, always_fork: None) -> None:
    out = _train(pa.table(_regression_rows(100)), PRINTS, label="y", cv_folds=4, cores=cores, capture_output=True)
    lines = out.stdout.splitlines()
    assert lines.count("training on 80 rows") == 1  # the holdout fit
    assert lines.count("training on 100 rows") == 1  # the final fit
    assert lines.count("training on 75 rows") == 4  # the folds


UNDECLARED = '''from sklearn.linear_model import LinearRegression

class Model:
    def __init__(self):
        self.m = LinearRegression()
    def train(self, X, y):
        self.m.fit(X, y)
    def predict(self, X):
        return self.m.predict(X).round()
'''


@pytest.mark.parametrize("code", [UNDECLARED, template_code("linear_regression")])
def test_two_cores_give_the_figures_of_one_whether_or_not_the_task_is_known_before_fitting(
        code: str, always_fork: None) -> None:
    # a label of a few whole numbers: an undeclared model's task waits for the holdout's predictions
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 3, 120)
    table = pa.table({"x": x, "y": np.clip(np.round(x + rng.normal(0, 0.4, 120)), 0, 3).astype(np.int64)})
    one = _train(table, code, label="y", cv_folds=3, cores=1)
    two = _train(table, code, label="y", cv_folds=3, cores=2)
    assert one.task == two.task and one.metrics == two.metrics
    assert one.cv is not None and two.cv is not None and one.cv["metrics"] == two.cv["metrics"]
