"""Encoders for string columns: one-hot categories and TF-IDF text."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from softquery.errors import DataError
from softquery.modelcode.preprocessing.kinds import CATEGORICAL, TEXT


def _as_keys(series: pd.Series) -> list[str | None]:
    """Category keys: the value as text, or None for NULL."""
    nulls = series.isna().to_numpy()
    return [None if null else str(value) for value, null in zip(series.tolist(), nulls, strict=True)]


class CategoricalEncoder:
    """One-hot encoding. NULL is its own category when it occurs in training;
    values not seen in training (or beyond the ``max_categories`` most
    frequent) give all zeros."""

    kind = CATEGORICAL
    sparse = False

    def __init__(self, column: str, max_categories: int):
        self.column = column
        self.max_categories = max_categories
        self.categories_: list[str | None] = []
        self.names_: list[str] = []

    def fit(self, series: pd.Series) -> CategoricalEncoder:
        counts = Counter(_as_keys(series))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, str(item[0])))
        kept = [key for key, _ in ranked[: self.max_categories]]
        values: list[str | None] = [*sorted(key for key in kept if key is not None)]
        self.categories_ = [*values, None] if len(values) < len(kept) else values
        self.names_ = [f"{self.column}={'NULL' if c is None else c}" for c in self.categories_]
        return self

    def transform(self, series: pd.Series) -> np.ndarray:
        index = {key: i for i, key in enumerate(self.categories_)}
        positions = np.array([index.get(key, -1) for key in _as_keys(series)], dtype=int)
        out = np.zeros((len(series), len(self.categories_)))
        rows = np.flatnonzero(positions >= 0)
        out[rows, positions[rows]] = 1.0
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "output_features": list(self.names_),
            "categories": list(self.categories_),
        }


class TextEncoder:
    """TF-IDF over the words of a free-text column (NULL is empty text)."""

    kind = TEXT
    sparse = True

    def __init__(self, column: str, max_features: int):
        self.column = column
        self.max_features = max_features
        self.vectorizer_: TfidfVectorizer | None = None
        self.names_: list[str] = []

    @staticmethod
    def _texts(series: pd.Series) -> list[str]:
        return ["" if key is None else key for key in _as_keys(series)]

    def fit(self, series: pd.Series) -> TextEncoder:
        vectorizer = TfidfVectorizer(max_features=self.max_features)
        try:
            vectorizer.fit(self._texts(series))
        except ValueError as exc:
            raise DataError(
                f"Column '{self.column}' looks like text but has no words to learn from "
                "(it is empty or holds only very short tokens).",
                details={"column": self.column},
            ) from exc
        self.vectorizer_ = vectorizer
        self.names_ = [f"{self.column}:{term}" for term in vectorizer.get_feature_names_out()]
        return self

    def transform(self, series: pd.Series) -> sp.csr_matrix:
        assert self.vectorizer_ is not None, "fit() first"
        return sp.csr_matrix(self.vectorizer_.transform(self._texts(series)), dtype=float)

    def describe(self) -> dict[str, Any]:
        assert self.vectorizer_ is not None, "fit() first"
        vec = self.vectorizer_
        return {
            "kind": self.kind,
            "output_features": list(self.names_),
            "vocabulary": [str(t) for t in vec.get_feature_names_out()],
            "idf": [float(v) for v in vec.idf_],
            "lowercase": vec.lowercase,
            "token_pattern": vec.token_pattern,
            "norm": vec.norm,
            "sublinear_tf": vec.sublinear_tf,
            "smooth_idf": vec.smooth_idf,
        }
