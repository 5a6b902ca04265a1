from __future__ import annotations

import pyarrow as pa
import pytest

from softquery.data import fingerprint
from softquery.data.fingerprint import Fingerprinter


def _table() -> pa.Table:
    n = 1000
    return pa.table({
        "i": pa.array(range(n), pa.int64()),
        "f": pa.array([None if k % 7 == 0 else k / 3 for k in range(n)], pa.float64()),
        "s": pa.array([None if k % 5 == 0 else f"v{k % 13}" for k in range(n)]),
        "b": pa.array([None if k % 11 == 0 else k % 2 == 0 for k in range(n)]),
        "l": pa.array([None if k % 9 == 0 else [k * 1.0, 2.0] for k in range(n)]),
    })


@pytest.mark.parametrize("chunk", [1, 7, 100, 999])
def test_same_rows_same_hash_whatever_the_chunking(chunk: int) -> None:
    table = _table()
    rechunked = pa.Table.from_batches(table.to_batches(max_chunksize=chunk))
    assert rechunked.column(0).num_chunks > 1
    assert fingerprint(rechunked) == fingerprint(table)


def test_sliced_input_hashes_like_a_fresh_copy() -> None:
    table = _table()
    sliced = pa.Table.from_batches(table.slice(10, 500).to_batches(max_chunksize=33))
    fresh = pa.Table.from_pylist(table.slice(10, 500).to_pylist(), schema=table.schema)
    assert fingerprint(sliced) == fingerprint(fresh)


def test_hash_changes_with_data_names_types_and_nulls() -> None:
    table = _table()
    base = fingerprint(table)
    assert len(base) == 64
    changed_value = table.set_column(0, "i", pa.array([1] + list(range(1, 1000)), pa.int64()))
    assert fingerprint(changed_value) != base
    assert fingerprint(table.rename_columns(["j", "f", "s", "b", "l"])) != base
    assert fingerprint(table.set_column(0, "i", table.column("i").cast(pa.int32()))) != base
    nulled = table.set_column(0, "i", pa.array([None] + list(range(1, 1000)), pa.int64()))
    zeroed = table.set_column(0, "i", pa.array([0] + list(range(1, 1000)), pa.int64()))
    assert fingerprint(nulled) != fingerprint(zeroed)
    strings = pa.table({"s": ["ab", "c"]})
    assert fingerprint(strings) != fingerprint(pa.table({"s": ["a", "bc"]}))


def _fed(table: pa.Table, chunk: int) -> str:
    batches = table.to_batches(max_chunksize=chunk)
    hasher = Fingerprinter(table.schema)
    for batch in batches:
        hasher.add(batch)
    return hasher.hexdigest(pa.Table.from_batches(batches, schema=table.schema))


@pytest.mark.parametrize("chunk", [1, 7, 100, 999, 1000])
def test_fed_batch_by_batch_the_hash_is_the_tables(chunk: int) -> None:
    """Fingerprinter (fed as batches arrive) gives fingerprint(table): NULLs from the first
    batch, from a later batch only (the mask caught up), none, and a list column (the IPC fallback)."""
    table = _table()
    late = pa.array([None if k == 600 else float(k) for k in range(1000)], pa.float64())
    none = pa.array([float(k) for k in range(1000)], pa.float64())
    table = table.append_column("late", late).append_column("none", none)
    assert _fed(table, chunk) == fingerprint(table)
    # the NULL that comes late is part of the hash: without it (a 0 there) the hash differs
    zeroed = table.set_column(5, "late", pa.array([0.0 if k == 600 else float(k) for k in range(1000)]))
    assert _fed(zeroed, chunk) != _fed(table, chunk)
    assert _fed(zeroed, chunk) == fingerprint(zeroed)


def test_fed_an_empty_result_hashes_like_the_table() -> None:
    table = _table().slice(0, 0)
    hasher = Fingerprinter(table.schema)
    assert hasher.hexdigest(table) == fingerprint(table)
