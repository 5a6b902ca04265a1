"""Hyperparameter search (training/search.py): grid, random, bayes, failures, time budget."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline

from softquery.errors import DataError, InvalidInputError, ModelCodeError
from softquery.modelcode.preprocessing import AutoPreprocessor
from softquery.modelcode.templates import template_code
from softquery.training.search import run_search
from softquery.training.search_spec import normalize, parse_param
from softquery.training.selection import choose_code
from softquery.training.spec import TrainSpec


def _noop(_phase: str, _fraction: float | None, _detail: str = "") -> None:
    return None


def _data(n: int = 120) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.uniform(0, 10, n), "b": rng.uniform(0, 5, n)})
    y = pd.Series(np.sin(X["a"]) * 3 + X["b"] + rng.normal(0, 0.3, n), name="y")
    return X, y


def _spec(template: str, search: dict, **kw: object) -> TrainSpec:
    return TrainSpec(model="m", code=template_code(template), template=template, search=search, cv_folds=3, **kw)


def test_a_grid_over_two_parameters_keeps_every_trial_and_picks_the_best() -> None:
    X, y = _data()
    search = {"method": "grid", "params": {"n_neighbors": {"values": [2, 15]},
                                           "weights": {"values": ["uniform", "distance"]}}}
    phases: list[str] = []
    chosen = choose_code(_spec("knn_regressor", search), X, y, label="y",
                         progress=lambda phase, *_a: phases.append(phase))
    report = chosen.report
    assert report is not None and report["kind"] == "search" and report["objective"] == "r2"
    assert [t["params"] for t in report["trials"]] == [
        {"n_neighbors": 2, "weights": "uniform"}, {"n_neighbors": 2, "weights": "distance"},
        {"n_neighbors": 15, "weights": "uniform"}, {"n_neighbors": 15, "weights": "distance"}]
    # our own computation of each configuration's CV mean, on the same folds
    folds = KFold(n_splits=3, shuffle=True, random_state=0)
    expected = {}
    for trial in report["trials"]:
        est = make_pipeline(AutoPreprocessor(), KNeighborsRegressor(**trial["params"]))
        expected[trial["number"]] = cross_val_score(est, X, y, cv=folds, scoring="r2").mean()
        assert trial["cv_mean"] == pytest.approx(expected[trial["number"]], abs=1e-8)
    best = max(expected, key=lambda n: expected[n])
    assert report["chosen"] == best
    assert chosen.cv is not None and chosen.cv.score("r2")[0] == pytest.approx(expected[best], abs=1e-8)
    params = report["trials"][best - 1]["params"]
    assert f"n_neighbors={params['n_neighbors']}" in chosen.code
    assert f"weights={params['weights']!r}" in chosen.code
    assert "searching: trial 1 of 4" in phases and "searching: trial 4 of 4" in phases


def test_random_search_is_reproducible() -> None:
    X, y = _data()
    search = {"method": "random", "params": {"alpha": {"low": 0.001, "high": 100, "log": True}}, "trials": 3}
    first = run_search(_spec("ridge_regression", search), X, y, progress=_noop)["report"]
    second = run_search(_spec("ridge_regression", search), X, y, progress=_noop)["report"]
    assert [t["params"] for t in first["trials"]] == [t["params"] for t in second["trials"]]
    assert len({t["params"]["alpha"] for t in first["trials"]}) == 3
    assert all(0.001 <= t["params"]["alpha"] <= 100 for t in first["trials"])


def test_bayes_runs_the_trials_asked_for() -> None:
    X, y = _data()
    search = {"method": "bayes", "params": {"n_neighbors": {"low": 1, "high": 30}}, "trials": 4,
              "objective": "mean_absolute_error"}
    found = run_search(_spec("knn_regressor", search), X, y, progress=_noop)
    report = found["report"]
    assert len(report["trials"]) == 4 and report["objective"] == "mae" and report["direction"] == "minimize"
    assert all(isinstance(t["params"]["n_neighbors"], int) for t in report["trials"])
    scores = {t["number"]: t["cv_mean"] for t in report["trials"]}
    assert report["chosen"] == min(scores, key=lambda n: scores[n])


def test_a_failing_trial_is_recorded_and_all_failing_is_a_model_code_error() -> None:
    # a keyword softquery knows nothing about is checked only by its trials (n_neighbors=0 is now
    # refused when the search is saved)
    X, y = _data()
    search = {"method": "grid", "params": {"KNeighborsRegressor.algorithm": {"values": ["auto", "bogus"]}}}
    found = run_search(_spec("knn_regressor", search), X, y, progress=_noop)
    report = found["report"]
    assert report["chosen"] == 1 and "error" in report["trials"][1] and report["trials"][1]["cv_mean"] is None
    assert any(note.startswith("1 of 2 trials failed: trial 2 (KNeighborsRegressor.algorithm=bogus):")
               for note in found["notes"]), found["notes"]
    with pytest.raises(ModelCodeError, match="Every trial of the hyperparameter search failed"):
        run_search(_spec("knn_regressor", {"method": "grid", "params": {
            "KNeighborsRegressor.algorithm": {"values": ["bogus", "nope"]}}}), X, y, progress=_noop)


def test_the_time_budget_stops_starting_trials() -> None:
    X, y = _data()
    search = {"method": "grid", "params": {"alpha": {"values": [0.1, 1, 10]}}}
    report = run_search(_spec("ridge_regression", search, time_limit_seconds=1e-6), X, y, progress=_noop)["report"]
    assert len(report["trials"]) == 1
    assert [s["number"] for s in report["skipped"]] == [2, 3]


@pytest.mark.parametrize("text", ["alpha=", "=1,2", "alpha=1:2:3", "alpha=a:b", "al pha=1"])
def test_bad_param_text_is_a_clear_error(text: str) -> None:
    with pytest.raises(InvalidInputError, match="--param"):
        parse_param(text)


def test_param_text_forms() -> None:
    assert parse_param("alpha=0.1,1,10") == ("alpha", {"values": [0.1, 1, 10]})
    assert parse_param("alpha=0.001:100:log") == ("alpha", {"low": 0.001, "high": 100, "log": True})
    assert parse_param("max_depth=none,3") == ("max_depth", {"values": [None, 3]})
    assert parse_param("C") == ("C", {})


def test_an_unknown_parameter_suggests_the_nearest() -> None:
    with pytest.raises(InvalidInputError, match="Did you mean max_depth") as caught:
        normalize({"method": "grid", "params": {"max_dept": {"values": [1]}}},
                  template_code("random_forest_regressor"), "random_forest_regressor")
    assert "n_estimators" in caught.value.message


def test_own_code_names_call_keyword() -> None:
    code = template_code("random_forest_regressor").replace("random_state=0", "random_state=1")
    spec = normalize({"method": "grid", "params": {"RandomForestRegressor.min_samples_split": {"values": [2, 4]}}},
                     code, None)
    assert spec["params"] == {"RandomForestRegressor.min_samples_split": {"values": [2, 4]}}
    with pytest.raises(InvalidInputError, match="no call of Ridge"):
        normalize({"params": {"Ridge.alpha": {"values": [1]}}}, code, None)


def test_a_too_large_grid_is_refused() -> None:
    params = {"n_estimators": {"values": list(range(10, 30))}, "max_depth": {"values": list(range(1, 12))}}
    with pytest.raises(InvalidInputError, match="220 combinations"):
        normalize({"method": "grid", "params": params}, template_code("random_forest_regressor"),
                  "random_forest_regressor")


def test_the_search_spreads_over_the_progress_bar_and_says_one_trial() -> None:
    X, y = _data()
    seen: list[float] = []
    search = {"method": "grid", "params": {"alpha": {"values": [0.1, 1, 10, 100]}}}
    run_search(_spec("ridge_regression", search), X, y,
               progress=lambda _phase, fraction, *_a: seen.append(fraction))
    assert seen == sorted(seen) and seen[0] == pytest.approx(0.15) and seen[-1] > 0.6, seen
    one = run_search(_spec("ridge_regression", {"method": "grid", "params": {"alpha": {"values": [1]}}}), X, y,
                     progress=_noop)
    assert one["notes"][0].startswith("Hyperparameter search (grid, 1 trial): chose trial 1"), one["notes"]


@pytest.mark.parametrize(("template", "params", "objective", "words"), [
    ("ridge_regression", {"alpha": {}}, "accuracy", "is not measured for regression: its cross-validation "
                                                    "measures r2, mae, rmse"),
    ("logistic_regression", {"C": {}}, "r2_score", "is not measured for classification"),
    ("logistic_regression", {"C": {}}, "acuracy", "Did you mean 'accuracy'?"),
])
def test_an_objective_the_task_does_not_measure_is_refused_at_save(template: str, params: dict, objective: str,
                                                                   words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        normalize({"method": "grid", "params": params, "objective": objective}, template_code(template), template)


def test_roc_auc_on_three_classes_names_the_real_reason() -> None:
    X, _ = _data(90)
    y = pd.Series(np.array(["a", "b", "c"] * 30), name="kind")
    spec = _spec("logistic_regression", {"method": "grid", "params": {"C": {"values": [1]}}, "objective": "roc_auc"})
    with pytest.raises(DataError, match="roc_auc is measured for two classes only; the label has 3 \\(a, b, c\\)"):
        run_search(spec, X, y, progress=_noop)


def test_a_search_over_a_rare_class_prints_no_least_populated_warning() -> None:
    # svm_classifier calibrates its probabilities with 5 inner folds: a class of 4 rows warns there
    X, _ = _data(60)
    y = pd.Series(np.array(["common"] * 56 + ["rare"] * 4), name="kind")
    spec = _spec("svm_classifier", {"method": "grid", "params": {"C": {"values": [1]}}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_search(spec, X, y, progress=_noop)
    assert not [w for w in caught if "least populated class" in str(w.message)]


def test_after_a_search_the_training_bar_never_moves_back() -> None:
    from softquery.training.search import never_back

    seen: list[float | None] = []
    forward = never_back(lambda _phase, fraction, _detail="": seen.append(fraction))
    for fraction in (0.15, 0.8, 0.3, None, 0.6, 0.9):
        forward("phase", fraction)
    assert seen == [0.15, 0.8, 0.8, None, 0.8, 0.9]


def test_one_trial_is_said_in_the_singular() -> None:
    from softquery.training.search_spec import describe

    assert describe({"method": "random", "params": {"alpha": {}}, "trials": 1}) == \
        "random over alpha (defaults), at most 1 trial"
