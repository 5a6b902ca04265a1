"""Every BigQuery ML table function parses into one MLFunction node, in FROM and in joins."""

from __future__ import annotations

import pytest
from sqlglot import exp

from softquery.sql.dialect import MLFunction, Softquery
from softquery.sql.parse import parse_script
from softquery.sql.statement_errors import SqlError
from softquery.sql.statements import CreateTable, Query

NAMES = ["PREDICT", "EVALUATE", "FEATURE_IMPORTANCE", "WEIGHTS", "TRAINING_INFO",
         "CONFUSION_MATRIX", "ROC_CURVE"]


def _query(sql: str) -> exp.Expr:
    statement = parse_script(sql)[0]
    assert isinstance(statement, Query)
    return statement.expression


@pytest.mark.parametrize("name", NAMES)
def test_each_ml_function_is_an_mlfunction_in_from(name: str) -> None:
    tree = _query(f"SELECT * FROM ml.{name.lower()}(MODEL demo.m)")
    node = tree.args["from_"].this
    assert isinstance(node, MLFunction) and node.name == name
    model = node.args["model"]
    assert isinstance(model, exp.Table) and (model.db, model.name) == ("demo", "m")
    assert node.args.get("expression") is None and node.args.get("settings") is None


def test_predict_with_a_subquery_settings_and_an_alias_inside_a_join() -> None:
    tree = _query("SELECT h.id, p.predicted_price FROM houses AS h "
                  "JOIN ML.PREDICT(MODEL m, (SELECT id, area FROM houses), STRUCT(0.5 AS threshold)) AS p "
                  "ON h.id = p.id WHERE p.predicted_price > 3 ORDER BY 2 LIMIT 5")
    (node,) = tree.find_all(MLFunction)
    assert isinstance(node.parent, exp.Join)
    assert node.name == "PREDICT" and node.args["model"].name == "m"
    assert isinstance(node.args["expression"], exp.Subquery)
    assert isinstance(node.args["settings"], exp.Struct)
    assert node.alias == "p"
    assert not list(tree.find_all(exp.Predict))  # sqlglot's own node is normalised away


def test_table_input_is_a_table_and_the_statement_prints_back() -> None:
    sql = "SELECT * FROM ML.EVALUATE(MODEL src.m, TABLE src.t) AS e"
    tree = _query(sql)
    (node,) = tree.find_all(MLFunction)
    given = node.args["expression"]
    assert isinstance(given, exp.Table) and (given.db, given.name) == ("src", "t")
    assert tree.sql(dialect=Softquery) == sql
    assert isinstance(Softquery().parse(tree.sql(dialect=Softquery))[0], exp.Select)


def test_ml_functions_inside_create_table_as_and_ctes() -> None:
    create = parse_script("CREATE TABLE out AS WITH w AS (SELECT * FROM ML.WEIGHTS(MODEL m)) "
                          "SELECT * FROM w, ML.ROC_CURVE(MODEL m, (SELECT 1 AS a)) r")[0]
    assert isinstance(create, CreateTable)
    assert sorted(n.name for n in create.query.find_all(MLFunction)) == ["ROC_CURVE", "WEIGHTS"]


def test_the_same_names_without_ml_stay_ordinary_calls() -> None:
    tree = _query("SELECT predict(features) AS p, evaluate(x) FROM t")
    assert not list(tree.find_all(MLFunction))
    assert sorted(f.name for f in tree.find_all(exp.Anonymous)) == ["evaluate", "predict"]


def test_an_ml_function_without_model_is_a_positioned_error() -> None:
    with pytest.raises(SqlError) as caught:
        parse_script("SELECT 1;\nSELECT * FROM ML.EVALUATE(m)")
    assert caught.value.details["line"] == 2
    assert "MODEL" in caught.value.message


def test_an_ml_function_softquery_does_not_run_is_named_with_the_ones_it_runs() -> None:
    from softquery.sql.parse import parse_script
    from softquery.sql.statement_errors import SqlError

    with pytest.raises(SqlError) as caught:
        parse_script("SELECT * FROM ML.GLOBAL_EXPLAIN(MODEL house_lr)")
    assert caught.value.details["column"] == 18 and "ML.GLOBAL_EXPLAIN is not an ML function" in caught.value.message
    assert "ML.ROC_CURVE" in caught.value.message
    with pytest.raises(SqlError) as caught:
        parse_script("SELECT * FROM ML.EVALUTE(MODEL m)")
    assert caught.value.details["suggestion"] == "ML.EVALUATE"
