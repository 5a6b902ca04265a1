"""AutoML (issue 14): try the templates that suit the task, keep the simplest good one.

A model made from the ``auto``, ``auto_regressor`` or ``auto_classifier`` template is never
trained with that code: ``selection.choose_code`` calls ``choose`` here, which

1. decides the task (``auto_*`` declare it; ``auto`` reads the label: text or a few whole
   numbers are classes, other numbers are a quantity),
2. cross-validates each candidate template with its default parameters
   (``cross_validation.cross_validate``), the cheapest first (``COST``), in batches of
   ``spec.cores`` through ``parallel.run_all``, within the time budget
   (``spec.time_budget_seconds``, ``DEFAULT_BUDGET_SECONDS`` when unset): before each batch it
   estimates each candidate's time from the rows and what the candidates so far took, and
   skips one that would end past the budget (the first batch always runs, so there is a choice);
   a later candidate still running when the budget has run out stops before its next fold,
3. keeps **the simplest candidate whose CV mean of the key metric is within one standard
   deviation of the best one's** (the practice talk's "don't use non-linear models where
   linear models will do"); simpler is earlier in ``SIMPLICITY``.

The version runs the chosen template's code; the report (``manifest["selection"]``) and the
notes say what was tried, the scores, what was skipped and why this one was chosen.
Why a loop over templates and not FLAML or Optuna: README "Model selection (AutoML)" (measured by
``benchmarks/automl_libraries.py``).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from softquery.domain import TaskType
from softquery.errors import DataError, SoftqueryError
from softquery.modelcode.checks import class_constant, declared_task_name
from softquery.modelcode.loader import load_code_module, model_class
from softquery.modelcode.preprocessing import AutoPreprocessor
from softquery.modelcode.preprocessing.kinds import TEXT, detect_kind
from softquery.modelcode.templates import template_code
from softquery.training.capture import headed
from softquery.training.cross_validation import DEFAULT_FOLDS, CrossValidation, cross_validate
from softquery.training.fit import Progress
from softquery.training.parallel import run_all
from softquery.training.search import progress_at, quiet_folds
from softquery.training.spec import TrainSpec
from softquery.training.task import MAX_INTEGER_CLASSES, label_is_categorical

AUTO_TEMPLATES = ("auto", "auto_regressor", "auto_classifier")
DEFAULT_BUDGET_SECONDS = 60  # when the model sets no time budget
MIN_ROWS_PER_CLASS = 2  # ``auto``: whole numbers are classes only when each value has this many rows on average
BUDGET_SLACK = 0.10  # the target: AutoML ends within budget + this share (benchmarks/selection.py checks it)

# Simpler first: the ONE order AutoML prefers in (the chosen model is the first of these whose
# CV mean is within one standard deviation of the best). Linear models first (a weighted sum:
# fast, explainable, exportable as JSON), then naive Bayes (a count per word), k nearest
# neighbours (no fitted parameters, but keeps the rows), support vector machines (a kernel),
# random forests (hundreds of deep trees) and gradient boosting (trees fitted one on another).
SIMPLICITY: tuple[str, ...] = (
    "linear_regression", "ridge_regression", "logistic_regression", "naive_bayes_text",
    "knn_regressor", "knn_classifier", "svm_regressor", "svm_classifier",
    "random_forest_regressor", "random_forest_classifier",
    "hist_gradient_boosting_regressor", "hist_gradient_boosting_classifier",
)
CANDIDATES: dict[TaskType, tuple[str, ...]] = {
    TaskType.REGRESSION: ("linear_regression", "ridge_regression", "knn_regressor", "svm_regressor",
                          "random_forest_regressor", "hist_gradient_boosting_regressor"),
    TaskType.CLASSIFICATION: ("logistic_regression", "naive_bayes_text", "knn_classifier", "svm_classifier",
                              "random_forest_classifier", "hist_gradient_boosting_classifier"),
}
TEXT_ONLY = ("naive_bayes_text",)  # tried only when the training rows have a text column

# Seconds one fold of a candidate takes (train on 80 % of the rows, predict the rest), one
# thread, 10 feature columns, measured on this project's CI machine: (fixed, per 1,000 rows,
# per (1,000 rows)², width exponent). The kernel and neighbour models grow with the square of
# the rows; gradient boosting with the square root of the columns the preprocessing makes
# (text becomes hundreds of TF-IDF columns: 14 s instead of 2 s on the demo's sms rows).
# AutoML scales these by what the candidates so far really took (measured / expected) to
# estimate the next ones, tries the cheapest first, and skips one that would end past the budget.
COST: dict[str, tuple[float, float, float, float]] = {
    "linear_regression": (0.02, 0.005, 0.0, 0.0), "ridge_regression": (0.02, 0.005, 0.0, 0.0),
    "logistic_regression": (0.05, 0.01, 0.0, 0.0), "naive_bayes_text": (0.03, 0.02, 0.0, 0.0),
    "knn_regressor": (0.03, 0.01, 0.01, 0.0), "knn_classifier": (0.03, 0.01, 0.01, 0.0),
    "svm_regressor": (0.05, 0.0, 0.05, 0.0), "svm_classifier": (0.15, 0.0, 0.15, 0.0),
    "random_forest_regressor": (0.4, 1.2, 0.0, 0.0), "random_forest_classifier": (0.4, 0.5, 0.0, 0.0),
    "hist_gradient_boosting_regressor": (0.1, 0.15, 0.0, 0.5),
    "hist_gradient_boosting_classifier": (0.15, 0.3, 0.0, 0.5),
}
REFERENCE_WIDTH = 10  # the columns COST was measured with
WIDTH_SAMPLE_ROWS = 2_000  # rows the preprocessing is fitted on to count its columns


def requested(spec: TrainSpec) -> bool:
    """Whether the model asks for AutoML: made from an ``auto*`` template, or code that says so."""
    return spec.template in AUTO_TEMPLATES or _automl_marker(spec.code) is not None


def _automl_marker(code: str) -> str | None:
    """The ``automl = "auto..."`` attribute of ``class Model``, read without executing code."""
    marker = class_constant(code, "automl")
    return marker if marker in AUTO_TEMPLATES else None


@dataclass
class AutoResult:
    template: str
    code: str
    cv: CrossValidation
    report: dict[str, Any]
    notes: list[str]


# -- the task -------------------------------------------------------------------------


def automl_task(kind: str, code: str, y: pd.Series | None, label: str | None) -> tuple[TaskType, list[str]]:
    """The task AutoML solves (and a note when ``auto`` read it from the label)."""
    name = label or "label"
    if y is None:
        raise DataError(f"AutoML ({kind}) needs a label column to learn; the train query has none. "
                        "Set --label, or use the kmeans template to find groups without one.",
                        details={"template": kind})
    declared = declared_task_name(code)
    categorical = label_is_categorical(y)
    values = y.dropna()
    whole = bool(len(values)) and not categorical and bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    distinct = values.nunique()
    few = distinct <= MAX_INTEGER_CLASSES
    # ``auto`` reads classes only from values that repeat: a label whose values are mostly
    # different (each whole number once or twice) is a quantity, however few rows there are
    repeated = len(values) >= MIN_ROWS_PER_CLASS * distinct
    if declared == TaskType.CLASSIFICATION.value or kind == "auto_classifier":
        if not categorical and not (whole and few):
            raise DataError(
                f"auto_classifier predicts classes, but the label column {name!r} holds "
                f"{values.nunique():,} different numbers (e.g. {', '.join(map(str, values.head(3).tolist()))}): "
                "a quantity, not classes. Use the auto_regressor (or auto) template to predict a number.",
                details={"template": kind, "label": name, "distinct": int(values.nunique())})
        return TaskType.CLASSIFICATION, []
    if declared == TaskType.REGRESSION.value or kind == "auto_regressor":
        if categorical:
            raise DataError(f"auto_regressor predicts a number, but the label column {name!r} holds text "
                            f"(e.g. {values.astype(str).head(1).tolist()[0]!r}). Use the auto_classifier "
                            "(or auto) template to predict a class.",
                            details={"template": kind, "label": name})
        return TaskType.REGRESSION, []
    if categorical:
        return TaskType.CLASSIFICATION, []
    if whole and few and repeated:
        return TaskType.CLASSIFICATION, [
            f"AutoML treats the label {name!r} as classes: it holds only {values.nunique()} different whole "
            "numbers. Use the auto_regressor template to predict it as a number."]
    return TaskType.REGRESSION, []


def _classes(y: pd.Series, name: str) -> list[Any]:
    classes = sorted(pd.unique(y).tolist(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise DataError(f"The label column {name!r} has only one value ({classes[0]!r}) in the training rows; "
                        "a classifier needs at least two different classes. Check the train query's WHERE "
                        "clause.", details={"label": name, "classes": [str(c) for c in classes]})
    return classes


def candidates(task: TaskType, X: pd.DataFrame) -> tuple[list[str], list[dict[str, str]]]:
    """(the templates to try, simplest first; the ones left out and why)."""
    sample = X.head(2_000)
    has_text = any(detect_kind(sample[c], max_categories=100) == TEXT for c in sample.columns)
    tried: list[str] = []
    left: list[dict[str, str]] = []
    for name in CANDIDATES[task]:
        if name in TEXT_ONLY and not has_text:
            left.append({"template": name, "reason": "the training rows have no text column"})
        else:
            tried.append(name)
    return tried, left


# -- one candidate (runs through parallel.run_all: a module-level function, picklable result) --


class _OutOfTime(Exception):
    """Raised between two folds of a candidate once the budget has run out."""


def _fold_starts(deadline: float, _phase: str, _fraction: float | None, detail: str = "") -> None:
    """``cross_validate``'s progress, called as it starts and after each fold: stop a candidate
    past the deadline (between two folds)."""
    if time.time() > deadline:
        raise _OutOfTime(f"with {detail}" if "done" in detail else "before its first fold")


def _candidate(name: str, X: pd.DataFrame, y: pd.Series, task: TaskType, classes: list[Any] | None,
               folds: int, order: pd.Series | None, order_column: str | None,
               deadline: float | None) -> dict[str, Any]:
    """One template's cross-validation; ``deadline`` (a ``time.time()``): stop between folds past it.
    What it prints goes to the run's log as it prints, under "── candidate NAME ──" (``capture.headed``)."""
    started = time.perf_counter()
    stopped = None
    cv, error = None, None
    check = functools.partial(_fold_starts, deadline) if deadline is not None else None
    with headed(f"candidate {name}"):
        try:
            cls = model_class(load_code_module(template_code(name)))
            with quiet_folds():
                cv = cross_validate(cls, X, y, task, classes, folds=folds, order=order, order_column=order_column,
                                    progress=check)
        except _OutOfTime as exc:
            stopped = str(exc) or "between two folds"
        except SoftqueryError as exc:  # a template that cannot learn these rows: tried, with its error
            error = exc.message.splitlines()[0]
    return {"template": name, "cv": cv, "error": error, "stopped": stopped,
            "seconds": time.perf_counter() - started}


# -- the search -----------------------------------------------------------------------


def choose(spec: TrainSpec, X: pd.DataFrame, y: pd.Series | None, *, label: str | None,
           progress: Progress, order: pd.Series | None = None) -> AutoResult:
    """Try the templates that suit the task within the budget; the simplest good one. ``order``:
    the order column's values (row for row with X) for ordered folds."""
    started, deadline = time.perf_counter(), time.time()
    kind = spec.template if spec.template in AUTO_TEMPLATES else (_automl_marker(spec.code) or "auto")
    task, notes = automl_task(kind, spec.code, y, label)
    assert y is not None
    classes = _classes(y, label or "label") if task is TaskType.CLASSIFICATION else None
    budget = float(spec.time_budget_seconds or DEFAULT_BUDGET_SECONDS)
    deadline += budget
    names, skipped = candidates(task, X)
    folds = spec.cv_folds or DEFAULT_FOLDS
    if order is None and spec.order_column and spec.order_column in X.columns:
        order = X[spec.order_column]
    cores = max(1, spec.cores)
    results: list[dict[str, Any]] = []
    width = feature_width(X, y)
    queue = sorted(names, key=lambda name: expected_seconds(name, len(X), folds, width))  # the cheapest first
    while queue:
        elapsed = time.perf_counter() - started
        batch: list[str] = []
        for name in list(queue):
            if len(batch) == cores:
                break
            estimate = _estimate(name, results, len(X), folds, width)
            if results and elapsed + estimate > budget:
                queue.remove(name)
                skipped.append({"template": name, "reason": (
                    f"the time budget ({budget:g} s): about {estimate:.1f} s more expected after "
                    f"{elapsed:.1f} s")})
                continue
            batch.append(name)
            queue.remove(name)
        if not batch:
            break
        done = len(names) - len(queue) - len(batch)
        progress("AutoML", progress_at(done, len(names)),
                 f"trying {', '.join(batch)} ({len(results) + len(batch)} of {len(names)})")
        # the first batch always finishes (there must be something to choose from); later
        # candidates stop between folds once the budget has run out
        tasks = [functools.partial(_candidate, name, X, y, task, classes, folds, order, spec.order_column,
                                   deadline if results else None) for name in batch]
        for result in run_all(tasks, cores=cores, names=[f"candidate {name}" for name in batch]):
            if result["stopped"]:
                skipped.append({"template": result["template"], "reason": (
                    f"stopped {result['stopped']}: the time budget ({budget:g} s) ran out")})
            else:
                results.append(result)
    return _decide(kind, task, budget, results, skipped, notes, time.perf_counter() - started)


SIGNIFICANT_SECONDS = 0.5  # shorter candidates are mostly start-up: their ratio says little


def expected_seconds(name: str, rows: int, folds: int, width: int = REFERENCE_WIDTH) -> float:
    """Seconds ``name``'s cross-validation should take on ``rows`` rows and ``width`` columns, by ``COST``."""
    fixed, linear, square, wide = COST.get(name, (1.0, 2.0, 0.0, 0.5))
    thousands = rows / 1000
    wider = float(max(1.0, width / REFERENCE_WIDTH) ** wide)
    return folds * (fixed + linear * thousands + square * thousands ** 2) * wider


def feature_width(X: pd.DataFrame, y: pd.Series) -> int:
    """How many columns the templates' preprocessing makes of X (fitted on a sample)."""
    try:
        return int(AutoPreprocessor().fit_transform(X.head(WIDTH_SAMPLE_ROWS), y.head(WIDTH_SAMPLE_ROWS)).shape[1])
    except Exception:  # noqa: BLE001 - only an estimate; the candidates report real errors
        return len(X.columns)


def _estimate(name: str, results: list[dict[str, Any]], rows: int, folds: int, width: int) -> float:
    """``expected_seconds`` scaled by how the candidates so far compared with theirs."""
    def expected(template: str) -> float:
        return expected_seconds(template, rows, folds, width)
    if not results:
        return expected(name)
    measured = sum(float(r["seconds"]) for r in results)
    warm = results[1:] or results  # the first candidate's time also holds loading the libraries
    significant = [float(r["seconds"]) / expected(r["template"]) for r in warm if r["seconds"] >= SIGNIFICANT_SECONDS]
    overall = measured / sum(expected(r["template"]) for r in results)
    if not significant:
        # only short candidates so far: their time is mostly start-up, so they may say the
        # machine is faster than the table, never that it is slower (a candidate that then
        # overruns stops before its next fold)
        return min(overall, 1.0) * expected(name)
    return max([overall, *significant]) * expected(name)  # the most pessimistic ratio that means something


def _decide(kind: str, task: TaskType, budget: float, results: list[dict[str, Any]],
            skipped: list[dict[str, str]], notes: list[str], seconds: float) -> AutoResult:
    metric = task.key_metric
    tried = [_tried(r, metric) for r in results]
    ok = [r for r in results if r["cv"] is not None]
    if not ok:
        raise DataError("AutoML could not train any template on these rows: "
                        + "; ".join(f"{t['template']}: {t['error']}" for t in tried),
                        details={"tried": tried})
    scored = [r for r in ok if r["cv"].score(metric)[0] is not None]
    if scored:
        best = max(scored, key=lambda r: r["cv"].score(metric)[0])
        best_mean, best_std = best["cv"].score(metric)
        floor = best_mean - best_std
        chosen = next(r for r in sorted(scored, key=lambda r: SIMPLICITY.index(r["template"]))
                      if r["cv"].score(metric)[0] >= floor)
        mean, std = chosen["cv"].score(metric)
        if chosen is best and SIMPLICITY.index(chosen["template"]) == min(SIMPLICITY.index(r["template"])
                                                                           for r in scored):
            reason = (f"{chosen['template']}: the best CV {metric} ({mean:.3f} ± {std:.3f}), and the simplest "
                      "template tried")
        elif chosen is best:
            reason = (f"{chosen['template']}: the best CV {metric} ({mean:.3f} ± {std:.3f}); no simpler "
                      f"template came within one standard deviation of it ({floor:.3f})")
        else:
            reason = (f"{chosen['template']}: CV {metric} {mean:.3f} ± {std:.3f}, within one standard "
                      f"deviation of the best ({best['template']}, {best_mean:.3f} ± {best_std:.3f}); "
                      "simpler models are preferred")
        if best_mean <= 0:  # r2, f1, silhouette: 0 (or less) is no better than a guess
            chosen = min(scored, key=lambda r: SIMPLICITY.index(r["template"]))
            reason = (f"no template: none learned anything useful from these rows (the best CV {metric}, "
                      f"{best['template']}'s, is {best_mean:.3f} ± {best_std:.3f}). The version runs "
                      f"{chosen['template']}, the simplest that trains, but its predictions are no better "
                      "than a guess: check the label and the features")
    else:  # too few rows to cross-validate: no score to compare
        chosen = best = min(ok, key=lambda r: SIMPLICITY.index(r["template"]))
        reason = (f"{chosen['template']}: the rows are too few to cross-validate, so no score could tell the "
                  "templates apart; the simplest one that trains is kept")
    report = {"kind": "auto", "auto": kind, "task": task.value, "metric": metric, "budget_seconds": budget,
              "seconds": round(seconds, 3), "tried": tried, "chosen": chosen["template"],
              "best": best["template"], "reason": reason, "skipped": skipped,
              "useless": bool(scored) and best["cv"].score(metric)[0] <= 0}
    return AutoResult(template=chosen["template"], code=template_code(chosen["template"]), cv=chosen["cv"],
                      report=report, notes=notes + _notes(report))


def _tried(result: dict[str, Any], metric: str) -> dict[str, Any]:
    cv: CrossValidation | None = result["cv"]
    mean, std = cv.score(metric) if cv is not None else (None, None)
    row: dict[str, Any] = {"template": result["template"], "params": {}, "cv_mean": mean, "cv_std": std,
                           "seconds": round(result["seconds"], 3)}
    if result["error"]:
        row["error"] = result["error"]
    return row


def _notes(report: dict[str, Any]) -> list[str]:
    """What AutoML did, in plain words, for the version's notes."""
    def score(t: dict[str, Any]) -> str:
        if t.get("error"):
            return f"{t['template']} (failed: {t['error']})"
        if t["cv_mean"] is None:
            return f"{t['template']} (no CV score)"
        return f"{t['template']} {t['cv_mean']:.3f} ± {t['cv_std']:.3f}"
    count = len(report["tried"])
    notes = [f"AutoML ({report['task']}, CV {report['metric']}, time budget {report['budget_seconds']:g} s) "
             f"tried {count} template{'' if count == 1 else 's'} in {report['seconds']:.1f} s: "
             f"{'; '.join(score(t) for t in report['tried'])}.",
             f"AutoML chose {report['reason']}."]
    if report["skipped"]:
        notes.append("AutoML did not try " + "; ".join(f"{s['template']} ({s['reason']})"
                                                        for s in report["skipped"]) + ".")
    return notes
