"""MLSQL's statements in the one grammar: each form, its options, its errors, and the rule
that makes ``select … as out`` name a script table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from softquery.sql.parse import parse_script
from softquery.sql.statement_errors import SqlError
from softquery.sql.statements import Load, Predict, Query, Register, Save, SetVariable, Train


def one(text: str):  # type: ignore[no-untyped-def]
    (statement,) = parse_script(text)
    return statement


def test_load_with_options_and_a_source_table() -> None:
    load = one('load csv.`data/wine-quality.csv` where header="true" and inferSchema=\'true\' and '
               'delimiter=";" as data')
    assert isinstance(load, Load)
    assert (load.format, load.path, load.table) == ("csv", "data/wine-quality.csv", "data")
    assert {k: o.value for k, o in load.options.items()} == {"header": "true", "inferSchema": "true",
                                                             "delimiter": ";"}
    source = one("load demo.`houses` as h")
    assert (source.format, source.path, source.options) == ("demo", "houses", {})


def test_train_options_dotted_backticked_triple_quoted() -> None:
    train = one('''train data as PythonAlg.`/tmp/model1`
    where pythonScriptPath="/tmp/train.py"
    and `fitParam.0.batchSize`="1000"
    and fitParam.1.alpha=0.5
    and `kafkaParam.bootstrap.servers`="127.0.0.1:9092"
    and systemParam.envs=\'\'\'{"MLFLOW_CONDA_HOME":"/anaconda3"}\'\'\'
    and keepVersion=true''')
    assert isinstance(train, Train)
    assert (train.table, train.algorithm, train.model) == ("data", "PythonAlg", "/tmp/model1")
    values = {k: o.value for k, o in train.options.items()}
    assert values == {"pythonScriptPath": "/tmp/train.py", "fitParam.0.batchSize": "1000", "fitParam.1.alpha": 0.5,
                      "kafkaParam.bootstrap.servers": "127.0.0.1:9092",
                      "systemParam.envs": '{"MLFLOW_CONDA_HOME":"/anaconda3"}', "keepVersion": True}


def test_register_predict_save_set() -> None:
    register = one('register PythonAlg.`/tmp/model1` as predict options pythonScriptPath="/tmp/predict.py"')
    assert isinstance(register, Register) and register.function == "predict"
    assert list(register.options) == ["pythonScriptPath"]
    assert isinstance(one("register PythonAlg.`/tmp/abc` as pj"), Register)
    predict = one("predict data as PythonAlg.`/tmp/abc`")
    assert isinstance(predict, Predict) and predict.output is None
    assert one("predict data as PythonAlg.`/tmp/abc` as scored").output == "scored"
    save = one("save overwrite t as table.`demo.scores`")
    assert isinstance(save, Save) and (save.mode, save.format, save.target) == ("overwrite", "table", "demo.scores")
    assert one("save t as csv.`out/t.csv`").mode == "errorIfExists"
    assert one("save append t as parquet.`x`").mode == "append"
    assert one("save ignore t as json.`x`").mode == "ignore"
    variable = one('set model_path = "/tmp/m"')
    assert isinstance(variable, SetVariable) and (variable.name, variable.value) == ("model_path", "/tmp/m")


@pytest.mark.parametrize("text,fragment,column", [
    ('load csv.`x.csv` where header= as t', "Expected a value", 32),
    ("train data PythonAlg.`x`", "Expected AS, not 'PythonAlg'", 12),
    ("save t as csv", "ends too early: expected '.' after 'csv'", 11),
    ('train d as PythonAlg.`m` where a="1" and a="2"', "option a is given twice", 42),
    ("predict d as PythonAlg.`m` as out extra", "Expected the end of the statement", 35),
    ("lod csv.`x` as t", "Did you mean LOAD?", 1),
])
def test_errors_say_where(text: str, fragment: str, column: int) -> None:
    with pytest.raises(SqlError) as caught:
        one(text)
    assert fragment in caught.value.message
    assert caught.value.details["column"] == column, caught.value.message


def test_an_unknown_verb_near_a_known_one_is_suggested() -> None:
    with pytest.raises(SqlError, match="Did you mean LOAD"):
        one("loaf csv.`x` as t")


@pytest.mark.parametrize("text,output,printed", [
    ("select predict(features) from data as newdata", "newdata", "SELECT predict(features) FROM data"),
    ("select a from t where x > 1 as out", "out", "SELECT a FROM t WHERE x > 1"),
    ("select a from t order by a as out", "out", "SELECT a FROM t ORDER BY a"),
    ("select a from t as x", "x", "SELECT a FROM t"),
    ("select a from t as x where x.a > 1", None, "SELECT a FROM t AS x WHERE x.a > 1"),
    ("select x.a from t as x", None, "SELECT x.a FROM t AS x"),
    ("select a as b from t", None, "SELECT a AS b FROM t"),
    ("select (select 1) as x", None, "SELECT (SELECT 1) AS x"),
    ("select * from (select 1 from q) as z", None, "SELECT * FROM (SELECT 1 FROM q) AS z"),
    ("select * from src.t as z", None, "SELECT * FROM src.t AS z"),
])
def test_select_as_out_names_a_script_table_only_where_bigquery_would_not_mean_an_alias(
        text: str, output: str | None, printed: str) -> None:
    query = one(text)
    assert isinstance(query, Query) and query.output == output
    assert query.expression.sql(dialect="bigquery") == printed


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["load", "train", "register", "predict", "save", "set"]),
       st.lists(st.sampled_from([*"ab.`'\"=_ ;\n01", " as ", " where ", " and ", "'''", "fitParam.0.x"]),
                max_size=30))
def test_arbitrary_text_after_a_verb_is_a_statement_or_a_clear_error(verb: str, rest: list[str]) -> None:
    try:
        parse_script(f"{verb} {''.join(rest)}")
    except SqlError as exc:
        assert exc.details["line"] >= 1 and "^" in exc.details["excerpt"]


def test_set_gives_the_scripts_own_variables() -> None:
    script = 'set model_path = "/tmp/model1";\ntrain data as PythonAlg.`${model_path}` where a="${model_path}";'
    _, train = parse_script(script)
    assert train.model == "/tmp/model1" and train.options["a"].value == "/tmp/model1"
    _, train = parse_script(script, {"model_path": "/tmp/given"})  # --set wins
    assert train.model == "/tmp/given"
    with pytest.raises(SqlError, match=r"\$\{other\} has no value"):
        parse_script('set model_path = "x"; load csv.`${other}` as t;')
