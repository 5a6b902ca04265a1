"""The Arrow reader on SQLite, DuckDB and PostgreSQL."""

from __future__ import annotations

import pyarrow as pa
import pytest

from softquery.data import open_source
from softquery.errors import QueryError, SourceError


def test_connection_test_passes(backend_url: str) -> None:
    with open_source(backend_url) as source:
        source.test()
        assert source.dialect in ("sqlite", "duckdb", "postgresql")


def test_read_table_returns_all_rows_with_types(backend_url: str) -> None:
    with open_source(backend_url) as source:
        table = source.read_table("select id, price, color from houses order by id;", what="train query")
    assert table.column_names == ["id", "price", "color"]
    assert table.column("id").to_pylist() == [1, 2, 3, 4]
    assert table.column("price").to_pylist() == [10.5, 20.0, 15.25, 30.0]
    assert pa.types.is_integer(table.schema.field("id").type)
    assert pa.types.is_floating(table.schema.field("price").type)
    assert pa.types.is_string(table.schema.field("color").type)


def test_query_schema_reads_names_and_types(backend_url: str) -> None:
    with open_source(backend_url) as source:
        schema = source.query_schema("select price, color from houses", what="predict query")
    assert schema.names == ["price", "color"]
    assert pa.types.is_floating(schema.field("price").type)
    assert pa.types.is_string(schema.field("color").type)


def test_read_batches_streams_in_chunks(backend_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    sql(backend_url, "create table numbers as select id * 1000 + r.i as n from houses, "
                     "(select id as i from houses) r")  # 16 rows
    with open_source(backend_url) as source:
        schema, batches = source.read_batches("select n from numbers order by n", what="predict query",
                                              chunk_rows=5)
        sizes = [batch.num_rows for batch in batches]
    assert schema.names == ["n"]
    assert sum(sizes) == 16
    assert max(sizes) <= 5 and len(sizes) >= 4


def test_preview_limits_rows(backend_url: str) -> None:
    with open_source(backend_url) as source:
        table = source.preview("select * from houses -- trailing comment", what="train query", limit=2)
    assert table.num_rows == 2


def test_bad_sql_is_a_query_error_naming_the_query(backend_url: str) -> None:
    with open_source(backend_url) as source:
        with pytest.raises(QueryError) as caught:
            source.read_table("select nope from houses", what="predict query")
        assert caught.value.message.startswith("The predict query failed: ")
        assert "nope" in caught.value.message
        assert caught.value.details["query"] == "predict query"
        assert caught.value.details["sql"] == "select nope from houses"
        with pytest.raises(QueryError, match="The train query failed"):
            source.read_batches("select * from missing_table", what="train query", chunk_rows=10)


def test_reader_cannot_write(backend_url: str, sql) -> None:  # type: ignore[no-untyped-def]
    with open_source(backend_url) as source:
        with pytest.raises(QueryError):
            source.read_table("delete from houses", what="train query")
    assert sql(backend_url, "select count(*) from houses") == [(4,)]


@pytest.mark.parametrize("scheme", ["sqlite", "duckdb"])
def test_missing_file_is_a_source_error_and_not_created(tmp_path, scheme: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"missing.{scheme}"
    with pytest.raises(SourceError, match="does not exist"):
        open_source(f"{scheme}:///{path}")
    assert not path.exists()


@pytest.mark.postgres
def test_unreachable_postgres_is_a_source_error_with_masked_password(pg_url: str) -> None:
    bad = pg_url.replace("postgres@", "nobody:s3cretpw@").rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(SourceError) as caught:
        with open_source(bad) as source:
            source.test()
    assert "s3cretpw" not in caught.value.message
    assert "***" in caught.value.message
