"""The prediction table writer on SQLite, DuckDB and PostgreSQL: replace, append, atomicity."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from softquery.data import open_source
from softquery.errors import DataError, InvalidInputError
from softquery.prediction.table_writer import open_writer

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _batch(ids: list[int], version: int = 1) -> pa.RecordBatch:
    n = len(ids)
    return pa.record_batch({
        "id": pa.array(ids, pa.int64()),
        "prediction": pa.array([i * 0.5 for i in ids], pa.float64()),
        "model_version": pa.array([version] * n, pa.int64()),
        "run_id": pa.array(["run1"] * n),
        "predicted_at": pa.array([AT] * n, pa.timestamp("us", tz="UTC")),
    })


def _count(sql, url: str, table: str = "preds") -> int:  # type: ignore[no-untyped-def]
    return int(sql(url, f"select count(*) from {table}")[0][0])


def _tables(sql, url: str) -> set[str]:  # type: ignore[no-untyped-def]
    if url.startswith("sqlite"):
        rows = sql(url, "select name from sqlite_master where type = 'table'")
    else:
        rows = sql(url, "select table_name from information_schema.tables where table_schema = current_schema()")
    return {row[0] for row in rows}


def test_replace_creates_then_replaces(backend_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    with open_writer(backend_url, "preds", "replace", run_id="r-1") as writer:
        writer.write(_batch([1, 2, 3]))
        writer.write(_batch([4]))
        assert writer.commit() == 4
    with open_writer(backend_url, "preds", "replace", run_id="r-2") as writer:
        writer.write(_batch([7, 8], version=2))
        assert writer.commit() == 2
    assert sql(backend_url, "select id, model_version from preds order by id") == [(7, 2), (8, 2)]
    assert not any(name.startswith("_sq_stage_") for name in _tables(sql, backend_url))
    with open_source(backend_url) as source:
        at = source.read_table("select predicted_at from preds", what="check").column(0)[0].as_py()
    assert str(at).startswith("2026-01-02 03:04:05")


def test_reader_sees_old_table_during_replace(backend_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    with open_writer(backend_url, "preds", "replace", run_id="old") as writer:
        writer.write(_batch([1, 2]))
        writer.commit()
    writer = open_writer(backend_url, "preds", "replace", run_id="new")
    writer.write(_batch([10, 11, 12], version=2))
    writer.write(_batch([13], version=2))
    assert sql(backend_url, "select id from preds order by id") == [(1,), (2,)]  # second connection
    assert writer.commit() == 4
    assert sql(backend_url, "select id from preds order by id") == [(10,), (11,), (12,), (13,)]


def test_abort_leaves_old_table_and_drops_staging(backend_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    with open_writer(backend_url, "preds", "replace", run_id="old") as writer:
        writer.write(_batch([1, 2]))
        writer.commit()
    with pytest.raises(RuntimeError, match="model crashed"):
        with open_writer(backend_url, "preds", "replace", run_id="boom") as writer:
            writer.write(_batch([5, 6, 7]))
            raise RuntimeError("model crashed")
    assert sql(backend_url, "select id from preds order by id") == [(1,), (2,)]
    assert "_sq_stage_boom" not in _tables(sql, backend_url)
    writer = open_writer(backend_url, "preds", "replace", run_id="explicit")
    writer.write(_batch([9]))
    writer.abort()
    assert _count(sql, backend_url) == 2


def test_append_creates_and_appends_all_or_nothing(backend_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    with open_writer(backend_url, "preds", "append", run_id="a1") as writer:
        writer.write(_batch([1]))
        assert writer.commit() == 1
    with open_writer(backend_url, "preds", "append", run_id="a2") as writer:
        writer.write(_batch([2, 3]))
        assert _count(sql, backend_url) == 1  # nothing visible before commit
        writer.commit()
    assert sql(backend_url, "select id from preds order by id") == [(1,), (2,), (3,)]


def test_append_with_other_columns_is_refused(backend_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match="Cannot append to table houses"):
        with open_writer(backend_url, "houses", "append", run_id="x") as writer:
            writer.write(_batch([1]))
    assert _count(sql, backend_url, "houses") == 4


def test_bad_table_name_and_mode_are_refused(backend_url: str) -> None:
    with pytest.raises(InvalidInputError):
        open_writer(backend_url, "preds; drop table houses", "replace", run_id="x")
    with pytest.raises(InvalidInputError):
        open_writer(backend_url, "preds", "upsert", run_id="x")
