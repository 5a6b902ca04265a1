"""k-fold cross-validation of user model code: each fold trains a fresh ``Model()`` and is
measured with the same metrics as the holdout split (``fit.evaluate_predictions``).

Folds: stratified for classification (when every class has enough rows), shuffled k-fold
otherwise, and ordered (each fold trains on earlier rows and is measured on the next ones,
scikit-learn's ``TimeSeriesSplit``) when the model names an order column. The folds are
scikit-learn's own splitters with ``CV_SEED``, so ``cross_validate`` with the same splitter
gives the same figures.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit

from softquery.domain import TaskType
from softquery.training.fit import (
    call_on_rows,
    call_user,
    evaluate_predictions,
    holdout_predictions,
    predict_proba_or_none,
)

DEFAULT_FOLDS = 5
MIN_FOLDS = 2
MAX_FOLDS = 20
MIN_ROWS_PER_FOLD = 2
CV_SEED = 0

Progress = Callable[..., None]  # (phase, fraction | None, detail="")


@dataclass
class CrossValidation:
    """What cross-validation measured; ``method`` "none" when it could not run (``notes`` say why)."""

    method: str  # "kfold" | "stratified_kfold" | "ordered" | "none"
    folds: int
    rows: int
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {mean, std, folds}
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    order_column: str | None = None

    def score(self, metric: str) -> tuple[float | None, float | None]:
        """(mean, standard deviation) of ``metric`` over the folds; (None, None) if not measured."""
        found = self.metrics.get(metric)
        if not found or found.get("mean") is None:
            return None, None
        return float(found["mean"]), float(found["std"] or 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "folds": self.folds, "rows": self.rows, "metrics": self.metrics,
                "notes": self.notes, "seconds": round(self.seconds, 4), "seed": CV_SEED,
                "order_column": self.order_column}


def skipped(rows: int, why: str) -> CrossValidation:
    return CrossValidation(method="none", folds=0, rows=rows, notes=[why])


def splitter(task: TaskType, y: pd.Series | None, folds: int, ordered: bool) -> tuple[str, Any, list[str]]:
    """(method, scikit-learn splitter, notes) for ``folds`` folds."""
    if ordered:
        return "ordered", TimeSeriesSplit(n_splits=folds), []
    if task is TaskType.CLASSIFICATION and y is not None:
        smallest = int(y.value_counts().min())
        if smallest >= folds:
            return "stratified_kfold", StratifiedKFold(n_splits=folds, shuffle=True, random_state=CV_SEED), []
        note = (f"The rarest class of the label has only {smallest} row(s), fewer than the {folds} folds, "
                "so the folds are not stratified.")
        return "kfold", KFold(n_splits=folds, shuffle=True, random_state=CV_SEED), [note]
    return "kfold", KFold(n_splits=folds, shuffle=True, random_state=CV_SEED), []


def fold_count(rows: int, wanted: int) -> tuple[int, list[str]]:
    """How many folds ``rows`` rows allow (0: none), with a note when fewer than ``wanted``."""
    possible = min(wanted, rows // MIN_ROWS_PER_FOLD)
    if possible < MIN_FOLDS:
        return 0, [f"Only {rows} training rows: too few for cross-validation (it needs at least "
                   f"{MIN_FOLDS * MIN_ROWS_PER_FOLD}), so only the holdout figures are shown."]
    if possible < wanted:
        return possible, [f"Only {rows} training rows: cross-validated with {possible} folds instead of {wanted}."]
    return wanted, []


def _summary(per_fold: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    names = [k for k in per_fold[0] if all(isinstance(f.get(k), int | float) and not isinstance(f.get(k), bool)
                                          for f in per_fold)]
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        values = np.array([float(f[name]) for f in per_fold])
        finite = bool(np.all(np.isfinite(values)))
        out[name] = {
            "mean": round(float(values.mean()), 10) if finite else None,
            "std": round(float(values.std()), 10) if finite else None,  # population std, as numpy's default
            "folds": [round(float(v), 10) if math.isfinite(v) else None for v in values],
        }
    return out


def fold_indices(split: Any, X: pd.DataFrame, y: pd.Series | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    yield from split.split(X, y)


def cross_validate(
    cls: Any, X: pd.DataFrame, y: pd.Series | None, task: TaskType, classes: list[Any] | None, *,
    folds: int = DEFAULT_FOLDS, order: pd.Series | None = None, order_column: str | None = None,
    progress: Progress | None = None,
) -> CrossValidation:
    """Cross-validate ``class Model`` ``cls`` on X, y. ``order``: values to sort the rows by for
    ordered folds. A model-code error in a fold is raised, as in the holdout check."""
    started = time.perf_counter()
    count, notes = fold_count(len(X), folds)
    if count == 0:
        return skipped(len(X), notes[0])
    if order is not None:
        positions = np.argsort(order.to_numpy(), kind="stable")
        X = X.iloc[positions]
        y = y.iloc[positions] if y is not None else None
    method, split, more = splitter(task, y, count, order is not None)
    per_fold: list[dict[str, Any]] = []
    for i, (train_at, test_at) in enumerate(fold_indices(split, X, y)):
        if progress is not None:
            progress("cross-validating", None, f"fold {i + 1} of {count}")
        X_tr, X_te = X.iloc[train_at], X.iloc[test_at]
        y_tr = y.iloc[train_at] if y is not None else None
        y_te = y.iloc[test_at] if y is not None else None
        model = call_user(cls, "Model()")
        call_on_rows(model.train, "train(X, y)", X_tr, y_tr)
        preds, named = holdout_predictions(model, X_te, "cross-validation")
        proba = predict_proba_or_none(model, X_te, named) if y is not None else None
        metrics, _ = evaluate_predictions(task, X_te, y_te, preds, proba, classes, named)
        per_fold.append(metrics)
    return CrossValidation(method=method, folds=count, rows=len(X), metrics=_summary(per_fold),
                           notes=notes + more, seconds=time.perf_counter() - started,
                           order_column=order_column)
