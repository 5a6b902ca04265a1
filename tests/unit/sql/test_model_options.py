"""CREATE MODEL's options: BigQuery ML's names onto templates, their parameters and settings."""

from __future__ import annotations

import pytest

from softquery.services.sql_model_options import (
    known_options,
    option_values,
    options_for,
    plan_model,
)
from softquery.services.sql_models import predict_query, train_query_text
from softquery.sql.parse import parse_script
from softquery.sql.statement_errors import SqlError
from softquery.sql.statements import CreateModel


def _create(options: str, select: str = "SELECT a, y FROM t") -> CreateModel:
    statement = parse_script(f"CREATE MODEL m OPTIONS({options}) AS {select}")[0]
    assert isinstance(statement, CreateModel)
    return statement


def test_model_types_and_hyperparameters_map_onto_templates() -> None:
    plan = plan_model(_create("model_type='LINEAR_REG', input_label_cols=['y']"))
    assert (plan.template, plan.label, plan.calls) == ("linear_regression", "y", {})
    plan = plan_model(_create("model_type='linear_reg', input_label_cols=['y'], l2_reg=0.5"))
    assert (plan.template, plan.calls) == ("ridge_regression", {"Ridge": {"alpha": 0.5}})
    plan = plan_model(_create("model_type='logistic_reg', input_label_cols=['y'], l1_reg=1, l2_reg=3, "
                              "max_iterations=20"))
    assert plan.calls == {"LogisticRegression": {"C": 0.25, "l1_ratio": 0.25, "solver": "saga", "max_iter": 20}}
    plan = plan_model(_create("model_type='boosted_tree_classifier', input_label_cols=['y'], learn_rate=0.05, "
                              "max_tree_depth=4, early_stop=false"))
    assert plan.template == "hist_gradient_boosting_classifier"
    assert plan.calls == {"HistGradientBoostingClassifier": {"learning_rate": 0.05, "max_depth": 4,
                                                             "early_stopping": False}}
    plan = plan_model(_create("model_type='random_forest_regressor', input_label_cols=['y'], num_parallel_tree=50"))
    assert plan.calls == {"RandomForestRegressor": {"n_estimators": 50}}
    plan = plan_model(_create("model_type='kmeans', num_clusters=3, kmeans_init_method='KMEANS++'"))
    assert (plan.label, plan.calls) == (None, {"KMeans": {"n_clusters": 3, "init": "k-means++"}})
    plan = plan_model(_create("model_type='svm_classifier', input_label_cols=['y']"))  # a template's own name
    assert plan.template == "svm_classifier"


def test_split_options_and_settings() -> None:
    plan = plan_model(_create("model_type='linear_reg', input_label_cols=['y'], data_split_method='RANDOM', "
                              "data_split_eval_fraction=0.3, id_columns=['id'], description='d'"))
    assert plan.attributes == {"holdout_fraction": 0.3}
    assert plan.settings == {"id_columns": ["id"], "description": "d"}
    plan = plan_model(_create("model_type='linear_reg', input_label_cols=['y'], data_split_method='no_split'"))
    assert plan.attributes == {"holdout_fraction": 0.0}
    plan = plan_model(_create("model_type='linear_reg', input_label_cols=['y'], max_iterations=5"))
    assert plan.notes and "max_iterations" in plan.notes[0]


@pytest.mark.parametrize(("options", "named", "suggestion", "listed"), [
    ("model_type='linear_reg', l2_regg=1", "l2_regg", "l2_reg", "num_clusters"),
    ("model_type='boosted_tree_regresor'", "boosted_tree_regresor", "boosted_tree_regressor", "kmeans"),
    ("model_type='linear_reg', data_split_method='RANDOMLY'", "RANDOMLY", "RANDOM", "NO_SPLIT"),
    ("model_type='kmeans', kmeans_init_method='kmeans+'", "KMEANS+", "KMEANS++", "RANDOM"),
])
def test_an_unknown_option_or_value_is_named_with_the_nearest_and_the_known(
        options: str, named: str, suggestion: str, listed: str) -> None:
    statement = _create(options)
    with pytest.raises(SqlError) as caught:
        plan_model(statement)
    error = caught.value
    assert named in error.message and f"Did you mean {suggestion!r}" in error.message
    assert listed in error.message and listed in error.details["known"]
    assert error.details["suggestion"] == suggestion
    column = error.details["column"] - 1
    assert statement.where.script[column:].lower().startswith(
        next(part.split("=")[0].strip() for part in options.split(",") if named.lower() in part.lower()).lower())


@pytest.mark.parametrize(("options", "words"), [
    ("input_label_cols=['y']", "needs OPTIONS(model_type="),
    ("model_type='kmeans', input_label_cols=['y']", "without a label"),
    ("model_type='linear_reg', num_clusters=3", "does not apply"),
    ("model_type='linear_reg', l2_reg=-1", "at least 0"),
    ("model_type='kmeans', num_clusters=1", "at least 2"),
    ("model_type='linear_reg', input_label_cols=['a', 'b']", "one column"),
    ("model_type='linear_reg', data_split_method='SEQ'", "not available here"),
])
def test_bad_values_are_clear_errors(options: str, words: str) -> None:
    with pytest.raises(SqlError, match="Line 1") as caught:
        plan_model(_create(options))
    assert words in caught.value.message


def test_train_text_is_verbatim_and_the_predict_query_drops_the_label() -> None:
    select = "select id, `price`, quality from houses -- q\n where quality is not null"
    statement = _create("model_type='linear_reg'", f"({select})")
    assert train_query_text(statement) == select
    assert statement.query is not None
    assert predict_query(statement.query, "quality", "sqlite") == \
        'SELECT id, "price" FROM houses /* q */ WHERE NOT quality IS NULL'
    assert predict_query(statement.query, "quality", "oracle") is None
    star = _create("model_type='linear_reg'", "SELECT * FROM houses")
    assert star.query is not None and predict_query(star.query, "quality", "sqlite") is None


def test_the_options_offered_for_a_model_type_are_those_that_apply() -> None:
    """What the console's completion offers once model_type is written (Review 19)."""
    linear = options_for("linear_reg")
    assert "l2_reg" in linear and "input_label_cols" in linear and "num_trials" in linear
    assert "num_clusters" not in linear and "max_iterations" not in linear  # ignored or foreign
    kmeans = options_for("KMEANS")
    assert "num_clusters" in kmeans and "input_label_cols" not in kmeans
    assert "num_trials" not in options_for("knn_regressor")  # no hyperparameters: nothing to tune
    assert set(options_for("linear_reg")) <= set(known_options()) and options_for("nope") == known_options()
    values = option_values()
    assert values["write_mode"] == ("replace", "append") and "GRID_SEARCH" in values["hparam_tuning_algorithm"]
    assert "kmeans" in values["model_type"] and "most_recent" in values["deploy"]
