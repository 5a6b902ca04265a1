"""Encoders for columns that become numbers: plain numbers, arrays and dates.

Each one turns a column into a float matrix of "raw" values (NaN for NULL),
then fills NULLs with the training mean and, when scaling, standardises:
``output = (raw - mean) / scale``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from softquery.errors import DataError
from softquery.modelcode.preprocessing.kinds import ARRAY, DATETIME, NUMERIC


class _NumericBlock:
    kind = NUMERIC
    sparse = False

    def __init__(self, column: str, scale: bool):
        self.column = column
        self.scale = scale
        self.mean_ = np.zeros(0)
        self.scale_ = np.ones(0)
        self.names_: list[str] = []

    def raw(self, series: pd.Series) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, series: pd.Series) -> _NumericBlock:
        values = self.raw(series)
        seen = ~np.isnan(values)
        counts = seen.sum(axis=0)
        sums = np.where(seen, values, 0.0).sum(axis=0)
        self.mean_ = np.divide(sums, counts, out=np.zeros(values.shape[1]), where=counts > 0)
        if self.scale:
            centred = np.where(seen, values - self.mean_, 0.0)
            var = np.divide((centred**2).sum(axis=0), counts, out=np.zeros_like(sums), where=counts > 0)
            std = np.sqrt(var)
            self.scale_ = np.where(std > 0, std, 1.0)
        else:
            self.scale_ = np.ones(values.shape[1])
        return self

    def transform(self, series: pd.Series) -> np.ndarray:
        out = np.empty((len(series), len(self.mean_)), order="F")
        self.transform_into(series, out)
        return out

    def transform_into(self, series: pd.Series, out: np.ndarray) -> None:
        """Write the transform into ``out`` (rows × ``len(names_)``, a slice of the whole
        matrix): the same operations as ``(where(isnan(raw), mean, raw) - mean) / scale``,
        done in place, so a wide matrix is built without a temporary per column."""
        np.copyto(out, self.raw(series))
        missing = np.isnan(out)
        if missing.any():
            np.copyto(out, np.broadcast_to(self.mean_, out.shape), where=missing)
        if self.scale:
            out -= self.mean_
            out /= self.scale_

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "output_features": list(self.names_),
            "mean": [float(v) for v in self.mean_],
            "scale": [float(v) for v in self.scale_],
        }


class NumericEncoder(_NumericBlock):
    """Numbers and booleans. NULL becomes the training mean."""

    def __init__(self, column: str, scale: bool):
        super().__init__(column, scale)
        self.names_ = [column]

    def raw(self, series: pd.Series) -> np.ndarray:
        if pd.api.types.is_bool_dtype(series.dtype):
            series = series.astype(float)
        elif not pd.api.types.is_numeric_dtype(series.dtype):
            series = series.map(lambda v: float(v) if isinstance(v, bool) else v)
            converted = pd.to_numeric(series, errors="coerce")
            bad = converted.isna() & series.notna()
            if bad.any():
                example = series[bad].iloc[0]
                raise DataError(
                    f"Column '{self.column}' held numbers when the model was trained, "
                    f"but now contains {example!r}. Make the query return numbers (or NULL) "
                    "in this column.",
                    details={"column": self.column, "value": repr(example)},
                )
            series = converted
        matrix: np.ndarray = series.to_numpy(dtype=float, na_value=np.nan).reshape(-1, 1)
        return matrix


class ArrayEncoder(_NumericBlock):
    """Lists of numbers (embeddings): one feature per position, length fixed at fit."""

    kind = ARRAY

    def __init__(self, column: str, scale: bool):
        super().__init__(column, scale)
        self.length_: int | None = None

    def fit(self, series: pd.Series) -> ArrayEncoder:
        lengths = [len(v) for v in self._lists(series) if v is not None]
        self.length_ = max(lengths, default=0)
        self.names_ = [f"{self.column}_{i}" for i in range(self.length_)]
        super().fit(series)
        return self

    def _lists(self, series: pd.Series) -> list[Any]:
        out: list[Any] = []
        for value in series.tolist():
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError as exc:
                    raise self._error(value) from exc
            elif value is not None and not isinstance(value, list | tuple | np.ndarray):
                value = None if pd.isna(value) else value
            if value is not None and not isinstance(value, list | tuple | np.ndarray):
                raise self._error(value)
            out.append(value)
        return out

    def _error(self, value: object) -> DataError:
        return DataError(
            f"Column '{self.column}' should hold arrays of numbers such as [0.1, 0.2], "
            f"but contains {str(value)[:80]!r}.",
            details={"column": self.column},
        )

    def raw(self, series: pd.Series) -> np.ndarray:
        length = self.length_ or 0
        out = np.full((len(series), length), np.nan)
        for i, value in enumerate(self._lists(series)):
            if value is None or length == 0:
                continue
            try:
                row = np.asarray(value, dtype=float).ravel()[:length]
            except (TypeError, ValueError) as exc:
                raise self._error(value) from exc
            out[i, : len(row)] = row
        return out


class DatetimeEncoder(_NumericBlock):
    """Dates and timestamps: year, month, day, day of week (and hour when times occur)."""

    kind = DATETIME

    def __init__(self, column: str, scale: bool):
        super().__init__(column, scale)
        self.parts_: list[str] = []

    def _as_datetimes(self, series: pd.Series) -> pd.Series:
        try:
            values = pd.to_datetime(series, errors="raise", utc=True, format="mixed")
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"Column '{self.column}' held dates when the model was trained, "
                "but now contains values that are not dates.",
                details={"column": self.column},
            ) from exc
        return values.dt.tz_localize(None)

    def fit(self, series: pd.Series) -> DatetimeEncoder:
        values = self._as_datetimes(series).dropna()
        has_time = bool((values != values.dt.normalize()).any())
        self.parts_ = ["year", "month", "day", "day_of_week"] + (["hour"] if has_time else [])
        self.names_ = [f"{self.column}_{part}" for part in self.parts_]
        super().fit(series)
        return self

    def raw(self, series: pd.Series) -> np.ndarray:
        values = self._as_datetimes(series)
        if not self.parts_:
            return np.zeros((len(series), 0))
        columns = [getattr(values.dt, part).to_numpy(dtype=float, na_value=np.nan) for part in self.parts_]
        return np.column_stack(columns)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "parts": list(self.parts_), "timezone": "UTC"}
