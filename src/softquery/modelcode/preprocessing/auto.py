"""``AutoPreprocessor``: turn a table of mixed columns into a float matrix."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from softquery.errors import DataError, SchemaMismatchError
from softquery.modelcode.preprocessing import kinds
from softquery.modelcode.preprocessing.numeric import ArrayEncoder, DatetimeEncoder, NumericEncoder
from softquery.modelcode.preprocessing.strings import CategoricalEncoder, TextEncoder

FORMAT = "softquery-preprocessing/1"
#: With text columns, output a sparse matrix once there are more features than this.
SPARSE_MIN_FEATURES = 500


class ColumnEncoder(Protocol):
    column: str
    kind: str
    sparse: bool
    names_: list[str]

    def fit(self, series: pd.Series) -> Any: ...
    def transform(self, series: pd.Series) -> Any: ...
    def describe(self) -> dict[str, Any]: ...


def _as_frame(X: Any) -> pd.DataFrame:
    frame = X.copy(deep=False) if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    frame.columns = [str(c) for c in frame.columns]
    if frame.columns.duplicated().any():
        dupes = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataError(
            f"The query returns the column name(s) {', '.join(dupes)} more than once; "
            "give each column its own name (use AS).",
            details={"columns": dupes},
        )
    return frame


class AutoPreprocessor(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn has no type stubs
    """Automatic feature preprocessing, decided per column from the training data.

    * numbers and booleans: NULL -> training mean, standardised when ``scale``;
    * short strings with few distinct values: one-hot (NULL is a category,
      unseen values give all zeros);
    * long / free-text strings: TF-IDF (``text_max_features`` words per column);
    * arrays of numbers: one feature per position (``emb_0``, ``emb_1``, ...);
    * dates and timestamps: year, month, day, day of week (and hour).

    ``sparse_output``: None (automatic: sparse only with large TF-IDF output),
    True or False (use False for estimators that need dense input).
    ``text_only``: keep only string columns, all as TF-IDF (for Naive Bayes).
    """

    def __init__(
        self,
        scale: bool = True,
        text_max_features: int = 5000,
        max_categories: int = 100,
        sparse_output: bool | None = None,
        text_only: bool = False,
    ):
        self.scale = scale
        self.text_max_features = text_max_features
        self.max_categories = max_categories
        self.sparse_output = sparse_output
        self.text_only = text_only

    def _encoder(self, column: str, kind: str) -> ColumnEncoder:
        if kind == kinds.CATEGORICAL:
            return CategoricalEncoder(column, self.max_categories)
        if kind == kinds.TEXT:
            return TextEncoder(column, self.text_max_features)
        if kind == kinds.ARRAY:
            return ArrayEncoder(column, self.scale)
        if kind == kinds.DATETIME:
            return DatetimeEncoder(column, self.scale)
        return NumericEncoder(column, self.scale)

    def fit(self, X: Any, y: Any = None) -> AutoPreprocessor:
        frame = _as_frame(X)
        if frame.shape[1] == 0:
            raise DataError("The training query returned no feature columns to learn from.")
        if frame.shape[0] == 0:
            raise DataError("The training query returned no rows.")
        encoders: list[ColumnEncoder] = []
        for column in frame.columns:
            kind = kinds.detect_kind(
                frame[column], max_categories=self.max_categories, text_only=self.text_only
            )
            if kind != kinds.IGNORED:
                encoders.append(self._encoder(column, kind).fit(frame[column]))
        if not encoders:
            raise DataError(
                "None of the columns can be used by this model"
                + (": it needs at least one text column." if self.text_only else ".")
            )
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.encoders_ = encoders
        n_out = sum(len(e.names_) for e in encoders)
        has_text = any(e.sparse for e in encoders)
        automatic = has_text and n_out > SPARSE_MIN_FEATURES
        self.sparse_output_ = automatic if self.sparse_output is None else bool(self.sparse_output)
        return self

    def transform(self, X: Any) -> np.ndarray | sp.csr_matrix:
        check_is_fitted(self, "encoders_")
        frame = _as_frame(X)
        missing = [e.column for e in self.encoders_ if e.column not in frame.columns]
        if missing:
            raise SchemaMismatchError(
                f"The rows to predict have no column(s) {', '.join(missing)}, which the model "
                "was trained with. Add them to the prediction query.",
                details={"missing_columns": missing},
            )
        if self.sparse_output_:
            blocks = [e.transform(frame[e.column]) for e in self.encoders_]
            return sp.hstack([sp.csr_matrix(b) for b in blocks], format="csr", dtype=float)
        # One matrix, filled column block by column block (column-major, so each block is
        # contiguous): no per-column arrays and no second copy to stack them.
        out = np.empty((len(frame), sum(len(e.names_) for e in self.encoders_)), order="F")
        start = 0
        for encoder in self.encoders_:
            target = out[:, start:start + len(encoder.names_)]
            write = getattr(encoder, "transform_into", None)
            if write is not None:
                write(frame[encoder.column], target)
            else:
                block = encoder.transform(frame[encoder.column])
                target[...] = block.toarray() if sp.issparse(block) else block
            start += len(encoder.names_)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "encoders_")
        return np.asarray([name for e in self.encoders_ for name in e.names_], dtype=object)

    def describe(self) -> dict[str, Any]:
        """Everything needed to apply this preprocessing outside Python (JSON-ready)."""
        check_is_fitted(self, "encoders_")
        used = {e.column for e in self.encoders_}
        return {
            "format": FORMAT,
            "scale": bool(self.scale),
            "input_columns": [str(c) for c in self.feature_names_in_],
            "ignored_columns": [str(c) for c in self.feature_names_in_ if c not in used],
            "columns": [{"name": e.column, **e.describe()} for e in self.encoders_],
            "feature_names": [str(n) for n in self.get_feature_names_out()],
            "rules": {
                "numeric": "x = (value, or mean when NULL); output = (x - mean) / scale",
                "array": "one value per position (missing positions and NULL -> mean), then as numeric",
                "datetime": "parts taken in UTC, then as numeric",
                "categorical": "1.0 for the matching category (None = NULL), else 0.0",
                "text": "scikit-learn TfidfVectorizer with the given vocabulary and idf",
            },
        }

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags
