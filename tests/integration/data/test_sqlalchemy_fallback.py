"""The generic SQLAlchemy reader/sink used for backends without a native driver."""

from __future__ import annotations

import sqlite3

import pyarrow as pa
import pytest

from softquery.data.sinks import SqlAlchemySink
from softquery.data.sqlalchemy_source import SqlAlchemySource
from softquery.errors import QueryError
from softquery.prediction.table_writer import TableWriter


def test_fallback_reader(sqlite_url: str) -> None:
    with SqlAlchemySource(sqlite_url, "sqlite") as source:
        table = source.read_table("select id, price from houses order by id", what="train query")
        assert table.column("id").to_pylist() == [1, 2, 3, 4]
        schema, batches = source.read_batches("select id from houses", what="predict query", chunk_rows=3)
        assert schema.names == ["id"] and [b.num_rows for b in batches] == [3, 1]
        with pytest.raises(QueryError, match="The predict query failed: .*no such table"):
            source.read_table("select * from nope", what="predict query")


def test_fallback_writer_replaces(sqlite_url: str) -> None:
    writer = TableWriter(SqlAlchemySink(sqlite_url), "preds", "replace", run_id="fb")
    writer.write(pa.record_batch({"id": [1, 2], "prediction": [0.5, 1.5]}))
    assert writer.commit() == 2
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("select id, prediction from preds order by id").fetchall() == [(1, 0.5), (2, 1.5)]
    conn.close()
