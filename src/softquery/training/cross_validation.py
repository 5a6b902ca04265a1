"""k-fold cross-validation of user model code: each fold trains a fresh ``Model()`` and is
measured with the same metrics as the holdout split (``fit.evaluate_predictions``).

Folds: stratified for classification (when every class has enough rows), shuffled k-fold
otherwise, and ordered (each fold trains on earlier rows and is measured on the next ones,
scikit-learn's ``TimeSeriesSplit``) when the model names an order column. The folds are
scikit-learn's own splitters with ``CV_SEED``, so ``cross_validate`` with the same splitter
gives the same figures.

The folds run side by side up to the job's cores, each in a forked process
(``training.parallel``). Above ``CV_MAX_ROWS`` rows (``SOFTQUERY_CV_MAX_ROWS``) they run on a
seeded sample (``sample_rows``); when the run's time limit would not leave time for k folds
(estimated from the holdout fit's time), fewer folds run, or none (``folds_in_time``). Each
says so in the notes.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit, train_test_split

from softquery.domain import TaskType
from softquery.training.capture import headed
from softquery.training.fit import (
    call_on_rows,
    call_user,
    evaluate_predictions,
    holdout_predictions,
    predict_proba_or_none,
)
from softquery.training.parallel import run_all

DEFAULT_FOLDS = 5
MIN_FOLDS = 2
MAX_FOLDS = 20
MIN_ROWS_PER_FOLD = 2
CV_SEED = 0
CV_MAX_ROWS = 100_000  # more rows: cross-validate on a sample (``sample_rows``)

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
    pids: list[int] = field(default_factory=list)  # the process of each fold's fit (not stored)
    fit_seconds: float = 0.0  # the folds' train() times added up (not stored)

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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def unmeasured_notes(task: TaskType, per_fold: list[dict[str, Any]], test_rows: list[int]) -> list[str]:
    """A note for each metric the folds could not all measure (left out of the figures), e.g.
    r2 when each fold tests one row; never silently dropped."""
    counted: dict[str, int] = {}
    for fold in per_fold:
        for name, value in fold.items():
            if _is_number(value):
                counted[name] = counted.get(name, 0) + 1
    if task is TaskType.REGRESSION:
        counted.setdefault("r2", 0)
    notes = []
    for name, count in counted.items():
        if count == len(per_fold):
            continue
        if count == 0 and name == "r2" and test_rows and max(test_rows) < 2:
            notes.append("r2 was not measured: each fold has only 1 test row (r2 needs at least 2). "
                         "More rows, or fewer folds, measure it.")
        elif count == 0:
            notes.append(f"{name} was not measured in any fold.")
        else:
            notes.append(f"{name} was measured in only {count} of the {len(per_fold)} folds, so the "
                         "cross-validation figures leave it out.")
    return notes


def _summary(per_fold: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    names = [k for k in per_fold[0] if all(_is_number(f.get(k)) for f in per_fold)]
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


def sample_rows(X: pd.DataFrame, y: pd.Series | None, task: TaskType, max_rows: int | None,
                ordered: bool) -> tuple[np.ndarray | None, str | None]:
    """Positions of the rows to cross-validate on when there are more than ``max_rows``
    (None: all), and the note that says so. Like FLAML, which switches from cross-validation to
    a holdout for large data, we do not pay k fits on millions of rows: the folds run on a
    seeded sample (stratified by label for classification; the last rows in order for ordered
    folds), while the holdout and the final fit still use every row."""
    rows = len(X)
    if max_rows is None or rows <= max_rows:
        return None, None
    how = "a seeded random sample"
    if ordered:
        positions = np.arange(rows - max_rows, rows)
        how = "the last rows in order"
    else:
        positions = None
        if task is TaskType.CLASSIFICATION and y is not None and int(y.value_counts().min()) >= 2:
            with contextlib.suppress(ValueError):
                picked, _ = train_test_split(np.arange(rows), train_size=max_rows, random_state=CV_SEED,
                                             stratify=y.to_numpy())
                positions = np.sort(picked)
                how = "a seeded sample stratified by label"
        if positions is None:
            positions = np.sort(np.random.default_rng(CV_SEED).choice(rows, size=max_rows, replace=False))
    return positions, (f"Cross-validated on a sample of {max_rows:,} of {rows:,} rows ({how}); the holdout "
                       "figures and the final model use every row.")


@dataclass
class TimeBudget:
    """What the run's time limit leaves for cross-validation: ``seconds_left`` after the fits so
    far and room for the round-trip check; ``fit_seconds`` the holdout fit's time on
    ``fit_rows`` rows, from which each fold's time is estimated (in proportion to its rows)."""

    seconds_left: float
    fit_seconds: float
    fit_rows: int
    limit_seconds: float


def folds_in_time(count: int, rows: int, ordered: bool, budget: TimeBudget | None, cores: int
                  ) -> tuple[int, list[str]]:
    """How many of ``count`` folds fit in ``budget`` (0: none), with a note when fewer."""
    if budget is None:
        return count, []
    per_row = budget.fit_seconds / max(budget.fit_rows, 1)

    def estimate(k: int) -> float:
        train_rows = rows * (k - 1) / k if not ordered else rows / 2  # a fold's mean (ordered: n/2)
        return per_row * train_rows * math.ceil(k / max(cores, 1))

    for k in range(count, MIN_FOLDS - 1, -1):
        if estimate(k) <= budget.seconds_left:
            if k == count:
                return count, []
            return k, [f"Cross-validated with {k} folds instead of {count}: {count} folds would take about "
                       f"{estimate(count):.1f} s (estimated from a fit of {budget.fit_seconds:.1f} s on {budget.fit_rows:,} rows), "
                       f"more than the {max(budget.seconds_left, 0):.1f} s the run's time limit of "
                       f"{budget.limit_seconds:g} s leaves."]
    return 0, [f"Cross-validation was skipped: even {MIN_FOLDS} folds would take about {estimate(MIN_FOLDS):.1f} s "
               f"(estimated from a fit of {budget.fit_seconds:.1f} s on {budget.fit_rows:,} rows), more than the "
               f"{max(budget.seconds_left, 0):.1f} s the run's time limit of {budget.limit_seconds:g} s leaves. "
               "Only the holdout figures are shown; raise the model's time limit for cross-validation."]


def _fold(cls: Any, X: pd.DataFrame, y: pd.Series | None, task: TaskType, classes: list[Any] | None,
          train_at: np.ndarray, test_at: np.ndarray, title: str = "cross-validation fold") -> dict[str, Any]:
    """One fold: a fresh Model() trained on ``train_at``, measured on ``test_at`` (plain data back).
    What it prints is under ``── title ──`` (inside a search trial: under the trial's name)."""
    with headed(title):
        return _measured_fold(cls, X, y, task, classes, train_at, test_at)


def _measured_fold(cls: Any, X: pd.DataFrame, y: pd.Series | None, task: TaskType, classes: list[Any] | None,
                   train_at: np.ndarray, test_at: np.ndarray) -> dict[str, Any]:
    X_tr, X_te = X.iloc[train_at], X.iloc[test_at]
    y_tr = y.iloc[train_at] if y is not None else None
    y_te = y.iloc[test_at] if y is not None else None
    t0 = time.perf_counter()
    model = call_user(cls, "Model()")
    call_on_rows(model.train, "train(X, y)", X_tr, y_tr)
    seconds = time.perf_counter() - t0
    preds, named = holdout_predictions(model, X_te, "cross-validation")
    proba = predict_proba_or_none(model, X_te, named) if y is not None else None
    metrics, _ = evaluate_predictions(task, X_te, y_te, preds, proba, classes, named)
    return {"metrics": metrics, "seconds": seconds, "pid": os.getpid(), "test_rows": len(test_at)}


def cross_validate(
    cls: Any, X: pd.DataFrame, y: pd.Series | None, task: TaskType, classes: list[Any] | None, *,
    folds: int = DEFAULT_FOLDS, order: pd.Series | None = None, order_column: str | None = None,
    progress: Progress | None = None, cores: int = 1, max_rows: int | None = CV_MAX_ROWS,
    budget: TimeBudget | None = None, fork: bool | None = None,
) -> CrossValidation:
    """Cross-validate ``class Model`` ``cls`` on X, y. ``order``: values to sort the rows by for
    ordered folds (row for row with X). The folds run side by side up to ``cores``
    (``training.parallel``); on at most ``max_rows`` rows (a sample above); as many as
    ``budget`` allows; ``fork``: as ``run_all``'s. A model-code error in a fold is raised, as in
    the holdout check."""
    started = time.perf_counter()
    total = len(X)
    picked, sample_note = sample_rows(X, y, task, max_rows, order is not None)
    if order is not None:
        if len(order) != total:
            raise ValueError(f"order has {len(order)} values for {total} rows")
        in_order = np.argsort(order.to_numpy(), kind="stable")
        picked = in_order if picked is None else in_order[picked]  # the sample: the last rows in order
    if picked is not None:  # one copy, of the rows cross-validated on only
        X = X.iloc[picked]
        y = y.iloc[picked] if y is not None else None
    count, notes = fold_count(len(X), folds)
    if count == 0:
        return skipped(total, notes[0])
    if sample_note:
        notes.append(sample_note)
    count, timed = folds_in_time(count, len(X), order is not None, budget, cores)
    if count == 0:
        return CrossValidation(method="none", folds=0, rows=total, notes=notes + timed,
                               seconds=time.perf_counter() - started, order_column=order_column)
    method, split, more = splitter(task, y, count, order is not None)
    pairs = list(fold_indices(split, X, y))
    names = [f"cross-validation fold {i + 1}" for i in range(count)]
    tasks = [functools.partial(_fold, cls, X, y, task, classes, train_at, test_at, name)
             for (train_at, test_at), name in zip(pairs, names, strict=True)]

    def done(finished: int, planned: int) -> None:
        if progress is not None:
            progress("cross-validating", None, f"{finished} of {planned} folds done")

    if progress is not None:
        progress("cross-validating", None, f"{count} folds")
    results = run_all(tasks, cores, names=names, on_done=done,
                      fork=fork)
    per_fold = [r["metrics"] for r in results]
    unmeasured = unmeasured_notes(task, per_fold, [int(r["test_rows"]) for r in results])
    cv = CrossValidation(method=method, folds=count, rows=len(X), metrics=_summary(per_fold),
                         notes=notes + timed + more + unmeasured, seconds=time.perf_counter() - started,
                         order_column=order_column)
    cv.pids = [int(r["pid"]) for r in results]
    cv.fit_seconds = float(sum(r["seconds"] for r in results))
    return cv
