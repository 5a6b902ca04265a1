"""The MLSQL document's training and predicting examples, end to end (paths and names adapted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.integration.sql.mlsql_seed import (
    TRAIN_PY,
    WINE_COLUMNS,
    WINE_TRAIN_PY,
    write_libsvm,
    write_wine,
)

from softquery.services.context import ServiceContext
from softquery.services.files import files_folder
from softquery.services.sql_results import ScriptResult
from softquery.services.sql_scripts import run_script


def ok(result: ScriptResult) -> ScriptResult:
    assert result.error is None, result.error
    return result


@pytest.fixture
def files(ctx: ServiceContext) -> Path:
    folder = files_folder(ctx)
    write_libsvm(folder / "sample_libsvm_data.txt")
    (folder / "train.py").write_text(TRAIN_PY)
    return folder


def test_libsvm_training_keeps_versions_and_predicting_with_a_registered_function(
        ctx: ServiceContext, files: Path) -> None:
    train = '''
    load libsvm.`sample_libsvm_data.txt` as data;

    train data as PythonAlg.`/tmp/model1`
    where
    pythonScriptPath="train.py"

    -- keep the vertion of every model you train
    and keepVersion="true"

    and  enableDataLocal="true"
    and  dataLocalFormat="json"

    and  `fitParam.0.batchSize`="1000"
    and  `fitParam.0.labelSize`="2"

    and validateTable="data"

    and `systemParam.pythonPath`="python"
    and `systemParam.pythonVer`="2.7"
    and `kafkaParam.bootstrap.servers`="127.0.0.1:9092"
    ;
    '''
    result = ok(run_script(ctx, train, wait=True))
    load, trained = result.results
    assert load.message.startswith("table data: 120 rows, 2 columns")
    assert trained.run_status == "succeeded", trained
    assert trained.message.startswith("model model1: version 1 trained, f1 "), trained.message
    ignored = " ".join(trained.notes)
    for option in ("enableDataLocal", "systemParam.pythonPath", "systemParam.pythonVer",
                   "kafkaParam.bootstrap.servers"):
        assert f"option {option} " in ignored
    assert float(trained.message.split("f1 ")[1].split()[0]) > 0.9
    assert ctx.models.get("model1").active_version == 1

    predict = '''
    load libsvm.`sample_libsvm_data.txt` as data;

    -- register the model we have trained as a funciton.
    register PythonAlg.`/tmp/model1` as predict options
    pythonScriptPath="predict.py"
    ;

    -- use the predict udf
    select predict(features) from data
    as newdata;
    select label, p from (select label, predict(features) as p from newdata_src) as checked;
    '''.replace("newdata_src", "data")
    result = ok(run_script(ctx, predict))
    _, registered, selected, checked = result.results
    assert "function predict(…) calls model model1" in registered.message
    assert any("pythonScriptPath" in note for note in registered.notes)
    assert selected.row_count == 120 and {row[0] for row in selected.rows} == {0, 1}
    rows = checked.rows
    assert sum(1 for label, p in rows if label == p) >= 110

    # batch predict, into a table of the script
    result = ok(run_script(ctx, "load libsvm.`sample_libsvm_data.txt` as data;\n"
                                "predict data as PythonAlg.`/tmp/model1` as scored;\n"
                                "select count(*) as n from scored where predicted_label = label as hits;"))
    assert result.results[1].row_count == 120
    assert "predicted_label" in [c.name for c in result.results[1].columns]
    assert result.results[2].rows[0][0] >= 110


SEED_SQL = "select pj(vec_dense(features)) as p1 "
SEED_DATA = '[{"features":[ 0.045, 8.8, 1.001, 45.0, 7.0, 170.0, 0.27, 0.45, 0.36, 3.0, 20.7 ]}]'


def test_wine_quality_candidates_batch_predict_and_the_http_request(ctx: ServiceContext, files: Path) -> None:
    """The MLflow wine example: several fitParam groups become versions, the best is active;
    batch predict; register as pj; the document's HTTP request calls pj."""
    from fastapi.testclient import TestClient
    from tests import authkit

    from softquery.server import create_app

    write_wine(files / "wine-quality.csv")
    (files / "sklearn_elasticnet_wine").mkdir()
    (files / "sklearn_elasticnet_wine" / "train.py").write_text(WINE_TRAIN_PY)
    script = '''
    load csv.`wine-quality.csv`
    where header="true" and inferSchema="true"
    as data;

    train data as PythonAlg.`/tmp/abc`
     where pythonScriptPath="sklearn_elasticnet_wine"
     and keepVersion="true"
     and  enableDataLocal="true"
     and  dataLocalFormat="csv"
     and labelCol="quality"
     and `fitParam.0.alpha`="5.0"
     and `fitParam.1.alpha`="0.001"
     and `fitParam.2.alpha`="1.0"
     and `fitParam.2.l1_ratio`="0.9"
     and systemParam.envs=\'\'\'{"MLFLOW_CONDA_HOME":"/anaconda3"}\'\'\'
     ;
    predict data as PythonAlg.`/tmp/abc`;
    register PythonAlg.`/tmp/abc` as pj;
    '''
    result = ok(run_script(ctx, script))
    load, trained, predicted, registered = result.results
    assert load.message.startswith("table data: 300 rows, 12 columns")
    assert trained.message.startswith("model abc: 3 candidates trained as versions 1, 2, 3; version 2 active, r2 ")
    assert any("systemParam.envs" in note for note in trained.notes)
    model = ctx.models.get("abc")
    assert model.active_version == 2 and len(ctx.versions.list("abc")) == 3
    r2 = {v.version: v.metrics["r2"] for v in ctx.versions.list("abc")}
    assert r2[2] == max(r2.values())
    assert predicted.row_count == 300 and predicted.columns[-1].name == "predicted_quality"
    assert "function pj(…) calls model abc" in registered.message

    with TestClient(create_app(ctx, None), raise_server_exceptions=False) as client:
        client.headers.update(authkit.bearer(ctx))
        response = client.post("/model/predict", data={"sql": SEED_SQL, "data": SEED_DATA, "dataType": "row"})
        assert response.status_code == 200, response.text
        (row,) = response.json()
        assert set(row) == {"p1"} and isinstance(row["p1"], float)
        assert response.headers["x-softquery-model-version"] == "abc=2"
        # the same prediction as the model's own JSON API
        features = dict(zip(WINE_COLUMNS, json.loads(SEED_DATA)[0]["features"], strict=True))
        direct = client.post("/api/v1/models/abc/predict", json={"rows": [features]})
        assert direct.json()["predictions"] == [row["p1"]]
