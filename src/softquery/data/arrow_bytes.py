"""Arrow schemas and record batches as plain bytes (Arrow IPC stream format).

The supervisor hands rows to a job child this way: plain ``bytes`` pickle
trivially, and decoding them runs no code.
"""

from __future__ import annotations

import pyarrow as pa


def batch_to_bytes(batch: pa.RecordBatch) -> bytes:
    """One record batch, with its schema, as an IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def batch_from_bytes(data: bytes) -> pa.RecordBatch:
    """The record batch of ``batch_to_bytes`` (zero-copy over ``data``)."""
    reader = pa.ipc.open_stream(pa.py_buffer(data))
    batches = list(reader)
    if len(batches) != 1:
        raise ValueError(f"expected one record batch, got {len(batches)}")
    return batches[0]


def schema_to_bytes(schema: pa.Schema) -> bytes:
    return bytes(schema.serialize().to_pybytes())


def schema_from_bytes(data: bytes) -> pa.Schema:
    return pa.ipc.read_schema(pa.py_buffer(data))
