"""Recovery from a killed write: SQLite's hot journal and left-over staging tables,
on SQLite, DuckDB and PostgreSQL (``softquery.data.write_recovery`` and the use case
``softquery.services.interrupted_writes``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.data.killed_writer import as_written, kill_mid_write, read_only_fails

from softquery.config import Settings
from softquery.data import open_source
from softquery.data.write_recovery import recover_writes
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.errors import InterruptedWriteError
from softquery.prediction.table_writer import staging_name
from softquery.services.context import open_context
from softquery.services.interrupted_writes import recover_sources

PREFIX = "_sq_stage_"
# enough changed pages to go past the killed writer's page cache into the file
MANY_ROWS = ("insert into houses (id, color) with recursive n(i) as (select 1 union all select i + 1 "
             "from n where i < 20000) select 100 + i, 'row ' || i from n")


def _tables(sql, url: str) -> set[str]:  # type: ignore[no-untyped-def]
    if url.startswith("sqlite"):
        rows = sql(url, "select name from sqlite_master where type = 'table'")
    else:
        rows = sql(url, "select table_name from information_schema.tables where table_schema = current_schema()")
    return {row[0] for row in rows}


def test_drops_only_the_staging_tables_said_to_be_over(backend_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    for name in ("_sq_stage_over", "_sq_stage_running", "_sq_stagex", "preds"):
        sql(backend_url, f"create table {name} (id bigint)")
    result = recover_writes(backend_url, PREFIX, lambda name: name == "_sq_stage_over")
    assert (result.dropped, result.kept, result.rolled_back) == (["_sq_stage_over"], ["_sq_stage_running"], None)
    assert _tables(sql, backend_url) >= {"_sq_stage_running", "_sq_stagex", "preds", "houses"}
    assert "_sq_stage_over" not in _tables(sql, backend_url)


def _sqlite_path(url: str) -> Path:
    return Path(str(make_url(url).database))


def test_a_read_only_query_meeting_a_hot_journal_says_what_happened(sqlite_url: str) -> None:
    path = _sqlite_path(sqlite_url)
    journal = kill_mid_write(path, MANY_ROWS)
    assert read_only_fails(path)
    with open_source(sqlite_url) as source, pytest.raises(InterruptedWriteError) as caught:
        source.read_table("select * from houses", what="train query")
    error = caught.value
    assert error.code == "interrupted_write" and error.details["journal"] == str(journal)
    assert "train query cannot run: a write to the SQLite file" in error.message
    assert "was interrupted" in error.message and "softquery serve" in error.message
    assert "start a prediction" in error.message and "can only read" not in error.message
    with open_source(sqlite_url) as source, pytest.raises(InterruptedWriteError):
        source.preview("select id from houses", what="predict query")
    with open_source(sqlite_url) as source, pytest.raises(InterruptedWriteError):
        source.test()


def test_recovery_rolls_the_interrupted_write_back(sqlite_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    path = _sqlite_path(sqlite_url)
    before = sql(sqlite_url, "select * from houses order by id")
    sql(sqlite_url, "create table big as with recursive n(i) as (select 1 union all select i + 1 from n "
                    "where i < 20000) select i, 'row ' || i as label from n")
    journal = kill_mid_write(path, "update big set label = 'changed'")
    # the killed writer changed the file itself: only the journal can restore it
    assert as_written(path, "select count(*) from big where label = 'changed'")[0][0] > 0
    result = recover_writes(sqlite_url, PREFIX, lambda name: True)
    assert result.rolled_back == journal and not journal.exists()
    with open_source(sqlite_url) as source:
        assert source.read_table("select count(*) as n from big where label = 'changed'",
                                 what="check").column(0).to_pylist() == [0]
        assert source.read_table("select * from houses order by id", what="check").num_rows == len(before)
    assert sql(sqlite_url, "select * from houses order by id") == before


def test_the_use_case_keeps_tables_of_running_and_unknown_runs(backend_url: str, sql, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOFTQUERY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SOFTQUERY_DATABASE_URL", raising=False)
    cli = SoftqueryCLI(capsys, tmp_path / "home")
    cli("init")
    cli("source", "add", "src", backend_url)
    code = tmp_path / "m.py"
    code.write_text("class Model:\n    def train(self, X, y): pass\n    def predict(self, X): return [0] * len(X)\n")
    cli("model", "create", "m", "--source", "src", "--code-file", str(code), "--label", "price",
        "--train-sql", "select id, rooms, price from houses", "--predict-sql", "select id, rooms from houses")
    ctx = open_context(Settings())
    try:
        running, finished = (ctx.runs.create("m", RunKind.PREDICT, RunTrigger.CLI) for _ in range(2))
        assert ctx.runs.claim(running.id, "elsewhere:1:worker") == "claimed"
        ctx.runs.finish(finished.id, RunStatus.CANCELLED)
        tables = [staging_name(running.id), staging_name(finished.id), "_sq_stage_0123456789ab"]
        for name in tables:
            sql(backend_url, f"create table {name} (id bigint)")
        result = recover_sources(ctx)["src"]
    finally:
        ctx.close()
    assert result.dropped == [staging_name(finished.id)]
    assert sorted(result.kept) == sorted([staging_name(running.id), "_sq_stage_0123456789ab"])
    assert staging_name(finished.id) not in _tables(sql, backend_url)
