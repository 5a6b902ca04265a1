"""Permutation importance of each input column, measured on the holdout rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import r2_score

from softquery.domain import TaskType

MAX_ROWS = 2000
MAX_COLUMNS = 60
REPEATS = 3


class _Trained:
    """The user's trained Model seen as a fitted estimator (scikit-learn wants ``fit``)."""

    def __init__(self, model: Any):
        self.model = model

    def fit(self, X: Any, y: Any = None) -> _Trained:
        return self

    def predict(self, X: Any) -> Any:
        return self.model.predict(X)


def _scorer(task: TaskType) -> Any:
    def score(model: Any, X: pd.DataFrame, y: Any) -> float:
        predicted = np.asarray(model.predict(X))
        if task is TaskType.REGRESSION:
            return float(r2_score(np.asarray(y, dtype=float), predicted.astype(float)))
        # accuracy by equality: scikit-learn's accuracy_score refuses object arrays of numbers
        return float(np.mean(np.asarray(y, dtype=object) == predicted.astype(object)))

    return score


def feature_importance(model: Any, X: pd.DataFrame, y: pd.Series | None, task: TaskType) -> list[dict[str, Any]]:
    """How much the key score drops when one column is shuffled (higher = more important).

    Empty for clustering, very wide inputs, or when the model cannot be scored.
    """
    if y is None or task is TaskType.CLUSTERING or X.shape[1] > MAX_COLUMNS or len(X) < 5:
        return []
    if len(X) > MAX_ROWS:
        sample = X.sample(MAX_ROWS, random_state=0)
        X, y = sample, y.loc[sample.index]
    result = permutation_importance(_Trained(model), X, y, scoring=_scorer(task), n_repeats=REPEATS, random_state=0)
    rows = [
        {"feature": str(name), "importance": float(mean), "std": float(std)}
        for name, mean, std in zip(X.columns, result.importances_mean, result.importances_std, strict=True)
    ]
    return sorted(rows, key=lambda r: r["importance"], reverse=True)
