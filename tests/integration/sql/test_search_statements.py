"""Hyperparameter search from SQL: BigQuery's HPARAM_RANGE / HPARAM_CANDIDATES with num_trials,
hparam_tuning_algorithm and hparam_tuning_objectives, and MLSQL's fitParam groups of a
built-in algorithm searched as one run that keeps the best group."""

from __future__ import annotations

import pytest
from tests.integration.sql.test_mlsql_statements import HOUSES, failed, ok

from softquery.services.context import ServiceContext
from softquery.services.files import files_folder
from softquery.services.sql_scripts import run_script
from softquery.sql.statement_errors import SqlError


def _selection(ctx: ServiceContext, model: str) -> dict:  # type: ignore[type-arg]
    version = ctx.versions.get(model, ctx.models.get(model).active_version or 0)
    return dict(version.manifest["selection"]), version.manifest["code"]  # type: ignore[return-value]


def test_hparam_range_searches_and_keeps_the_best(ctx: ServiceContext, sqlite_source: str) -> None:
    script = """
    CREATE MODEL tuned
      OPTIONS(model_type='linear_reg', input_label_cols=['value'], l2_reg=HPARAM_RANGE(0.01, 100),
              num_trials=3, hparam_tuning_algorithm='RANDOM_SEARCH',
              hparam_tuning_objectives=['mean_absolute_error'])
    AS SELECT price, rooms, area, value FROM houses;
    """
    ok(run_script(ctx, script, source="src", wait=True))
    model = ctx.models.get("tuned")
    assert model.search is not None and model.search["method"] == "random"
    assert model.search["params"]["Ridge.alpha"] == {"low": 0.01, "high": 100, "log": True}
    selection, code = _selection(ctx, "tuned")
    assert selection["objective"] == "mae" and len(selection["trials"]) == 3
    maes = {t["number"]: t["cv_mean"] for t in selection["trials"]}
    assert selection["chosen"] == min(maes, key=lambda n: maes[n])
    alpha = selection["trials"][selection["chosen"] - 1]["params"]["Ridge.alpha"]
    assert 0.01 <= alpha <= 100 and f"Ridge(alpha={alpha!r})" in code


def test_hparam_candidates_with_grid_search(ctx: ServiceContext, sqlite_source: str) -> None:
    script = """
    CREATE MODEL trees
      OPTIONS(model_type='boosted_tree_regressor', input_label_cols=['value'], max_iterations=20,
              max_tree_depth=HPARAM_CANDIDATES([2, 4]), hparam_tuning_algorithm='GRID_SEARCH')
    AS SELECT price, rooms, area, value FROM houses;
    """
    ok(run_script(ctx, script, source="src", wait=True))
    selection, code = _selection(ctx, "trees")
    assert [t["params"] for t in selection["trials"]] == [{"HistGradientBoostingRegressor.max_depth": 2},
                                                          {"HistGradientBoostingRegressor.max_depth": 4}]
    assert selection["objective"] == "r2" and "max_iter=20" in code


@pytest.mark.parametrize(("options", "words"), [
    ("num_trials=3", "none is given as HPARAM_RANGE"),
    ("l2_reg=HPARAM_RANGE(1)", "HPARAM_RANGE takes two numbers"),
    ("l2_reg=HPARAM_RANGE(0.1, 1), hparam_tuning_algorithm='NOPE'", "hparam_tuning_algorithm 'NOPE' is not known"),
    ("l2_reg=HPARAM_RANGE(0.1, 1), hparam_tuning_objectives=['nope']", "hparam_tuning_objectives 'nope'"),
    ("l2_reg=HPARAM_RANGE(0.1, 1), hparam_tuning_objectives=['acuracy']", "Did you mean 'accuracy'?"),
    ("l2_reg=HPARAM_RANGE(0.1, 1), hparam_tuning_objectives=['accuracy']",
     "'accuracy' is not measured for regression: its cross-validation measures r2, mae, rmse"),
])
def test_tuning_mistakes_are_clear(ctx: ServiceContext, sqlite_source: str, options: str, words: str) -> None:
    script = (f"CREATE MODEL bad OPTIONS(model_type='linear_reg', input_label_cols=['value'], {options}) "
              "AS SELECT price, value FROM houses;")
    try:
        message = failed(run_script(ctx, script, source="src", wait=True))["message"]
    except SqlError as exc:  # a mistake the parser finds: nothing ran
        message = exc.message
    assert words in message, message
    assert ctx.models.find("bad") is None


def test_mlsql_fit_param_groups_of_a_builtin_are_one_search(ctx: ServiceContext) -> None:
    (files_folder(ctx) / "houses.csv").write_text(HOUSES + "\n")
    script = '''
    load csv.`houses.csv` where header="true" and inferSchema="true" as data;
    train data as RandomForest.`models/kind` where labelCol="rooms" and featureCol="value"
      and fitParam.0.maxDepth="1" and fitParam.0.numTrees="5" and fitParam.1.maxDepth="8" and fitParam.1.numTrees="5"
      and autoSelectByMetric="accuracy";
    '''
    result = ok(run_script(ctx, script))
    trained = result.results[1]
    assert trained.message.startswith("model kind: 2 fitParam groups searched by cross-validation; version 1 "
                                      "trained with group "), trained.message
    assert len(ctx.versions.list("kind")) == 1
    selection, code = _selection(ctx, "kind")
    assert selection["objective"] == "accuracy"
    assert [t["params"] for t in selection["trials"]] == [
        {"RandomForestClassifier.max_depth": 1, "RandomForestClassifier.n_estimators": 5},
        {"RandomForestClassifier.max_depth": 8, "RandomForestClassifier.n_estimators": 5}]
    scores = {t["number"]: t["cv_mean"] for t in selection["trials"]}
    assert selection["chosen"] == max(scores, key=lambda n: (scores[n], -n))
    best = selection["trials"][selection["chosen"] - 1]["params"]
    assert f"max_depth={best['RandomForestClassifier.max_depth']}" in code


