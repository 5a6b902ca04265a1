"""What model code answered: predictions and probabilities, checked and made plain.

Whatever ``predict(X)`` or ``predict_proba(X)`` returns ends here, in training's
holdout check, in a batch prediction's job child and its supervisor, and in a
serving worker alike:

* predictions: one per row of X, as a list, a tuple, a numpy array, a pandas Series
  or one-column DataFrame, or anything numpy reads as an array (``__array__``); a
  one-column matrix (n × 1) counts as one value per row. Each value is a number, text,
  a boolean, bytes, a date/time, or NULL (``None``, ``NaN``, ``pd.NA``, ``NaT``), and
  one answer holds one kind of value (ints and floats together are numbers).
  Infinite numbers are refused: neither a table nor a JSON answer holds them.
* probabilities: one row per input row, a finite number per column.

Anything else is a ``ModelCodeError`` that names the problem and the first rows
where it is; an exception raised while reading a value (a ``__len__`` that lies,
an ``__array__`` that raises) is one too. Values come back plain (Python and numpy
scalars only), so they travel to the trusted side and into a table as they are.
"""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from softquery.errors import ModelCodeError, SoftqueryError

SHOWN_ROWS = 5
NULL, INTEGER, NUMBER, BOOLEAN, TEXT, BYTES = "NULL", "integer", "number", "boolean", "text", "bytes"
DATETIME, DATE, TIME, DURATION, INFINITE = "datetime", "date", "time", "duration", "infinite"
KIND_WORDS = {NUMBER: "numbers", BOOLEAN: "booleans", TEXT: "text", BYTES: "bytes", DATETIME: "dates with times",
              DATE: "dates", TIME: "times of day", DURATION: "durations"}
_SINGLE = (str, bytes, bool, int, float, complex, decimal.Decimal, datetime.date, datetime.time,
           datetime.timedelta, np.generic)
_TEXT_TYPES = (frozenset({str}), frozenset({str, type(None)}))
_INT64 = (-(2**63), 2**63 - 1)
_ALLOWED = "each prediction must be a number, text, a boolean, a date or NULL (None)"


@dataclass(frozen=True)
class RowNames:
    """How a message names rows: by ``labels`` (X.index) when given, else by position
    plus ``first`` (the rows before this batch), followed by ``where``."""

    where: str = "of X (counting from 0)"
    first: int = 0
    labels: Sequence[Any] | None = None

    def _row(self, position: int) -> int | str:
        if self.labels is None:
            return self.first + position
        label = self.labels[position]
        return int(label) if isinstance(label, int | np.integer) else str(label)

    def name(self, positions: Sequence[int]) -> str:
        shown = [f"{self._row(p):,}" if isinstance(self._row(p), int) else str(self._row(p))
                 for p in positions[:SHOWN_ROWS]]
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
        more = f" (and {len(positions) - len(shown):,} more)" if len(positions) > len(shown) else ""
        return f"row{'s' if len(positions) > 1 else ''} {listed}{more} {self.where}"

    def details(self, positions: Sequence[int]) -> dict[str, Any]:
        return {"bad_rows": [self._row(p) for p in positions[:SHOWN_ROWS]], "bad_row_count": len(positions)}


def predictions_of(values: Any, rows: int, named: RowNames | None = None, call: str = "predict(X)") -> np.ndarray:
    """``values`` as one plain 1-D array of ``rows`` predictions (see the module doc)."""
    try:
        return _plain(_one_column(values, rows, call), named or RowNames(), call)
    except SoftqueryError:
        raise
    except Exception as exc:  # reading a user's object may raise anything
        raise _unreadable(call, exc) from exc


def probabilities_of(values: Any, rows: int, width: int | None = None, named: RowNames | None = None,
                     call: str = "predict_proba(X)") -> np.ndarray | None:
    """``values`` as a float matrix of ``rows`` rows (and ``width`` columns when given), every
    probability finite; None stays None."""
    if values is None:
        return None
    try:
        return _matrix(values, rows, width, named or RowNames(), call)
    except SoftqueryError:
        raise
    except Exception as exc:  # reading a user's object may raise anything
        raise _unreadable(call, exc) from exc


def null_rows(preds: np.ndarray) -> list[int]:
    """Positions of the NULL predictions (None, NaN, NaT) of a plain array."""
    if preds.dtype.kind in "fmM":
        found: list[int] = np.flatnonzero(pd.isna(preds)).tolist()
        return found
    if preds.dtype.kind == "O":
        return [i for i, v in enumerate(preds.tolist()) if v is None]
    return []


def kinds_in(preds: np.ndarray) -> dict[str, list[int]]:
    """The positions of each kind of value (numbers as one kind, NULL left out) of a plain array."""
    by_kind: dict[str, list[int]] = {}
    for i, value in enumerate(preds.tolist()):
        kind = _kind(value)[0]
        if kind != NULL:
            by_kind.setdefault(NUMBER if kind == INTEGER else kind, []).append(i)
    return by_kind


# -- reading -------------------------------------------------------------------------
def _unreadable(call: str, exc: Exception) -> ModelCodeError:
    return ModelCodeError(
        f"{call} returned something softquery could not read as values: reading it raised "
        f"{type(exc).__name__}. Return a list, a numpy array or a pandas Series of plain values "
        "(numbers, text, booleans, dates or None).",
        details={"exception": type(exc).__name__})


def _wrong_count(call: str, got: str, shape: Any, rows: int) -> ModelCodeError:
    return ModelCodeError(
        f"{call} returned {got} for {rows:,} input rows; it must return exactly one prediction per row of X.",
        details={"returned_shape": list(shape), "rows": rows})


def _one_column(values: Any, rows: int, call: str) -> np.ndarray:
    kind = type(values)
    if values is None:
        raise ModelCodeError(f"{call} returned None; it must return one prediction per row of X.",
                             details={"rows": rows})
    if hasattr(kind, "__next__") and hasattr(kind, "__iter__"):  # a generator, map, zip, iter(...)
        raise ModelCodeError(f"{call} returned a {kind.__name__} (an iterator); return a list or an array "
                             "instead, e.g. `return list(...)` or `return np.array(...)`.",
                             details={"returned_type": kind.__name__, "rows": rows})
    if issubclass(kind, _SINGLE):
        raise ModelCodeError(
            f"{call} returned a single {kind.__name__} instead of one prediction per row of X "
            f"({rows:,} rows); return a list, an array or a Series of {rows:,} values.",
            details={"returned_type": kind.__name__, "rows": rows})
    if issubclass(kind, pd.DataFrame):
        if values.shape[1] != 1:
            names = ", ".join(str(c) for c in list(values.columns)[:5])
            raise ModelCodeError(
                f"{call} returned a DataFrame with {values.shape[1]} columns ({names}) for {rows:,} rows; "
                "return one column of predictions (a Series, or the DataFrame's prediction column).",
                details={"returned_shape": list(values.shape), "rows": rows})
        values, kind = values.iloc[:, 0], pd.Series
    if issubclass(kind, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        arr = np.asarray(values.to_numpy())
    elif issubclass(kind, list | tuple):
        items = values if kind in (list, tuple) else tuple(iter(values))
        arr = _unwrapped_rows(_objects(items), call, rows)
    elif issubclass(kind, np.ndarray):
        arr = np.asarray(values)
    elif hasattr(kind, "__array__") or hasattr(kind, "__array_interface__"):
        arr = np.asarray(values)
    else:
        raise ModelCodeError(
            f"{call} returned a {kind.__name__}; return a list, a numpy array or a pandas Series with one "
            "prediction per row of X.", details={"returned_type": kind.__name__, "rows": rows})
    if arr.ndim == 0:
        raise ModelCodeError(
            f"{call} returned a single value (a 0-dimensional array) instead of one prediction per row "
            f"of X ({rows:,} rows).", details={"returned_shape": [], "rows": rows})
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise _wrong_count(call, f"an array of shape {arr.shape}", arr.shape, rows)
    if arr.shape[0] != rows:
        raise _wrong_count(call, f"{arr.shape[0]:,} value(s)", arr.shape, rows)
    return arr


def _objects(items: Sequence[Any]) -> np.ndarray:
    """A 1-D object array holding ``items`` as they are (numpy never looks inside them)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _unwrapped_rows(arr: np.ndarray, call: str, rows: int) -> np.ndarray:
    """A list of one-element lists (n × 1) as its values; a list of longer lists is a matrix."""
    items = arr.tolist()
    if not items or not all(type(v) in (list, tuple) or type(v) is np.ndarray for v in items):
        return arr
    widths = {len(v) for v in items}
    if widths == {1}:
        return _objects([v[0] for v in items])
    width = widths.pop() if len(widths) == 1 else None
    got = f"a list of {len(items):,} lists of {width if width is not None else 'varying numbers of'} values"
    raise _wrong_count(call, got, (len(items), width), rows)


def _plain(arr: np.ndarray, named: RowNames, call: str) -> np.ndarray:
    kind = arr.dtype.kind
    if kind in "biuUSmM":
        return arr
    if kind == "f":
        infinite = np.flatnonzero(np.isinf(arr))
        if len(infinite):
            raise _infinite(call, infinite.tolist(), named)
        return arr
    if kind != "O":
        what = f"complex numbers ({arr.dtype})" if kind == "c" else f"values of type {arr.dtype}"
        raise ModelCodeError(f"{call} returned {what}; {_ALLOWED}.", details={"dtype": str(arr.dtype)})
    values = arr.tolist()
    if frozenset(map(type, values)) in _TEXT_TYPES:  # text (and None): the usual class labels
        return arr
    return _plain_objects(values, named, call)


def _infinite(call: str, positions: list[int], named: RowNames) -> ModelCodeError:
    return ModelCodeError(
        f"{call} returned an infinite number at {named.name(positions)}; a prediction must be a finite "
        "number, or NULL (None or NaN) when the model has no answer for a row. Often a division by zero "
        "or the log of 0 in the model code.", details={**named.details(positions), "problem": "infinite"})


def _kind(value: Any) -> tuple[str, Any]:
    """(kind, plain value) of one prediction; kind "" (and the type's name) when it is no allowed value."""
    t = type(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return NULL, None
    if t is bool or t is np.bool_:
        return BOOLEAN, bool(value)
    if issubclass(t, int | np.integer):
        return INTEGER, int(value)
    if issubclass(t, float | np.floating):
        real = float(value)
        if math.isnan(real):
            return NULL, None
        return (NUMBER, real) if math.isfinite(real) else (INFINITE, None)
    if issubclass(t, decimal.Decimal):
        if value.is_nan():
            return NULL, None
        return (NUMBER, float(value)) if value.is_finite() else (INFINITE, None)
    if issubclass(t, str):
        return TEXT, str.__str__(value)
    if issubclass(t, bytes):
        return BYTES, bytes(value)
    if issubclass(t, datetime.datetime):
        return DATETIME, _datetime(value)
    if issubclass(t, datetime.date):
        return DATE, datetime.date(value.year, value.month, value.day)
    if issubclass(t, datetime.time):
        return TIME, datetime.time(value.hour, value.minute, value.second, value.microsecond)
    if issubclass(t, datetime.timedelta):
        return DURATION, datetime.timedelta(days=value.days, seconds=value.seconds, microseconds=value.microseconds)
    if issubclass(t, np.datetime64 | np.timedelta64):
        if np.isnat(value):
            return NULL, None
        if issubclass(t, np.datetime64):
            return DATETIME, value.astype("datetime64[us]").item()
        return DURATION, value.astype("timedelta64[us]").item()
    return "", t.__name__


def _datetime(value: datetime.datetime) -> datetime.datetime:
    """A plain ``datetime`` (a pandas Timestamp's nanoseconds dropped; a zone as UTC)."""
    if value.utcoffset() is not None:
        value = value.astimezone(datetime.UTC)
    zone = datetime.UTC if value.utcoffset() is not None else None
    return datetime.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                             value.microsecond, tzinfo=zone)


def _plain_objects(values: list[Any], named: RowNames, call: str) -> np.ndarray:
    by_kind: dict[str, list[int]] = {}
    plain: list[Any] = []
    odd: dict[str, list[int]] = {}
    for i, value in enumerate(values):
        kind, out = _kind(value)
        if kind == "":
            odd.setdefault(out, []).append(i)
            continue
        by_kind.setdefault(kind, []).append(i)
        plain.append(out)
    if odd:
        name, positions = next(iter(odd.items()))
        raise ModelCodeError(f"{call} returned a value of type {name} at {named.name(positions)}; {_ALLOWED}.",
                             details={**named.details(positions), "type": name})
    if INFINITE in by_kind:
        raise _infinite(call, by_kind[INFINITE], named)
    found = {k: v for k, v in by_kind.items() if k not in (NULL, INTEGER)}
    if INTEGER in by_kind:
        found[NUMBER] = sorted(found.get(NUMBER, []) + by_kind[INTEGER])
    if len(found) > 1:
        ordered = sorted(found, key=lambda k: (-len(found[k]), k))
        minority = ordered[-1]
        raise ModelCodeError(
            f"{call} returned {KIND_WORDS[ordered[0]]} and {KIND_WORDS[minority]} together "
            f"({KIND_WORDS[minority]} at {named.name(found[minority])}); the predictions of one model "
            "are of one kind, as a table column is.",
            details={**named.details(found[minority]), "kinds": [KIND_WORDS[k] for k in ordered]})
    return _typed(plain, set(by_kind))


def _typed(plain: list[Any], kinds: set[str]) -> np.ndarray:
    values = kinds - {NULL}
    has_null = NULL in kinds
    if not values:
        return np.full(len(plain), np.nan)
    if values <= {INTEGER, NUMBER}:
        if values == {INTEGER} and all(v is None or _INT64[0] <= v <= _INT64[1] for v in plain):
            return _objects(plain) if has_null else np.array(plain, dtype=np.int64)  # NULL: None
        try:
            return np.array([np.nan if v is None else float(v) for v in plain], dtype=np.float64)
        except OverflowError:
            raise ModelCodeError("predict(X) returned an integer too large for any number column "
                                 "(beyond about 1e308).", details={"problem": "too_large"}) from None
    if values == {BOOLEAN} and not has_null:
        return np.array(plain, dtype=bool)
    if values == {DURATION} and any(v is not None and abs(v) > _LONGEST_DURATION for v in plain):
        raise ModelCodeError("predict(X) returned a duration too long for a table column (beyond about "
                             "290,000 years).", details={"problem": "too_large"})
    return _objects(plain)


# a duration column holds microseconds in 64 bits
_LONGEST_DURATION = datetime.timedelta(microseconds=2**63 - 1)


def _matrix(values: Any, rows: int, width: int | None, named: RowNames, call: str) -> np.ndarray:
    kind = type(values)
    proba: np.ndarray | None = None
    if issubclass(kind, pd.DataFrame):
        values, kind = values.to_numpy(), np.ndarray
    if issubclass(kind, list | tuple | np.ndarray) or hasattr(kind, "__array__"):
        try:
            raw = np.asarray(values)
            # complex numbers are no probabilities (a cast to float would drop their imaginary part)
            proba = None if raw.dtype.kind == "c" else np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            proba = None
    shape = None if proba is None else proba.shape
    if proba is None or proba.ndim != 2 or proba.shape[0] != rows or (width is not None and proba.shape[1] != width):
        got = f"an array of shape {shape}" if shape is not None else f"a {kind.__name__} that is no table of numbers"
        classes = "" if width is None else f" and {width} classes"
        raise ModelCodeError(
            f"{call} returned {got} for {rows:,} rows{classes}; it must return one row of class "
            "probabilities (numbers) per input row.",
            details={"returned_shape": list(shape) if shape is not None else None, "rows": rows, "classes": width})
    bad = np.flatnonzero(~np.isfinite(proba).all(axis=1))
    if len(bad):
        positions: list[int] = bad.tolist()
        raise ModelCodeError(
            f"{call} returned NaN or infinite probabilities at {named.name(positions)}; every probability "
            "must be a finite number.", details={**named.details(positions), "rows": rows})
    return proba
