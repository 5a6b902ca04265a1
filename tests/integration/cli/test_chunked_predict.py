"""Predicting more rows than one chunk into the same SQLite/DuckDB file (reader and
writer on one file) finishes, streams in chunks and writes every row once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

ROWS = 5_500


def _sqlite(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute("pragma journal_mode=delete")
        conn.execute("create table t (id integer, x real, y real)")
        conn.executemany("insert into t values (?, ?, ?)", [(i, float(i), 2.0 * i) for i in range(ROWS)])
    conn.close()
    return f"sqlite:///{path}"


def _duckdb(path: Path) -> str:
    conn = duckdb.connect(str(path))
    conn.execute("create table t as select i as id, i::double as x, 2.0 * i as y from range(5500) r(i)")
    conn.close()
    return f"duckdb:///{path}"


def _count(url: str, path: Path) -> int:
    if url.startswith("sqlite"):
        with sqlite3.connect(path) as conn:
            n = conn.execute("select count(distinct id) from amount_prediction").fetchone()[0]
        conn.close()
        return int(n)
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return int(conn.execute("select count(distinct id) from amount_prediction").fetchone()[0])  # type: ignore[index]
    finally:
        conn.close()


@pytest.mark.parametrize("maker", [_sqlite, _duckdb], ids=["sqlite-rollback-journal", "duckdb"])
def test_predict_many_chunks_into_the_source_file(sq: SoftqueryCLI, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch, maker: object) -> None:
    monkeypatch.setenv("SOFTQUERY_CHUNK_ROWS", "1000")
    path = tmp_path / "data.db"
    url = maker(path)  # type: ignore[operator]
    sq("source", "add", "src", url)
    sq("model", "create", "amount", "--source", "src", "--template", "linear_regression",
       "--train-sql", "select id, x, y from t", "--predict-sql", "select id, x from t")
    sq("train", "amount")
    run = sq("predict", "amount", "--json").json()
    assert run["status"] == "succeeded", run["error"]
    assert run["result"]["predict"]["rows"] == ROWS
    assert _count(url, path) == ROWS
