"""SourceFeed (the supervisor's background reader) on SQLite, DuckDB and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from tests.integration.data.conftest import RunSql
from tests.integration.harness import wait_for

from softquery.data import open_source
from softquery.data.feed import SourceFeed, waiting
from softquery.errors import QueryError, SoftqueryError, SourceError

TRAIN = "select id, price, color from houses order by id"


def _drain(feed: SourceFeed, idle: Callable[[], None] = lambda: None) -> list[pa.RecordBatch]:
    batches = []
    while (batch := waiting(feed.get, idle)) is not None:
        batches.append(batch)
    return batches


def _feed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "softquery-source-feed"]


def test_batches_add_up_to_read_table_and_probe_comes_first(backend_url: str) -> None:
    with open_source(backend_url) as conn:
        expected = conn.read_table(TRAIN, what="train query")
    ticks = []
    with SourceFeed(backend_url, TRAIN, what="train query", chunk_rows=None,
                    probe=("select price from houses", "predict query")) as feed:
        assert waiting(feed.probed_schema, lambda: ticks.append(1)).names == ["price"]
        schema = waiting(feed.schema, lambda: ticks.append(1))
        table = pa.Table.from_batches(_drain(feed), schema=schema)
        assert feed.get(0) is None  # the end stays the end
    assert table.equals(expected)


def test_chunks_of_the_asked_size(backend_url: str) -> None:
    with SourceFeed(backend_url, TRAIN, what="predict query", chunk_rows=1) as feed:
        sizes = [b.num_rows for b in _drain(feed)]
    assert sum(sizes) == 4 and max(sizes) == 1


@pytest.mark.parametrize(("sql", "error"), [
    ("select nope from houses", QueryError),
    ("delete from houses", QueryError),
])
def test_reader_errors_surface_unchanged(backend_url: str, sql: str, error: type[SoftqueryError]) -> None:
    with open_source(backend_url) as conn, pytest.raises(error) as direct:
        conn.read_batches(sql, what="predict query")
    with SourceFeed(backend_url, sql, what="predict query") as feed:
        with pytest.raises(error) as fed:
            waiting(feed.schema, lambda: None)
        with pytest.raises(error):
            waiting(feed.get, lambda: None)
    assert fed.value.to_dict() == direct.value.to_dict()


def test_a_missing_source_file_is_a_source_error(tmp_path: Path) -> None:
    with SourceFeed(f"sqlite:///{tmp_path}/missing.db", TRAIN, what="train query") as feed, \
            pytest.raises(SourceError, match="does not exist"):
        waiting(feed.schema, lambda: None)


def test_not_ready_while_the_query_is_held(sqlite_url: str) -> None:
    """A reader blocked on the queue keeps the supervisor free: get() says NotReady, not hang."""
    with SourceFeed(sqlite_url, TRAIN, what="predict query", chunk_rows=1) as feed:
        waiting(feed.schema, lambda: None)
        wait_for(lambda: feed._queue.full(), 10, "the bounded queue to fill")
        first = feed.get(0)
        assert first is not None and first.column("id").to_pylist() == [1]


def test_close_mid_stream_ends_the_thread(backend_url: str, sql: RunSql) -> None:
    sql(backend_url, "create table many as select a.id * 100 + b.id * 10 + c.id as n "
                     "from houses a, houses b, houses c")  # 64 rows
    feed = SourceFeed(backend_url, "select n from many", what="predict query", chunk_rows=1).start()
    assert waiting(feed.get, lambda: None) is not None
    assert _feed_threads()
    feed.close()
    wait_for(lambda: not _feed_threads(), 10, "the reader thread to end")
    with pytest.raises(RuntimeError, match="closed"):
        feed.get(0.05)


def test_the_end_comes_after_the_connection_is_closed(duckdb_url: str) -> None:
    """DuckDB refuses a writer while this process has a read-only handle on the file: once
    get() returned the end, the supervisor may write (predictions of a spooled source)."""
    import duckdb

    with SourceFeed(duckdb_url, TRAIN, what="predict query", chunk_rows=1) as feed:
        _drain(feed)
        writer = duckdb.connect(duckdb_url.removeprefix("duckdb:///"))
        try:
            writer.execute("create table written as select 1 as x")
        finally:
            writer.close()
