"""PostgreSQL types that ADBC returns as opaque extensions become plain Arrow types."""

from __future__ import annotations

import pyarrow as pa
import pytest

from softquery.data import open_source


@pytest.mark.postgres
def test_numeric_becomes_float64_and_arrays_lists(pg_database: str) -> None:
    with open_source(pg_database) as source:
        sql = "select 1.25::numeric as amount, array[0.5, 1.5]::float8[] as vec, now() as at"
        table = source.read_table(sql, what="train query")
        schema = source.query_schema(sql, what="train query")
        _, batches = source.read_batches(sql, what="train query", chunk_rows=10)
        streamed = pa.Table.from_batches(list(batches))
    assert table.schema.field("amount").type == pa.float64()
    assert table.column("amount").to_pylist() == [1.25]
    assert pa.types.is_list(table.schema.field("vec").type)
    assert pa.types.is_timestamp(table.schema.field("at").type)
    assert schema.field("amount").type == pa.float64()
    assert streamed.column("amount").to_pylist() == [1.25]
