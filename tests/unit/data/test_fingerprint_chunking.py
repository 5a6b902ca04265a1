from __future__ import annotations

import pyarrow as pa
import pytest

from softquery.data import fingerprint


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
