"""SQLite's dynamic typing: a column mixing text and numbers is a clear DataError."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from softquery.data import open_source
from softquery.errors import DataError


def _db(tmp_path: Path, values: list[object]) -> str:
    path = tmp_path / "mixed.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table t (id integer, score real)")
        conn.executemany("insert into t values (?, ?)", list(enumerate(values)))
    conn.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize("where", ["late", "early"])
def test_text_in_real_column_names_the_column(tmp_path: Path, where: str) -> None:
    values: list[object] = [float(i) for i in range(30_000)]
    values[-1 if where == "late" else 5] = "n/a"
    url = _db(tmp_path, values)
    with open_source(url) as source:
        with pytest.raises(DataError) as caught:
            source.read_table("select id, score from t", what="train query")
        assert "'score'" in caught.value.message
        assert "mixes text and numbers" in caught.value.message
        assert caught.value.details["column"] == "score"
        with pytest.raises(DataError, match="'score' mixes text and numbers"):
            _, batches = source.read_batches("select id, score from t", what="predict query", chunk_rows=1000)
            list(batches)


def test_ints_then_decimals_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "nums.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table t (v)")
        conn.executemany("insert into t values (?)", [(1,)] * 5000 + [(1.5,)])
    conn.close()
    with open_source(f"sqlite:///{path}") as source:
        with pytest.raises(DataError, match="'v' mixes whole numbers and decimal numbers"):
            _, batches = source.read_batches("select v from t", what="train query", chunk_rows=100)
            list(batches)


def test_clean_text_column_with_exponent_like_values_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "text.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table t (code text)")
        conn.executemany("insert into t values (?)", [("1e+5",), ("abc",), ("some-e-thing",)])
    conn.close()
    with open_source(f"sqlite:///{path}") as source:
        assert source.read_table("select code from t", what="train query").num_rows == 3
