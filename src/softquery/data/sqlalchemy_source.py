"""Fallback reader for any other SQLAlchemy URL (MySQL, ...): pandas chunks → Arrow."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from softquery.data.connection import SourceConnection


class SqlAlchemySource(SourceConnection):
    """No statement timeout or read-only session here: only the single-SELECT check applies."""

    def __init__(self, url: str, dialect: str, timeout: float | None = None) -> None:
        super().__init__(url, timeout)
        self.dialect = dialect
        self._engine = sa.create_engine(url)
        self._conn = self._engine.connect().execution_options(stream_results=True)

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._engine.dispose()

    def _frames(self, sql: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
        yield from pd.read_sql_query(sa.text(sql), self._conn, chunksize=chunk_rows)

    def _batches(self, sql: str, what: str, chunk_rows: int) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        frames = self._frames(sql, chunk_rows)
        first = next(frames, None)
        if first is None:
            return pa.schema([]), iter(())
        head = pa.RecordBatch.from_pandas(first, preserve_index=False)
        schema = head.schema

        def batches() -> Iterator[pa.RecordBatch]:
            yield head
            for frame in frames:
                yield pa.RecordBatch.from_pandas(frame, schema=schema, preserve_index=False)

        return schema, batches()

    def _table(self, sql: str, what: str) -> pa.Table:
        frame = pd.read_sql_query(sa.text(sql), self._conn)
        return pa.Table.from_pandas(frame, preserve_index=False)

    def _schema(self, sql: str, what: str) -> pa.Schema:
        wrapped = f"select * from (\n{sql}\n) as _sq_schema limit 0"  # noqa: S608
        return self._table(wrapped, what).schema
