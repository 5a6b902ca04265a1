"""MLflow import (issue 14 item 6): a real scikit-learn model saved by mlflow becomes a signed
version that predicts like the original; tampered, non-scikit-learn, unsigned-signature and
malicious directories are refused with the reason and nothing is stored."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from softquery.data import open_source
from softquery.errors import InvalidInputError, NotFoundError
from softquery.prediction.predict_rows import LoadedModel
from softquery.services import model_import
from softquery.services.context import ServiceContext
from softquery.services.versions import load_version


def houses(ctx: ServiceContext, sql: str) -> pd.DataFrame:
    with open_source(ctx.sources.get("demo").url) as conn:
        return conn.read_table(sql, what="test").to_pandas()


def save_ridge(ctx: ServiceContext, folder: Path, serialization: str) -> tuple[Path, Ridge]:
    """A Ridge on the demo houses' price, saved by mlflow with a signature."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    train = houses(ctx, "select price, quality from houses where quality is not null")
    X = train[["price"]].astype(float)
    original = Ridge(alpha=0.5).fit(X, train["quality"])
    mlflow.sklearn.save_model(original, str(folder), signature=infer_signature(X, original.predict(X)),
                              serialization_format=serialization)
    return folder, original


@pytest.fixture
def saved(ctx: ServiceContext, tmp_path: Path) -> tuple[Path, Ridge]:
    """Saved as a (cloud)pickle: the format whose loading can run code."""
    return save_ridge(ctx, tmp_path / "ridge", "cloudpickle")


@pytest.mark.parametrize("serialization", ["skops", "cloudpickle"])  # skops: mlflow's default
def test_import_makes_a_version_that_predicts_like_the_original(ctx: ServiceContext, tmp_path: Path,
                                                                serialization: str) -> None:
    folder, original = save_ridge(ctx, tmp_path / "ridge", serialization)
    version = model_import.import_version(ctx, "house_quality", folder)
    assert version.version == 1 and not version.active
    manifest = version.manifest
    assert manifest["data"]["features"] == [{"name": "price", "arrow_type": "double", "kind": "numeric",
                                             "length": None}]
    assert manifest["data"]["fingerprint"] == "imported" and manifest["task"] == "regression"
    assert manifest["notes"][0].startswith(f"imported from MLflow directory {folder}")
    assert "class Model" in manifest["code"]
    load_version(ctx, version)  # the signature holds (a changed manifest or artifact would be refused)
    new = houses(ctx, "select price from houses where quality is null")
    import pyarrow as pa
    loaded = LoadedModel.load(ctx.versions.artifact("house_quality", 1), manifest["code"],
                              manifest["data"]["features"])
    got, _ = loaded.predict(pa.Table.from_pandas(new, preserve_index=False), want_proba=False)
    np.testing.assert_allclose(got, original.predict(new[["price"]].astype(float)), rtol=1e-12)


def test_import_of_a_classifier_keeps_its_classes(ctx: ServiceContext, tmp_path: Path) -> None:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    X = pd.DataFrame({"price": np.linspace(1.0, 9.0, 40)})
    y = np.where(X["price"] > 5, "dear", "cheap")
    original = LogisticRegression().fit(X, y)
    mlflow.sklearn.save_model(original, str(tmp_path / "lr"), signature=infer_signature(X, original.predict(X)),
                              serialization_format="cloudpickle")
    version = model_import.import_version(ctx, "house_quality", tmp_path / "lr", activate=True)
    assert version.active and version.manifest["classes"] == ["cheap", "dear"]
    assert "def predict_proba" in version.manifest["code"]


def refused(ctx: ServiceContext, folder: Path, model: str = "house_quality") -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        model_import.import_version(ctx, model, folder)
    assert ctx.versions.list(model) == []  # nothing stored
    return caught.value


def test_tampered_model_file_is_refused(ctx: ServiceContext, saved: tuple[Path, Ridge]) -> None:
    folder, _ = saved
    other = Ridge().fit(np.arange(20.0).reshape(10, 2), np.arange(10.0))  # two columns, not price
    (folder / "model.pkl").write_bytes(pickle.dumps(other))
    error = refused(ctx, folder)
    assert "model.pkl does not match its MLmodel" in error.message
    (folder / "model.pkl").write_bytes(b"not a pickle at all")
    assert "is not a cloudpickle file as MLmodel declares" in refused(ctx, folder).message
    (folder / "model.pkl").unlink()
    assert "which is not a file in" in refused(ctx, folder).message


def _rewrite_mlmodel(folder: Path, change: Any) -> None:
    import yaml

    described = yaml.safe_load((folder / "MLmodel").read_text())
    change(described)
    (folder / "MLmodel").write_text(yaml.safe_dump(described))


def test_non_sklearn_flavour_and_missing_signature_are_refused(ctx: ServiceContext, saved: tuple[Path, Ridge],
                                                               tmp_path: Path) -> None:
    folder, _ = saved
    copy = tmp_path / "xgb"
    shutil.copytree(folder, copy)
    _rewrite_mlmodel(copy, lambda d: d["flavors"].update(xgboost=d["flavors"].pop("sklearn")))
    error = refused(ctx, copy)
    assert "not a scikit-learn model (its flavours: xgboost)" in error.message
    _rewrite_mlmodel(folder, lambda d: d.pop("signature"))
    error = refused(ctx, folder)
    assert "has no signature" in error.message and "infer_signature" in error.message
    with pytest.raises(NotFoundError):
        model_import.import_version(ctx, "no_such_model", folder)


class ReadTheKey:
    """Unpickling runs ``exec``: read the server's secret key and write it next to it."""

    def __init__(self, key: Path, loot: Path) -> None:
        self.code = (f"data = open({str(key)!r}, 'rb').read()\n"
                     f"open({str(loot)!r}, 'wb').write(data)\n")

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (self.code,))


def test_a_malicious_pickle_runs_only_in_the_child_and_cannot_touch_the_server(
        ctx: ServiceContext, saved: tuple[Path, Ridge], tmp_path: Path) -> None:
    folder, _ = saved
    key = ctx.settings.home / "secret.key"
    loot = ctx.settings.home / "stolen.key"
    payload = pickle.dumps(ReadTheKey(key, loot))
    (folder / "model.pkl").write_bytes(payload)
    error = refused(ctx, folder)
    assert not loot.exists()  # the child cannot see the home: no key read, no file written
    assert "could not be loaded as a scikit-learn model" in error.message or "not a scikit-learn" in error.message
    # control: the same bytes unpickled without the sandbox do read the key and write the file
    pickle.loads(payload)  # noqa: S301 - the attack test's control
    assert loot.read_bytes() == key.read_bytes()
    loot.unlink()
    json.dumps(error.details)  # the refusal is plain JSON


def test_the_versions_code_is_written_by_the_parent_not_taken_from_the_child() -> None:
    """A model file that took the import child over could answer any code: the parent writes the
    code from the reported class name and task, and refuses anything but a scikit-learn class."""
    from softquery.artifacts.import_mlflow import ImportRefused, imported_code

    code = imported_code("sklearn.linear_model._ridge.Ridge", "regression", False)
    assert "A Ridge imported from an MLflow model directory" in code and "predict_proba" not in code
    for estimator, task in [("os.system", "regression"), ("sklearn.x\nimport os", "regression"),
                            ("sklearn.linear_model.Ridge", "clustering")]:
        with pytest.raises(ImportRefused):
            imported_code(estimator, task, False)


def sql(ctx: ServiceContext, text: str) -> Any:
    from softquery.services.sql_scripts import run_script

    result = run_script(ctx, text)
    assert result.error is None, result.error
    return result.results[-1]


def test_ml_functions_answer_for_an_imported_version(ctx: ServiceContext, saved: tuple[Path, Ridge]) -> None:
    """Review 1: an imported version has no stored metrics: ML.EVALUATE answers a row of NULL
    metrics and a note (not an internal error); with input rows it measures against the model's
    label; the other ML functions answer or refuse in words."""
    from softquery.services.sql_scripts import run_script

    folder, original = saved
    model_import.import_version(ctx, "house_quality", folder, activate=True)
    stored = sql(ctx, "SELECT * FROM ML.EVALUATE(MODEL house_quality)")
    row = dict(zip([c.name for c in stored.columns], stored.rows[0], strict=True))
    assert row["r2_score"] is None and row["mean_absolute_error"] is None and row["cv_folds"] is None
    assert "imported from MLflow: it has no stored metrics" in row["note"]
    measured = sql(ctx, "SELECT * FROM ML.EVALUATE(MODEL house_quality, "
                        "(SELECT price, quality FROM houses WHERE quality IS NOT NULL))")
    row = dict(zip([c.name for c in measured.columns], measured.rows[0], strict=True))
    train = houses(ctx, "select price, quality from houses where quality is not null")
    expected = original.predict(train[["price"]].astype(float))
    assert abs(row["mean_absolute_error"] - float(np.mean(np.abs(expected - train["quality"])))) < 1e-9
    info = sql(ctx, "SELECT version, rows FROM ML.TRAINING_INFO(MODEL house_quality)")
    assert info.rows == [[1, 0]]
    for call in ("ML.FEATURE_IMPORTANCE", "ML.WEIGHTS"):
        answer = run_script(ctx, f"SELECT * FROM {call}(MODEL house_quality)")
        assert answer.error is None or answer.error["code"] != "internal_error", answer.error


def test_an_imported_version_learns_the_label_of_its_model(ctx: ServiceContext, saved: tuple[Path, Ridge]) -> None:
    """Review 1: the label comes from the model (its label setting, else the train column its predict
    query lacks), not 'learned without a label'."""
    folder, _ = saved
    model = ctx.models.get("house_quality")
    model.label = None
    ctx.models.save(model)
    version = model_import.import_version(ctx, "house_quality", folder)
    assert version.manifest["data"]["label"] == "quality"


def test_a_signature_the_predict_query_cannot_feed_is_refused(ctx: ServiceContext, tmp_path: Path) -> None:
    """Review 6: the signature's columns are checked against the predict query's (read with LIMIT 0)."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    X = pd.DataFrame({"price": np.linspace(1.0, 9.0, 20), "garden": np.linspace(0.0, 1.0, 20)})
    original = Ridge().fit(X, np.arange(20.0))
    mlflow.sklearn.save_model(original, str(tmp_path / "two"), signature=infer_signature(X, original.predict(X)))
    error = refused(ctx, tmp_path / "two")
    assert "reads column(s) garden, which the predict query of model 'house_quality' does not select" \
        in error.message
    assert "could never predict" in error.message and error.details["missing"] == ["garden"]


@pytest.mark.parametrize("fmt", ["mlflow", "onnx"])
def test_exporting_an_imported_version_says_it_was_imported(ctx: ServiceContext, saved: tuple[Path, Ridge],
                                                           fmt: str) -> None:
    """Review 9: not "runs your own model code": the version is softquery's wrapper of an import."""
    from softquery.services.model_exports import export_version

    model_import.import_version(ctx, "house_quality", saved[0])
    with pytest.raises(InvalidInputError) as caught:
        export_version(ctx, "house_quality", fmt, 1)
    assert "was imported from MLflow: its code is softquery's generated wrapper around the imported " \
           "scikit-learn model" in caught.value.message
    assert "your own model code" not in caught.value.message and caught.value.details["reason"] == "imported"


@pytest.mark.parametrize(("serialization", "file"), [("skops", "model.skops"), ("cloudpickle", "model.pkl")])
def test_bytes_appended_to_the_model_file_are_refused(ctx: ServiceContext, tmp_path: Path, serialization: str,
                                                      file: str) -> None:
    """Review 6: zip readers and pickle.loads ignore appended bytes; the parent finds the file's own end."""
    folder, _ = save_ridge(ctx, tmp_path / "ridge", serialization)
    with (folder / file).open("ab") as out:
        out.write(b"junk bytes appended later")
    error = refused(ctx, folder)
    assert f"{file} has 25 bytes after the end of its {serialization} data" in error.message
    assert error.details["trailing_bytes"] == 25


def test_a_signature_type_the_predict_query_does_not_return_is_refused(ctx: ServiceContext, tmp_path: Path,
                                                                       saved: tuple[Path, Ridge]) -> None:
    """The signature's column types are checked too: numeric declared, text returned (and the reverse)."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    folder, original = saved
    model = ctx.models.get("house_quality")
    predict_sql = model.predict_sql
    model.predict_sql = "select id, cast(price as text) as price from houses where quality is null"
    ctx.models.save(model)
    error = refused(ctx, folder)
    assert error.message.startswith("The MLflow model reads column price as double (a number), but the predict "
                                    "query of model 'house_quality' returns it as string (text): cast it to a "
                                    "number in the predict query (e.g. CAST(price AS DOUBLE PRECISION)"), error.message
    assert error.details == {"column": "price", "signature_type": "double", "query_type": "string"}

    model.predict_sql = predict_sql  # a query returning price as a number, a signature declaring text
    ctx.models.save(model)
    X = pd.DataFrame({"price": np.linspace(1.0, 9.0, 20)})
    mlflow.sklearn.save_model(original, str(tmp_path / "text"),
                              signature=infer_signature(X.astype(str), original.predict(X)),
                              serialization_format="cloudpickle")
    error = refused(ctx, tmp_path / "text")
    assert "reads column price as string (text), but the predict query of model 'house_quality' returns it as " \
           "double (a number with decimals): cast it to text in the predict query (e.g. CAST(price AS TEXT))" \
           in error.message
    assert "or import a model whose signature declares price as double" in error.message
    assert model_import.import_version(ctx, "house_quality", folder).version == 1  # matching types import


def test_types_are_not_judged_on_a_predict_query_without_rows(ctx: ServiceContext, tmp_path: Path) -> None:
    """SQLite gives every column of an empty result the integer type: with no rows to look at, the
    types are not compared (the names still are), so a text signature is not refused over a guess."""
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = pd.DataFrame({"price": [str(v) for v in np.linspace(1.0, 9.0, 20)]})  # a model of price as text
    on_text = make_pipeline(OneHotEncoder(handle_unknown="ignore"), Ridge()).fit(X, np.arange(20.0))
    mlflow.sklearn.save_model(on_text, str(tmp_path / "text"), signature=infer_signature(X, on_text.predict(X)),
                              serialization_format="cloudpickle")
    model = ctx.models.get("house_quality")
    model.predict_sql = "select id, cast(price as text) as nope from houses where 1 = 0"
    ctx.models.save(model)
    assert "does not select" in refused(ctx, tmp_path / "text").message  # names are still checked
    model.predict_sql = "select id, cast(price as text) as price from houses where 1 = 0"
    ctx.models.save(model)
    assert model_import.import_version(ctx, "house_quality", tmp_path / "text").version == 1


@pytest.mark.parametrize("declared", ["boolean", "long"])
def test_a_boolean_or_whole_number_signature_over_decimals_is_refused(ctx: ServiceContext, tmp_path: Path,
                                                                       saved: tuple[Path, Ridge], declared: str) -> None:
    """price comes with decimals: a signature reading it as true/false or as a whole number would
    fail every online prediction; a double signature over whole numbers is fine (the control)."""
    folder, _ = saved
    mlmodel = folder / "MLmodel"
    text = mlmodel.read_text()
    assert '"type": "double"' in text
    mlmodel.write_text(text.replace('"type": "double"', f'"type": "{declared}"', 1))
    error = refused(ctx, folder)
    assert error.details["column"] == "price" and error.details["query_type"] == "double", error.details
    assert "(a number with decimals)" in error.message and "nothing was imported" in error.message
    model = ctx.models.get("house_quality")
    model.predict_sql = "select id, cast(price as integer) as price from houses where quality is null"
    ctx.models.save(model)
    mlmodel.write_text(text)  # double over whole numbers: imported
    assert model_import.import_version(ctx, "house_quality", folder).version == 1
