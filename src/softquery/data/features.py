"""Feature kinds and the Arrow → pandas conversion shared by training and prediction.

Conversion rules (what scikit-learn handles best):

* numeric: float64 (ints with NULLs, decimals, NUMERIC) or int64 (ints without NULLs);
* boolean: float64 1.0 / 0.0, NaN for NULL;
* categorical / text: object dtype holding Python ``str``, ``np.nan`` for NULL;
* array: object dtype holding one float64 numpy array per cell (Arrow lists or JSON
  text like ``'[0.1, 0.2]'``), ``None`` for NULL: ``np.stack(X[col])`` is a matrix;
* datetime: pandas datetime64.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from softquery.errors import DataError

KINDS = ("numeric", "boolean", "categorical", "text", "array", "datetime")
_JSON_ARRAY = r"^\s*\[[-+0-9eE.,\s]*\]\s*$"
TEXT_MEAN_LENGTH = 30  # strings longer than this on average (and with spaces) are free text


@dataclass
class FeatureSpec:
    name: str
    arrow_type: str
    kind: str
    length: int | None = None  # array: the one length of every training vector (None: ragged, or older)


def is_string_type(typ: pa.DataType) -> bool:
    return bool(pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ))


def _is_list(typ: pa.DataType) -> bool:
    return bool(pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ))


def looks_like_json_arrays(column: pa.ChunkedArray | pa.Array) -> bool:
    valid = column.drop_null() if isinstance(column, pa.Array) else pa.chunked_array(column).drop_null()
    if len(valid) == 0:
        return False
    return bool(pc.all(pc.match_substring_regex(valid, _JSON_ARRAY)).as_py())


def feature_kind(typ: pa.DataType, column: pa.ChunkedArray | pa.Array | None = None) -> str:
    if pa.types.is_boolean(typ):
        return "boolean"
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ) or pa.types.is_null(typ):
        return "numeric"
    if pa.types.is_temporal(typ):
        return "datetime"
    if _is_list(typ):
        return "array"
    if is_string_type(typ) and column is not None:
        if looks_like_json_arrays(column):
            return "array"
        valid = column.drop_null()
        if len(valid):
            mean_len = pc.mean(pc.utf8_length(valid)).as_py() or 0
            if mean_len > TEXT_MEAN_LENGTH and pc.any(pc.match_substring(valid, " ")).as_py():
                return "text"
    return "categorical"


def _vectors(cells: list[np.ndarray | None], name: str) -> pd.Series:
    """An object Series holding each vector as it is (pandas would make a list of arrays 2-D)."""
    out = np.empty(len(cells), dtype=object)
    for i, cell in enumerate(cells):
        out[i] = cell
    return pd.Series(out, dtype=object, name=name)


def _parse_json_arrays(column: pa.Array, name: str) -> pd.Series:
    out: list[np.ndarray | None] = []
    for value in column.to_pylist():
        if value is None:
            out.append(None)
            continue
        try:
            out.append(np.array([float(x) for x in json.loads(value)], dtype=np.float64))
        except (ValueError, TypeError):
            raise DataError(
                f"Column {name!r} holds JSON arrays of numbers, but one value is not: {value[:80]!r}. "
                "Fix or filter that row in the query.",
                details={"column": name, "value": value[:200]},
            ) from None
    return _vectors(out, name)


def to_pandas(column: pa.ChunkedArray | pa.Array, spec: FeatureSpec) -> pd.Series:
    """Convert one Arrow column following the module's rules for ``spec.kind``."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    name, kind = spec.name, spec.kind
    typ = array.type
    if kind == "array":
        if is_string_type(typ):
            return _parse_json_arrays(array, name)
        values = array.to_pylist()
        return _vectors([None if v is None else np.array([np.nan if x is None else float(x) for x in v],
                                                          dtype=np.float64) for v in values], name)
    if kind in ("numeric", "boolean"):
        if pa.types.is_null(typ) or pa.types.is_decimal(typ) or pa.types.is_boolean(typ):
            array = array.cast(pa.float64())
        elif is_string_type(typ):
            raise DataError(f"Column {name!r} holds text but the model expects numbers.", details={"column": name})
        elif pa.types.is_integer(typ) and array.null_count == 0:
            return pd.Series(array.to_numpy(zero_copy_only=False).astype(np.int64, copy=False), name=name)
        return pd.Series(array.cast(pa.float64()).to_numpy(zero_copy_only=False), name=name)
    if kind == "datetime":
        return pd.Series(array.to_pandas(), name=name)
    # categorical / text: object dtype of str with np.nan for NULL
    if not is_string_type(typ):
        array = array.cast(pa.string()) if not pa.types.is_dictionary(typ) else array.dictionary_decode().cast(pa.string())
    values = array.to_numpy(zero_copy_only=False).astype(object)
    if array.null_count:
        values[pd.isna(values)] = np.nan
    return pd.Series(values, dtype=object, name=name)


def vector_length(series: pd.Series) -> int | None:
    """The length every non-NULL vector of an array column shares; None when they differ (or none)."""
    lengths = {len(v) for v in series if v is not None}
    return lengths.pop() if len(lengths) == 1 else None


def frame(table: pa.Table | pa.RecordBatch, features: list[FeatureSpec]) -> pd.DataFrame:
    """X in the order of ``features``."""
    data = {spec.name: to_pandas(table.column(spec.name), spec) for spec in features}
    return pd.DataFrame(data, columns=[spec.name for spec in features])
