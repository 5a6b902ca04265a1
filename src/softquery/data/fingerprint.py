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
    hasher = hashlib.sha256(FORMAT)
    hasher.update(f"rows={table.num_rows}".encode())
    for field, column in zip(table.schema, table.columns, strict=True):
        hasher.update(f"|{field.name}:{field.type}|".encode())
        hasher.update(_hash_column(column))
    return hasher.hexdigest()
