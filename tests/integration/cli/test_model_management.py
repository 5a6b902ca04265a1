"""Model definitions, versions, activation, export and the home through the CLI."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

from softquery.data import fingerprint
from softquery.data.backends import open_source


@pytest.fixture
def demo(sq: SoftqueryCLI) -> SoftqueryCLI:
    sq("demo")
    return sq


def test_init_creates_private_key_and_is_idempotent(sq: SoftqueryCLI, home: Path) -> None:
    key = home / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    sq("init")
    assert key.read_bytes() == before


def test_secret_key_from_environment_writes_no_file(home: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOFTQUERY_SECRET_KEY", "s" * 40)
    SoftqueryCLI(capsys, home)("init")
    assert not (home / "secret.key").exists()


def test_passwords_are_never_printed(sq: SoftqueryCLI) -> None:
    sq("source", "add", "wh", "postgresql://analyst:hunter2@127.0.0.1:1/warehouse", "--no-test")
    listed = sq("source", "list", "--json")
    assert "hunter2" not in listed.out
    assert listed.json() == [{"name": "wh", "url": "postgresql://analyst:***@127.0.0.1:1/warehouse",
                              "dialect": "postgresql"}]
    failed = sq("source", "test", "wh", ok=False)
    assert failed.code != 0 and "hunter2" not in failed.err + failed.out


def test_bad_source_url(sq: SoftqueryCLI) -> None:
    result = sq("source", "add", "x", "not a url", ok=False)
    assert result.code == 2
    assert "sqlite:///" in result.err


def test_update_show_duplicate_delete(demo: SoftqueryCLI) -> None:
    demo("model", "update", "house_quality", "--description", "Quality from price", "--label", "quality")
    shown = demo("model", "show", "house_quality", "--json").json()
    assert shown["description"] == "Quality from price"
    assert shown["label"] == "quality"
    assert "class Model" in shown["code"]
    demo("model", "duplicate", "house_quality", "house_quality_copy")
    copy = demo("model", "show", "house_quality_copy", "--json").json()
    assert copy["train_sql"] == shown["train_sql"] and copy["active_version"] is None
    assert copy["output_table"] == "house_quality_copy_prediction"
    demo("model", "delete", "house_quality_copy", "--yes")
    assert demo("model", "show", "house_quality_copy", ok=False).code == 4
    bad = demo("model", "update", "house_quality", "--output-table", "x; drop table houses", ok=False)
    assert bad.code == 2


def test_versions_activate_and_rollback(demo: SoftqueryCLI, home: Path) -> None:
    demo("train", "house_quality")
    demo("train", "house_quality")
    versions = demo("versions", "house_quality", "--json").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert [v["active"] for v in versions] == [False, True]
    assert versions[0]["manifest"]["data"]["fingerprint"] == versions[1]["manifest"]["data"]["fingerprint"]
    # the job child hashes the rows as they arrive: the same hash as the whole train query's
    train_sql = demo("model", "show", "house_quality", "--json").json()["train_sql"]
    with open_source(f"sqlite:///{home / 'demo.db'}") as source:
        rows = source.read_table(train_sql, what="train query")
    assert versions[0]["manifest"]["data"]["fingerprint"] == fingerprint(rows)
    demo("activate", "house_quality", "1")
    assert demo("model", "show", "house_quality", "--json").json()["active_version"] == 1
    predicted = demo("predict", "house_quality", "--json").json()
    assert predicted["result"]["predict"]["version"] == 1
    assert demo("activate", "house_quality", "9", ok=False).code == 4
    runs = demo("runs", "--model", "house_quality", "--json").json()
    assert [r["kind"] for r in runs] == ["predict", "train", "train"]
    assert set(runs[0]) >= {"id", "model", "kind", "status", "started_at", "finished_at", "error"}
    shown = demo("run", "show", runs[0]["id"], "--json").json()
    assert shown["result"]["predict"]["table"] == "house_quality_prediction"


def test_best_score_keeps_the_better_version(demo: SoftqueryCLI, tmp_path: Path) -> None:
    demo("train", "diabetes_progression")
    demo("model", "update", "diabetes_progression", "--deploy", "best_score",
         "--train-sql", "select id, age, progression from diabetes where split = 'train'",
         "--predict-sql", "select id, age from diabetes where split = 'new'")
    worse = demo("train", "diabetes_progression", "--json").json()
    assert worse["result"]["train"]["activated"] is False
    assert demo("model", "show", "diabetes_progression", "--json").json()["active_version"] == 1


def test_export_json_reproduces_predictions(demo: SoftqueryCLI, tmp_path: Path, home: Path) -> None:
    demo("train", "house_quality")
    demo("predict", "house_quality")
    out = tmp_path / "export.json"
    demo("export", "house_quality", "--format", "json", "--output", str(out))
    exported = json.loads(out.read_text())
    assert exported["model"] == "house_quality" and exported["version"] == 1
    assert exported["feature_names"] == ["price"]
    column = exported["preprocessing"]["columns"][0]
    with sqlite3.connect(home / "demo.db") as conn:
        rows = conn.execute("select h.price, p.prediction from house_quality_prediction p "
                            "join houses h on h.id = p.id").fetchall()
    conn.close()
    assert rows
    for price, prediction in rows:
        x = (price - column["mean"][0]) / column["scale"][0]
        assert x * exported["coefficients"][0] + exported["intercept"] == pytest.approx(prediction, rel=1e-9)
    demo("train", "iris_species")
    not_linear = demo("export", "iris_species", ok=False)
    assert not_linear.code == 2 and "only available for linear models" in not_linear.err


def test_templates_listing(sq: SoftqueryCLI) -> None:
    names = {t["name"] for t in sq("templates", "--json").json()}
    assert {"linear_regression", "logistic_regression", "kmeans", "naive_bayes_text"} <= names


def test_output_tables_are_reserved_when_saved_from_the_cli(demo: SoftqueryCLI) -> None:
    """Issue 10: a model may not take the default table of a model not yet predicted; a new
    model whose default another model chose is refused with what to do."""
    squat = demo("model", "update", "iris_species", "--output-table", "house_quality_prediction", ok=False)
    message = " ".join(squat.err.split())
    assert squat.code == 5, squat.err
    assert ("Table 'house_quality_prediction' in data source 'demo' is reserved as the output table of "
            "model 'house_quality'; a model writes only its own table. Choose another output table.") in message
    create = ("model", "create", "forecast", "--source", "demo", "--template", "linear_regression",
              "--train-sql", "select price, quality from houses", "--predict-sql", "select price from houses")
    demo("model", "update", "iris_species", "--output-table", "forecast_prediction")
    refused = demo(*create, ok=False)
    message = " ".join(refused.err.split())
    assert refused.code == 5 and "Give model 'forecast' an output table of its own" in message, refused.err
    assert "reserved as the output table of model 'iris_species'" in message
    demo(*create, "--output-table", "forecast_rows")
    assert demo("model", "show", "forecast", "--json").json()["output_table"] == "forecast_rows"
