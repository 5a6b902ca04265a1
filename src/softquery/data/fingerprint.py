"""A fast, deterministic SHA-256 of a query result.

The same rows, columns and types give the same hash however the reader cut
them into batches: each column is hashed as one byte stream (values buffer
slices, string lengths + bytes, a NULL mask) chunk after chunk, so no
chunk boundary and no copy of the table is involved. NULL slots are filled
first because their bytes are undefined in Arrow. Nested or exotic types
fall back to Arrow IPC of the combined column.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FORMAT = b"softquery-fingerprint-v1"


def _fixed_width(typ: pa.DataType) -> int | None:
    try:
        width = typ.bit_width
    except ValueError:
        return None
    return width // 8 if width % 8 == 0 and width > 0 else None


def _hash_chunk(streams: list[Any], chunk: pa.Array, column_has_nulls: bool) -> bool:
    """Feed one chunk to the (mask, lengths, values) hashes; False → IPC fallback."""
    mask, lengths, values = streams
    typ = chunk.type
    if column_has_nulls:
        mask.update(pc.is_null(chunk).to_numpy(zero_copy_only=False).view(np.uint8).tobytes())
    if chunk.null_count and not pa.types.is_null(typ):
        zero: Any = "" if pa.types.is_string(typ) or pa.types.is_large_string(typ) else (
            b"" if pa.types.is_binary(typ) or pa.types.is_large_binary(typ) else 0)
        try:
            chunk = pc.fill_null(chunk, pa.scalar(zero, type=typ))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return False
    if pa.types.is_null(typ):
        return True
    if pa.types.is_boolean(typ):
        chunk = chunk.cast(pa.uint8())
        typ = chunk.type
    width = _fixed_width(typ)
    buffers = chunk.buffers()
    if width is not None and len(buffers) == 2 and not pa.types.is_nested(typ):
        start = chunk.offset * width
        values.update(memoryview(buffers[1])[start:start + len(chunk) * width])
        return True
    if pa.types.is_string(typ) or pa.types.is_binary(typ) or pa.types.is_large_string(typ) or pa.types.is_large_binary(typ):
        dtype = np.int64 if pa.types.is_large_string(typ) or pa.types.is_large_binary(typ) else np.int32
        offsets = np.frombuffer(buffers[1], dtype=dtype)[chunk.offset:chunk.offset + len(chunk) + 1]
        lengths.update(np.diff(offsets).astype(np.int64).tobytes())
        if buffers[2] is not None and len(offsets):
            values.update(memoryview(buffers[2])[int(offsets[0]):int(offsets[-1])])
        return True
    return False


def _hash_column(column: pa.ChunkedArray) -> bytes:
    streams = [hashlib.sha256(), hashlib.sha256(), hashlib.sha256()]
    has_nulls = column.null_count > 0
    if all(_hash_chunk(streams, chunk, has_nulls) for chunk in column.chunks):
        return b"".join(stream.digest() for stream in streams)
    hasher = hashlib.sha256(b"ipc")
    combined = column.combine_chunks()
    sink = pa.BufferOutputStream()
    batch = pa.RecordBatch.from_arrays([combined], names=["c"])
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    hasher.update(sink.getvalue())
    return hasher.digest()


def fingerprint(table: pa.Table) -> str:
    """sha256 hex of ``table``'s column names, types and data."""
    return _combine(table.schema, table.num_rows, [_hash_column(column) for column in table.columns])


def _combine(schema: pa.Schema, rows: int, column_digests: list[bytes]) -> str:
    hasher = hashlib.sha256(FORMAT)
    hasher.update(f"rows={rows}".encode())
    for field, digest in zip(schema, column_digests, strict=True):
        hasher.update(f"|{field.name}:{field.type}|".encode())
        hasher.update(digest)
    return hasher.hexdigest()


class _ColumnStreams:
    """One column's hashes fed batch by batch. The NULL mask is part of the hash only when
    the column has a NULL somewhere: until the first one, the mask is only counted (all
    zeros) and caught up then."""

    def __init__(self) -> None:
        self.streams = [hashlib.sha256(), hashlib.sha256(), hashlib.sha256()]
        self.rows = 0
        self.has_nulls = False
        self.fallback = False  # a type only the whole column's IPC can hash
        self.fed = False

    def add(self, chunk: pa.Array) -> None:
        if self.fallback:
            return
        self.fed = True
        if chunk.null_count and not self.has_nulls:
            self.has_nulls = True
            self.streams[0].update(bytes(self.rows))
        if self.has_nulls:
            self.streams[0].update(pc.is_null(chunk).to_numpy(zero_copy_only=False).view(np.uint8).tobytes())
        self.rows += len(chunk)
        self.fallback = not _hash_chunk([_NO_MASK, *self.streams[1:]], chunk, False)

    def digest(self, column: pa.ChunkedArray) -> bytes:
        if self.fallback or not self.fed:  # (no batch at all: as the table's own empty chunks hash)
            return _hash_column(column)
        mask = self.streams[0] if self.has_nulls else hashlib.sha256()
        return b"".join(stream.digest() for stream in [mask, *self.streams[1:]])


class _NoMask:
    def update(self, data: Any) -> None:  # pragma: no cover - _hash_chunk is called without a mask
        raise AssertionError("the mask is fed by _ColumnStreams")


_NO_MASK = _NoMask()


class Fingerprinter:
    """``fingerprint`` of a table fed one record batch at a time (as a reader hands them
    over), so the hashing can overlap the reading; ``hexdigest(table)`` equals
    ``fingerprint(table)`` for the table of those batches."""

    def __init__(self, schema: pa.Schema):
        self.schema = schema
        self.columns = [_ColumnStreams() for _ in schema]
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        for streams, column in zip(self.columns, batch.columns, strict=True):
            streams.add(column)
        self.rows += batch.num_rows

    def hexdigest(self, table: pa.Table) -> str:
        """The fingerprint; ``table`` (of the batches added) serves columns that fell back."""
        digests = [streams.digest(column) for streams, column in zip(self.columns, table.columns, strict=True)]
        return _combine(self.schema, self.rows, digests)
