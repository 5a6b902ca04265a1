"""MLSQL statements one by one: the files folder's walls, built-in algorithms and their
candidates, save, load from a source, permissions, audit and ignored options."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests import authkit

from softquery.domain import Principal, Role, Via
from softquery.services.audit import list_events
from softquery.services.context import ServiceContext
from softquery.services.files import files_folder
from softquery.services.sql_functions import registered_functions
from softquery.services.sql_results import ScriptResult
from softquery.services.sql_script_tables import run_on_script_tables
from softquery.services.sql_scripts import run_script
from softquery.services.sql_session import Session
from softquery.sql.parse import parse_script

HOUSES = "id,price,rooms,value\n" + "\n".join(
    f"{i},{50 + 7 * i % 400},{1 + i % 6},{100 + 2 * (50 + 7 * i % 400) + 10 * (1 + i % 6)}" for i in range(120))


def ok(result: ScriptResult) -> ScriptResult:
    assert result.error is None, result.error
    return result


def failed(result: ScriptResult) -> dict:  # type: ignore[type-arg]
    assert result.error is not None, result.results
    return result.error


@pytest.fixture
def folder(ctx: ServiceContext) -> Path:
    folder = files_folder(ctx)
    (folder / "houses.csv").write_text(HOUSES + "\n")
    return folder


def as_role(ctx: ServiceContext, name: str, role: Role) -> ServiceContext:
    user = authkit.user(ctx, name, role)
    return ctx.acting_as(Principal(username=name, role=role, via=Via.SESSION, user_id=user.id))


def test_a_file_inside_loads_with_csv_options(ctx: ServiceContext, folder: Path) -> None:
    (folder / "sub").mkdir()
    (folder / "sub" / "semi.csv").write_text("a;b\n1;x\n2;y\n")
    result = ok(run_script(ctx, 'load csv.`houses.csv` where header="true" and inferSchema="true" as h;\n'
                                "select count(*) as n, sum(rooms) as r from h;\n"
                                'load csv.`sub/semi.csv` where header="true" and delimiter=";" as s;\n'
                                "select * from s;\n"
                                "load csv.`houses.csv` as raw;\n"
                                "select * from raw limit 1;"))
    assert result.results[1].rows == [[120, sum(1 + i % 6 for i in range(120))]]
    assert result.results[3].rows == [["1", "x"], ["2", "y"]]  # no inferSchema: strings, as Spark
    assert [c.name for c in result.results[5].columns] == ["_c0", "_c1", "_c2", "_c3"]  # no header
    assert result.results[5].rows == [["id", "price", "rooms", "value"]]


def test_a_csv_whose_first_row_looks_like_a_header_gets_a_note(ctx: ServiceContext, folder: Path) -> None:
    (folder / "words.csv").write_text("a,b\nx,y\nz,w\n")  # all text: no header to tell apart
    result = ok(run_script(ctx, "load csv.`houses.csv` as raw;\n"
                                'load csv.`houses.csv` where header="false" as chosen;\n'
                                'load csv.`houses.csv` where header="true" as named;\n'
                                "load csv.`words.csv` as words;"))
    hint = "the first row looks like a header: add where header='true'"
    assert hint in result.results[0].notes
    assert [hint in r.notes for r in result.results[1:]] == [False, False, False]


def test_json_lines_parquet_and_libsvm_load(ctx: ServiceContext, folder: Path) -> None:
    (folder / "rows.json").write_text('{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n')
    pq.write_table(pa.table({"a": [1.5, 2.5], "v": [[1.0, 2.0], [3.0, 4.0]]}), folder / "rows.parquet")
    (folder / "tiny.libsvm").write_text("1 1:0.5 3:2\n0 2:1\n")
    result = ok(run_script(ctx, "load json.`rows.json` as j; select sum(a) as s, max(b) as m from j;\n"
                                "load parquet.`rows.parquet` as p; select vec_at(v, 1) as second, vec_size(v) as n "
                                "from p;\n"
                                'load libsvm.`tiny.libsvm` where numFeatures="4" as l; select label, features from l;'))
    assert result.results[1].rows == [[3, "y"]]
    assert result.results[3].rows == [[2.0, 2], [4.0, 2]]
    assert result.results[5].rows == [[1.0, [0.5, 0.0, 2.0, 0.0]], [0.0, [0.0, 1.0, 0.0, 0.0]]]
    assert result.results[5].columns[1].type.startswith("list<")


def test_the_models_hidden_folder_is_not_a_scripts(ctx: ServiceContext, folder: Path) -> None:
    ok(run_script(ctx, 'load csv.`houses.csv` where header="true" and inferSchema="true" as h;\n'
                       'train h as LinearRegression.`hidden` where labelCol="value";'))
    assert (folder / ".mlsql" / "hidden.duckdb").exists()
    before = (folder / ".mlsql" / "hidden.duckdb").read_bytes()
    for statement in ("load parquet.`.mlsql/hidden.duckdb` as x;",
                      "load csv.`houses.csv` as h; save overwrite h as parquet.`.mlsql/hidden.duckdb`;"):
        error = failed(run_script(ctx, statement))
        assert "where softquery keeps the rows" in error["message"]
    assert (folder / ".mlsql" / "hidden.duckdb").read_bytes() == before
    assert [s.url for s in ctx.sources.list() if s.name == "mlsql_hidden"] == [
        f"duckdb:///{folder / '.mlsql' / 'hidden.duckdb'}"]
    assert [e.target for e in list_events(ctx, action="source.add")] == ["mlsql_hidden"]


def test_the_rows_a_train_statement_keeps_are_private_from_the_start(ctx: ServiceContext, folder: Path) -> None:
    """Review 18: the .mlsql/<model>.duckdb file a train statement writes is 0600 (its folder 0700)
    right after the statement, whatever the process's umask, not once home_privacy fixes it."""
    before = os.umask(0o022)
    try:
        ok(run_script(ctx, 'load csv.`houses.csv` where header="true" and inferSchema="true" as h;\n'
                           'train h as LinearRegression.`private_rows` where labelCol="value";'))
    finally:
        os.umask(before)
    assert oct((folder / ".mlsql" / "private_rows.duckdb").stat().st_mode & 0o777) == oct(0o600)
    assert oct((folder / ".mlsql").stat().st_mode & 0o777) == oct(0o700)


@pytest.mark.parametrize("path", ["../houses.csv", "sub/../../houses.csv", "/etc/passwd", "link.csv",
                                  "linkdir/houses.csv"])
def test_paths_that_leave_the_files_folder_are_refused(ctx: ServiceContext, folder: Path, tmp_path: Path,
                                                         path: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "houses.csv").write_text(HOUSES)
    os.symlink(outside / "houses.csv", folder / "link.csv")
    os.symlink(outside, folder / "linkdir")
    error = failed(run_script(ctx, f'load csv.`{path}` where header="true" as t;'))
    assert "leaves the files folder" in error["message"], error
    # and nothing is written outside either
    error = failed(run_script(ctx, f'load csv.`houses.csv` as t; save overwrite t as csv.`{path}`;'))
    assert "leaves the files folder" in error["message"], error
    assert (outside / "houses.csv").read_text() == HOUSES


def test_a_script_select_reads_no_file_of_the_server(ctx: ServiceContext, folder: Path) -> None:
    result = run_script(ctx, "load csv.`houses.csv` as t;\n"
                             "select *, (select count(*) from read_csv('/etc/passwd')) as n from t;")
    error = failed(result)
    assert error["details"]["line"] == 2
    assert "file system operations are disabled" in error["message"]
    session = Session(ctx, None)
    session.tables["t"] = pa.table({"a": [1]})
    for sql in ("select * from t, read_csv('/etc/passwd')", "select * from t, read_text('/etc/hostname')"):
        with pytest.raises(Exception, match="disabled"):
            statement = parse_script(sql)[0]
            run_on_script_tables(session, statement, statement.expression)  # type: ignore[attr-defined]


def test_a_script_select_stops_at_the_statement_time_limit(ctx: ServiceContext) -> None:
    import dataclasses
    import time

    quick = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"statement_timeout_seconds": 0.5}))
    session = Session(quick, None)
    session.tables["t"] = pa.table({"a": [1, 2, 3]})
    statement = parse_script("select count(*) from t, range(100000000000) as r")[0]
    started = time.monotonic()
    with pytest.raises(Exception, match=r"ran longer than 0.5 s"):
        run_on_script_tables(session, statement, statement.expression)  # type: ignore[attr-defined]
    assert time.monotonic() - started < 10


def test_built_in_candidates_are_versions_and_the_best_on_the_evaluate_table_is_active(
        ctx: ServiceContext, folder: Path) -> None:
    script = '''
    load csv.`houses.csv` where header="true" and inferSchema="true" as data;
    select * from data where id % 4 = 0 as holdout;
    train data as RandomForest.`models/house-kind` where labelCol="rooms" and featureCol="value"
      and keepVersion="true" and `fitParam.0.maxDepth`="1" and `fitParam.0.numTrees`="5"
      and `fitParam.1.maxDepth`="12" and evaluateTable="data" and autoSelectByMetric="accuracy";
    train data as LinearRegression.`/tmp/lr` where labelCol="value"
      and fitParam.0.fit_intercept="false" and fitParam.1.fit_intercept="true"
      and evaluateTable="holdout" and autoSelectByMetric="rmse";
    '''
    result = ok(run_script(ctx, script))
    forest, linear = result.results[2], result.results[3]
    assert forest.message.startswith("model house_kind: 2 candidates trained as versions 1, 2; version 2 active, "
                                     "accuracy "), forest.message
    assert linear.message.startswith("model lr: 2 candidates trained as versions 1, 2; version 2 active, rmse "), \
        linear.message
    assert ctx.models.get("lr").active_version == 2
    assert "n_estimators" in ctx.versions.get("house_kind", 1).manifest["code"]
    # an estimator parameter that does not exist is named, with the known ones, before anything runs
    error = failed(run_script(ctx, "load csv.`houses.csv` where header=\"true\" and inferSchema=\"true\" as d;\n"
                                   "train d as LinearRegression.`lr2` where labelCol=\"value\" "
                                   "and fitParam.0.depth=\"3\";"))
    assert "no parameter 'depth'" in error["message"] and "fit_intercept" in error["message"]
    assert "lr2" not in [m.name for m in ctx.models.list()]


def test_save_into_the_files_folder_and_modes(ctx: ServiceContext, folder: Path) -> None:
    result = ok(run_script(ctx, 'load csv.`houses.csv` where header="true" and inferSchema="true" as h;\n'
                                "select id, value from h where rooms = 2 as two;\n"
                                "save overwrite two as parquet.`out/two.parquet`;\n"
                                "save two as csv.`out/two.csv` where header=\"true\" and compression=\"gzip\";"))
    table = pq.read_table(folder / "out" / "two.parquet")
    assert table.column_names == ["id", "value"] and table.num_rows == 20
    assert (folder / "out" / "two.csv").read_text().startswith('"id","value"\n')
    assert result.results[3].notes == ["option compression has no meaning for save csv in softquery and is ignored"]
    error = failed(run_script(ctx, "load csv.`houses.csv` as h; save h as csv.`out/two.csv`;"))
    assert "exists already" in error["message"]
    ok(run_script(ctx, "load csv.`houses.csv` as h; save ignore h as csv.`out/two.csv`;"))
    assert (folder / "out" / "two.csv").read_text().startswith('"id","value"\n')
    events = list_events(ctx, action="file.save")
    assert events and "save overwrite two" in events[-1].details["sql"] + events[0].details["sql"]


def test_load_a_table_of_a_source(ctx: ServiceContext, sqlite_source: str, folder: Path) -> None:
    result = ok(run_script(ctx, "load src.`houses` as h;\nselect count(*) as n from h where kind = 'big';"))
    assert result.results[0].message.startswith("table h: 200 rows")
    assert result.results[1].rows[0][0] > 0
    error = failed(run_script(ctx, "load scr.`houses` as h;"))
    assert "Did you mean format or source 'src'" in error["message"]
    error = failed(run_script(ctx, "load csv.`houses.csv` as x;\nload src.`housse` as h;"))
    assert error["code"] == "sql_error" and "Table housse of source src cannot be read" in error["message"]
    assert (error["details"]["line"], error["details"]["column"]) == (2, 10)


def test_viewers_load_and_select_editors_train_register_and_save(ctx: ServiceContext, folder: Path) -> None:
    viewer = as_role(ctx, "vera", Role.VIEWER)
    load = 'load csv.`houses.csv` where header="true" and inferSchema="true" as h;\n'
    ok(run_script(viewer, load + "select count(*) from h as n;"))
    for statement in ('train h as LinearRegression.`v_lr` where labelCol="value";',
                      "save h as csv.`v.csv`;"):
        error = failed(run_script(viewer, load + statement))
        assert error["code"] == "forbidden", error
    assert not (folder / "v.csv").exists() and "v_lr" not in [m.name for m in ctx.models.list()]
    assert not (folder / ".mlsql").exists() and "mlsql_v_lr" not in [s.name for s in ctx.sources.list()]
    editor = as_role(ctx, "edith", Role.EDITOR)
    trained = ok(run_script(editor, load + 'train h as LinearRegression.`e_lr` where labelCol="value";'))
    # no server or queue would run it: trained here, not left queued
    assert trained.results[1].run_status == "succeeded" and ctx.models.get("e_lr").active_version == 1
    error = failed(run_script(viewer, "register PythonAlg.`e_lr` as e_fn;"))
    assert error["code"] == "forbidden"
    other = as_role(ctx, "otto", Role.EDITOR)
    error = failed(run_script(other, load + 'train h as LinearRegression.`e_lr` where labelCol="value";'))
    assert error["code"] == "forbidden"  # another editor's model
    ok(run_script(editor, "register PythonAlg.`e_lr` as e_fn;"))
    # another editor cannot point e_fn at their own model; no function takes a model's name
    ok(run_script(other, load + 'train h as LinearRegression.`o_lr` where labelCol="value";'))
    error = failed(run_script(other, "register PythonAlg.`o_lr` as e_fn;"))
    assert error["code"] == "forbidden" and "registered by another user" in error["message"]
    error = failed(run_script(other, "register PythonAlg.`o_lr` as e_lr;"))
    assert error["code"] == "conflict"
    assert registered_functions(ctx) == {"e_fn": "e_lr"}
    actions = {(e.actor, e.action) for e in list_events(ctx)}
    assert {("edith", "model.train"), ("edith", "function.register")} <= actions
    train = next(e for e in list_events(ctx, action="model.train") if e.actor == "edith" and "sql" in e.details)
    assert "train h as LinearRegression" in train.details["sql"]
    # a deleted model takes its functions with it: e_fn never calls a later model named e_lr
    ok(run_script(editor, "DROP MODEL e_lr"))
    assert registered_functions(ctx) == {}
    ok(run_script(other, load + 'train h as LinearRegression.`e_lr` where labelCol="value";'))
    error = failed(run_script(viewer, load + "select e_fn(price, rooms) as p from h;"))
    assert error["code"] == "sql_error" and "e_fn" in error["message"]


def test_save_predictions_into_a_table_of_a_source_through_the_writer(
        ctx: ServiceContext, sqlite_source: str, folder: Path) -> None:
    import sqlite3

    script = ('load src.`houses` as h;\n'
              'train h as LinearRegression.`hv` where labelCol="value" and featureCol="price";\n'
              "predict h as LinearRegression.`hv` as scored;\n"
              "save overwrite scored as table.`src.hv_scores`;\n")
    result = ok(run_script(ctx, script, wait=True))
    assert result.results[3].message == "table src.hv_scores: 200 rows written"
    # a source's table as load read it: the model reads the source itself (no copy)
    model = ctx.models.get("hv")
    assert (model.source, model.train_sql) == ("src", 'select "price", "value" from "houses"')
    assert "mlsql_hv" not in [s.name for s in ctx.sources.list()]
    path = sqlite_source.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("select count(*), count(predicted_value) from hv_scores").fetchone() == (200, 200)
    conn.close()
    again = ("load src.`houses` as h;\npredict h as LinearRegression.`hv` as scored;\n")
    ok(run_script(ctx, again + "save append scored as table.`src.hv_scores`;"))
    with sqlite3.connect(path) as conn:
        assert conn.execute("select count(*) from hv_scores").fetchone() == (400,)
    conn.close()
    # not predictions, a source's own table, another model's table: refused, nothing written
    error = failed(run_script(ctx, "load src.`houses` as h;\nsave overwrite h as table.`src.copy`;"))
    assert "only with a model's predictions" in error["message"] and error["details"]["line"] == 2
    error = failed(run_script(ctx, again + "save overwrite scored as table.`src.houses`;"))
    assert "softquery did not create it" in error["message"]
    error = failed(run_script(ctx, again + "save scored as table.`src.hv_scores`;"))
    assert "already exists" in error["message"]
    from softquery.services.models import ModelSpec, create_model

    create_model(ctx, "other", ModelSpec(source="src", template="linear_regression", output_table="taken",
                                         train_sql="select price, value from houses",
                                         predict_sql="select price from houses"))
    error = failed(run_script(ctx, again + "save overwrite scored as table.`src.taken`;"))
    assert "reserved as the output table of model 'other'" in error["message"]
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    conn.close()
    assert "copy" not in tables and "taken" not in tables
    assert [e.target for e in list_events(ctx, action="table.save")] == ["src.hv_scores"] * 2


CLASS_MODEL = '''
class Model:
    def train(self, X, y):
        # the candidate's fitParam group, appended by softquery
        self.shift = float(MLSQL_FIT_PARAM.get("shift", "0"))
        self.mean = float(sum(y)) / len(y)

    def predict(self, X):
        return [self.mean + self.shift] * len(X)
'''


def test_python_alg_class_model_with_candidates_an_existing_models_code_and_unknown_algorithms(
        ctx: ServiceContext, folder: Path) -> None:
    (folder / "code").mkdir()
    (folder / "code" / "mean.py").write_text(CLASS_MODEL)
    load = 'load csv.`houses.csv` where header="true" and inferSchema="true" as h;\n'
    result = ok(run_script(ctx, load + 'train h as PythonAlg.`mean` where pythonScriptPath="code/mean.py" '
                                       'and labelCol="value" and fitParam.0.shift="0" and fitParam.1.shift="1000";\n'
                                       "predict h as PythonAlg.`mean` as p;\n"
                                       "select distinct predicted_value from p;"))
    assert result.results[1].message.startswith("model mean: 2 candidates trained as versions 1, 2; version 1 active")
    mean = sum(100 + 2 * (50 + 7 * i % 400) + 10 * (1 + i % 6) for i in range(120)) / 120
    assert result.results[3].rows == [[pytest.approx(mean)]]
    assert "MLSQL_FIT_PARAM = {'shift': '1000'}" in ctx.versions.get("mean", 2).manifest["code"]
    # an existing model's code, by its name
    ok(run_script(ctx, load + 'train h as PythonAlg.`mean_copy` where pythonScriptPath="mean" and labelCol="value";'))
    assert "class Model" in ctx.models.get("mean_copy").code
    error = failed(run_script(ctx, load + 'train h as LinearRegresion.`x` where labelCol="value";'))
    assert "Did you mean algorithm 'LinearRegression'" in error["message"] and error["details"]["line"] == 2
    error = failed(run_script(ctx, load + 'train h as PythonAlg.`x` where pythonScriptPath="code/none.py";'))
    assert error["code"] == "not_found" and "code/none.py" in error["message"]


def test_every_built_in_algorithm_trains_on_a_vector_column(ctx: ServiceContext, folder: Path) -> None:
    from tests.integration.sql.mlsql_seed import write_libsvm

    write_libsvm(folder / "sample.libsvm")
    names = ["LinearRegression", "LogisticRegressor", "RandomForest", "GBTRegressor", "GBTClassifier",
             "NaiveBayes", "KMeans", "SVM"]
    script = "load libsvm.`sample.libsvm` as data;\n" + "\n".join(
        f'train data as {name}.`b_{name.lower()}` where featureCol="features";' for name in names)
    result = ok(run_script(ctx, script, wait=True))
    for name, trained in zip(names, result.results[1:], strict=True):
        assert trained.run_status == "succeeded", (name, trained.message)
        version = ctx.versions.get(f"b_{name.lower()}", 1)
        assert version.manifest["data"]["features"][0]["name"] == "features"
        expected = {"KMeans": "clustering", "LinearRegression": "regression", "GBTRegressor": "regression"}
        assert version.manifest["task"] == expected.get(name, "classification"), name


def test_a_failing_candidate_stops_the_script_and_says_what_the_earlier_made(
        ctx: ServiceContext, folder: Path) -> None:
    (folder / "picky.py").write_text(CLASS_MODEL.replace(
        "        self.mean = float(sum(y)) / len(y)",
        "        if MLSQL_FIT_PARAM.get('fail'):\n            raise ValueError('no such shift')\n"
        "        self.mean = float(sum(y)) / len(y)"))
    result = run_script(ctx, 'load csv.`houses.csv` where header="true" and inferSchema="true" as h;\n'
                              'train h as PythonAlg.`picky` where pythonScriptPath="picky.py" and labelCol="value" '
                              'and fitParam.0.shift="1" and fitParam.1.fail="yes";\n'
                              "select 1 from h as never;")
    error = failed(result)
    assert result.failed_statement == 2 and len(result.results) == 1
    assert "candidate 1" in error["message"] and "Earlier candidates made version(s) 1." in error["message"]
    assert "no such shift" in error["message"]
    assert [v.version for v in ctx.versions.list("picky")] == [1]
