"""The whole flow on SQLite, DuckDB and a real PostgreSQL; metadata on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import psycopg
import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

N = 120
DDL = "create table sales (id integer, a double precision, b double precision, region text, amount double precision, kind text)"


def _rows() -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(N):
        a, b = float(rng.normal()), float(rng.normal())
        region = ["north", "south", "east"][i % 3]
        known = i % 10 != 0
        amount = 2 * a - b + (1.0 if region == "north" else 0.0) if known else None
        kind = ("big" if a + b > 0 else "small") if known else None
        rows.append((i + 1, a, b, region, amount, kind))
    return rows


def _sqlite(tmp_path: Path, _pg: Callable[[], str]) -> tuple[str, Callable[[str], list[tuple[Any, ...]]]]:
    path = tmp_path / "sales.db"
    with sqlite3.connect(path) as conn:
        conn.execute(DDL.replace("double precision", "real"))
        conn.executemany("insert into sales values (?, ?, ?, ?, ?, ?)", _rows())
    conn.close()

    def query(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(path) as c:
            out = c.execute(sql).fetchall()
        c.close()
        return out

    return f"sqlite:///{path}", query


def _duckdb(tmp_path: Path, _pg: Callable[[], str]) -> tuple[str, Callable[[str], list[tuple[Any, ...]]]]:
    path = tmp_path / "sales.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(DDL)
    conn.executemany("insert into sales values (?, ?, ?, ?, ?, ?)", _rows())
    conn.close()

    def query(sql: str) -> list[tuple[Any, ...]]:
        c = duckdb.connect(str(path), read_only=True)
        try:
            return [tuple(r) for r in c.execute(sql).fetchall()]
        finally:
            c.close()

    return f"duckdb:///{path}", query


def _postgres(_tmp: Path, pg: Callable[[], str]) -> tuple[str, Callable[[str], list[tuple[Any, ...]]]]:
    url = pg()
    with psycopg.connect(url) as conn:
        conn.execute(DDL)
        with conn.cursor() as cur:
            cur.executemany("insert into sales values (%s, %s, %s, %s, %s, %s)", _rows())

    def query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(url) as c:
            return [tuple(r) for r in c.execute(sql).fetchall()]  # type: ignore[arg-type]

    return url, query




@pytest.fixture(params=["sqlite", "duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Callable[[str], list[tuple[Any, ...]]]]:
    makers = {"sqlite": _sqlite, "duckdb": _duckdb, "postgresql": _postgres}

    def pg() -> str:
        return str(request.getfixturevalue("pg_database"))

    return makers[request.param](tmp_path, pg)


def run_flow(sq: SoftqueryCLI, url: str, query: Callable[[str], list[tuple[Any, ...]]]) -> None:
    sq("source", "add", "src", url)
    listed = sq("source", "list", "--json").json()
    assert "password" not in str(listed)
    sq("model", "create", "amount", "--source", "src", "--template", "linear_regression",
       "--train-sql", "select id, a, b, region, amount from sales where amount is not null",
       "--predict-sql", "select id, a, b, region from sales where amount is null")
    trained = sq("train", "amount", "--json").json()
    assert trained["status"] == "succeeded", trained
    assert trained["result"]["train"]["metrics"]["r2"] > 0.99
    sq("predict", "amount")
    rows = query("select id, prediction, model_version from amount_prediction order by id")
    assert [r[0] for r in rows] == [i + 1 for i in range(0, N, 10)]
    assert {r[2] for r in rows} == {1}

    sq("model", "create", "kind", "--source", "src", "--template", "random_forest_classifier",
       "--train-sql", "select id, a, b, kind from sales where kind is not null",
       "--predict-sql", "select id, a, b from sales where kind is null",
       "--output-table", "kind_scores", "--write-mode", "append")
    sq("train", "kind")
    sq("predict", "kind")
    sq("predict", "kind")
    rows = query("select prediction, probability_small from kind_scores")  # the positive class: "small"
    assert len(rows) == 2 * len(range(0, N, 10))
    assert {r[0] for r in rows} <= {"big", "small"}
    assert all(0.0 <= r[1] <= 1.0 for r in rows)


def test_flow_on_each_backend(sq: SoftqueryCLI, source: tuple[str, Callable[[str], list[tuple[Any, ...]]]]) -> None:
    run_flow(sq, *source)


@pytest.mark.postgres
def test_metadata_on_postgresql(home: Path, capsys: pytest.CaptureFixture[str], pg_database: str,
                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOFTQUERY_DATABASE_URL", pg_database)
    cli = SoftqueryCLI(capsys, home)
    cli("init")
    url, query = _sqlite(tmp_path, lambda: "")
    run_flow(cli, url, query)
    with psycopg.connect(pg_database) as conn:
        versions = conn.execute("select count(*) from versions").fetchone()
        runs = conn.execute("select count(*) from runs where status = 'succeeded'").fetchone()
    assert versions is not None and versions[0] == 2
    assert runs is not None and runs[0] == 5
    assert not (home / "softquery.db").exists()
