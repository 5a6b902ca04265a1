"""Decide what kind of feature a column holds, the way BigQuery ML does."""

from __future__ import annotations

import datetime as dt
import numbers
import re
from typing import Final

import numpy as np
import pandas as pd

NUMERIC: Final = "numeric"
CATEGORICAL: Final = "categorical"
TEXT: Final = "text"
ARRAY: Final = "array"
DATETIME: Final = "datetime"
IGNORED: Final = "ignored"

#: A string column is text (TF-IDF) when its values average this many words...
TEXT_MIN_WORDS: Final = 3.0
#: ...or when it has more distinct values than ``max_categories`` and values this long.
TEXT_MIN_CHARS: Final = 20.0

#: ISO dates / timestamps stored as text (SQLite has no date type).
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_ARRAY_TYPES = (list, tuple, np.ndarray)
_DATE_TYPES = (dt.date, np.datetime64)  # pd.Timestamp and datetime are dt.date subclasses


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number | np.bool_) and not isinstance(value, complex)


def looks_like_json_array(value: object) -> bool:
    """True for a string such as ``'[0.1, 0.2]'``."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    return text.startswith("[") and text.endswith("]")


def looks_like_iso_date(value: object) -> bool:
    """True for a string such as ``'2024-05-03'`` or ``'2024-05-03 10:30:00'``."""
    return isinstance(value, str) and _ISO_DATE.match(value.strip()) is not None


def detect_kind(series: pd.Series, *, max_categories: int, text_only: bool = False) -> str:
    """Return the feature kind of one training column."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return IGNORED if text_only else NUMERIC
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return IGNORED if text_only else DATETIME
    values = series.dropna()
    if len(values) == 0:
        return IGNORED if text_only else NUMERIC  # all NULL: a constant feature
    if text_only:
        return TEXT if values.map(lambda v: isinstance(v, str)).any() else IGNORED
    if not pd.api.types.is_object_dtype(dtype) and pd.api.types.is_string_dtype(dtype):
        return _text_kind(values.astype(str), max_categories)  # only strings: vectorised checks
    if values.map(lambda v: isinstance(v, _ARRAY_TYPES) or looks_like_json_array(v)).all():
        return ARRAY
    if values.map(lambda v: isinstance(v, _DATE_TYPES) or looks_like_iso_date(v)).all():
        return DATETIME
    if values.map(_is_number).all():
        return NUMERIC
    return _string_kind(values.astype(str), max_categories)


def _text_kind(values: pd.Series, max_categories: int) -> str:
    stripped = values.str.strip()
    if (stripped.str.startswith("[") & stripped.str.endswith("]")).all():
        return ARRAY
    if stripped.str.match(_ISO_DATE).all():
        return DATETIME
    return _string_kind(values, max_categories)


def _string_kind(values: pd.Series, max_categories: int) -> str:
    words = values.str.split().str.len().mean()
    chars = values.str.len().mean()
    if words >= TEXT_MIN_WORDS:
        return TEXT
    if values.nunique() > max_categories and chars >= TEXT_MIN_CHARS:
        return TEXT
    return CATEGORICAL
