"""Scripts at their edges: an unexpected failure, nested columns saved, the default source, file modes."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pytest

from softquery.services import sql_scripts
from softquery.services.context import ServiceContext
from softquery.services.files import files_folder
from softquery.services.sources import add_source
from softquery.services.sql_file_formats import write_file
from softquery.services.sql_session import Session
from softquery.sql.statements import Statement, Train


def test_a_classifiers_probabilities_save_to_csv_as_json_text(ctx: ServiceContext) -> None:
    probs = [[{"label": "a", "prob": 0.25}, {"label": "b", "prob": 0.75}], None]
    table = pa.table({"id": [1, 2], "predicted_y": ["b", "a"], "predicted_y_probs": probs,
                      "v": [[1.0, 2.0], [3.0]]})
    assert write_file(ctx, "csv", "out/scored.csv", table, "overwrite", {})
    with (files_folder(ctx) / "out" / "scored.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert json.loads(rows[0]["predicted_y_probs"]) == probs[0] and rows[1]["predicted_y_probs"] == ""
    assert json.loads(rows[0]["v"]) == [1.0, 2.0] and rows[1]["predicted_y"] == "a"
    # private like the rest of the home (no "made it private" warning on the next command)
    assert (files_folder(ctx) / "out").stat().st_mode & 0o777 == 0o700
    assert (files_folder(ctx) / "out" / "scored.csv").stat().st_mode & 0o777 == 0o600


def test_a_table_that_cannot_be_written_leaves_no_file(ctx: ServiceContext) -> None:
    interval = pa.array([pa.scalar((1, 2, 3), pa.month_day_nano_interval())], pa.month_day_nano_interval())
    with pytest.raises(pa.ArrowNotImplementedError):
        write_file(ctx, "csv", "bad.csv", pa.table({"i": interval}), "overwrite", {})
    assert not (files_folder(ctx) / "bad.csv").exists()  # not even an empty file


def test_an_unexpected_failure_keeps_the_earlier_results_and_names_the_statement(
        ctx: ServiceContext, sqlite_source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(session: Session, statement: Statement) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setitem(sql_scripts.HANDLERS, Train, broken)
    script = sql_scripts.run_script(ctx, "select 1 as one;\nselect 2 as two;\ntrain t as KMeans.`m`;",
                                    source="src")
    assert [r.rows for r in script.results] == [[[1]], [[2]]]
    assert script.failed_statement == 3 and script.error is not None
    assert script.error["code"] == "internal_error" and "statement 3 (line 3)" in script.error["message"]
    assert "RuntimeError: a bug" in script.error["message"] and script.error["details"]["line"] == 3


def test_with_one_source_a_statement_needs_no_source_name(ctx: ServiceContext, sqlite_source: str) -> None:
    script = sql_scripts.run_script(ctx, "select count(*) as n from houses")
    assert script.error is None and script.results[0].rows[0][0] > 0
    add_source(ctx, "other", sqlite_source)
    script = sql_scripts.run_script(ctx, "select count(*) as n from houses")
    assert script.error is not None and "Which data source" in script.error["message"]
    assert "other, src" in script.error["message"]
