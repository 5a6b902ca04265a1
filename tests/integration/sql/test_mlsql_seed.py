"""The MLSQL document's training and predicting examples, end to end (paths and names adapted)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.integration.sql.mlsql_seed import TRAIN_PY, write_libsvm

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
