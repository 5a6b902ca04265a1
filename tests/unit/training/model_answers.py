"""Values a model's predict() may return, for the fuzz tests (hypothesis strategies).

A drawn ``Recipe`` builds the answer for any number of rows, the same way each time
(training calls predict on the holdout rows, the round trip on the first rows).
Besides plain values it holds what a careless or hostile model code returns: NaN,
infinities, None inside arrays, mixed types, wrong shapes, DataFrames, lists of lists,
generators, scalars, and objects whose ``__len__``, ``__eq__``, ``__str__`` or
``__array__`` lie or raise.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st


class RaisesOnEverything:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    def __str__(self) -> str:
        raise RuntimeError("str")

    def __repr__(self) -> str:
        raise RuntimeError("repr")

    def __float__(self) -> float:
        raise RuntimeError("float")


class LyingLength:
    """A sequence whose ``__len__`` says one thing and whose items say another."""

    def __init__(self, claimed: int):
        self.claimed = claimed

    def __len__(self) -> int:
        return self.claimed

    def __getitem__(self, i: int) -> Any:
        if i >= 2:
            raise IndexError(i)
        return 1.0


class LyingList(list):  # type: ignore[type-arg]
    def __len__(self) -> int:
        return 3


class BadArray:
    def __init__(self, gives: Any):
        self.gives = gives

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        if isinstance(self.gives, Exception):
            raise self.gives
        return self.gives


class PretendsToBeText:
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return str


class FloatThatRaises(float):
    def __float__(self) -> float:
        raise ValueError("no float")


class TextThatLies(str):
    def __str__(self) -> str:
        raise ValueError("no str")


SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, 5e-324]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**400, 2**63, -(2**63) - 1]),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(["", "yes", "no", "malignant", "1", "é"]),
    st.binary(max_size=4),
    st.decimals(allow_nan=True, allow_infinity=True, places=2),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, datetime.UTC])),
    st.times(),
    st.timedeltas(),
    st.sampled_from([np.float32(np.nan), np.float64(np.inf), np.int64(7), np.bool_(True), np.str_("no"),
                     np.datetime64("NaT"), np.datetime64("2024-01-02"), np.timedelta64(3, "s"), pd.NA, pd.NaT,
                     pd.Timestamp("2024-01-02 03:04:05.123456789", tz="Europe/Paris"), complex(1, 2)]),
    st.builds(list, st.lists(st.integers(), max_size=2)),
    st.builds(dict), st.builds(set),
    st.builds(RaisesOnEverything), st.builds(PretendsToBeText), st.builds(FloatThatRaises),
    st.builds(TextThatLies, st.text(max_size=3)), st.builds(LyingLength, st.integers(-1, 10)),
    st.builds(lambda: np.array([1.0])), st.builds(lambda: np.array([1.0, 2.0])),
)
CONTAINERS = ("list", "tuple", "array", "float_array", "typed_array", "series", "frame1", "frame2",
              "column", "matrix", "lists1", "ragged", "generator", "iterator", "scalar", "none", "lying_len",
              "lying_list", "bad_array", "array_of_list", "object_2d", "int_series_with_na", "category")
DTYPES = ("float64", "float32", "int64", "uint64", "bool", "U3", "S2", "complex128", "datetime64[s]",
          "timedelta64[s]", "object", "V4")


@dataclass(frozen=True)
class Recipe:
    container: str
    values: tuple[Any, ...]
    delta: int      # rows more (or fewer) than asked
    dtype: str

    def cells(self, n: int) -> list[Any]:
        pool = self.values or (None,)
        count = max(0, n + self.delta)
        return [pool[i % len(pool)] for i in range(count)]

    def build(self, n: int) -> Any:
        cells = self.cells(n)
        kind = self.container
        try:
            if kind == "list":
                return cells
            if kind == "tuple":
                return tuple(cells)
            if kind == "array":
                out = np.empty(len(cells), dtype=object)
                for i, c in enumerate(cells):
                    out[i] = c
                return out
            if kind == "float_array":
                return np.array([c if isinstance(c, float) else math.nan for c in cells])
            if kind == "typed_array":
                return np.zeros(len(cells), dtype=self.dtype)
            if kind == "series":
                return pd.Series(cells, dtype=object)
            if kind == "frame1":
                return pd.DataFrame({"p": pd.Series(cells, dtype=object)})
            if kind == "frame2":
                return pd.DataFrame({"p": pd.Series(cells, dtype=object), "q": range(len(cells))})
            if kind == "column":
                return np.zeros((len(cells), 1), dtype=self.dtype if self.dtype != "V4" else "float64")
            if kind == "matrix":
                return np.zeros((len(cells), 2))
            if kind == "lists1":
                return [[c] for c in cells]
            if kind == "ragged":
                return [[c] * (i % 3) for i, c in enumerate(cells)]
            if kind == "generator":
                return (c for c in cells)
            if kind == "iterator":
                return iter(cells)
            if kind == "scalar":
                return cells[0] if cells else 3.0
            if kind == "none":
                return None
            if kind == "lying_len":
                return LyingLength(n)
            if kind == "lying_list":
                return LyingList(cells)
            if kind == "bad_array":
                return BadArray(ValueError("no") if self.delta % 2 else cells)
            if kind == "array_of_list":
                return np.array(cells + [[1, 2]], dtype=object)[:-1]
            if kind == "object_2d":
                return np.array([[c, c] for c in cells], dtype=object).reshape(len(cells), -1)[:, :1]
            if kind == "int_series_with_na":
                return pd.Series([None if i % 3 == 0 else i for i in range(len(cells))], dtype="Int64")
            if kind == "category":
                return pd.Series(["a" if i % 2 else "b" for i in range(len(cells))], dtype="category")
        except Exception:  # noqa: BLE001 - numpy refused to build it: send the list itself
            return cells
        raise AssertionError(kind)


RECIPES: st.SearchStrategy[Recipe] = st.builds(
    Recipe,
    container=st.sampled_from(CONTAINERS),
    values=st.one_of(
        st.lists(SCALARS, min_size=0, max_size=6),
        st.lists(st.sampled_from(["yes", "no"]), min_size=1, max_size=4),     # the label's classes
        st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=4),               # plain numbers
        st.lists(st.one_of(st.floats(-1e6, 1e6), st.none()), min_size=1, max_size=4),
    ).map(tuple),
    delta=st.sampled_from([0, 0, 0, 0, -1, 1]),
    dtype=st.sampled_from(DTYPES),
)


def answering(recipe: Recipe) -> Callable[[pd.DataFrame], Any]:
    return lambda X: recipe.build(len(X))

