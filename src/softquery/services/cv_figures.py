"""A version's cross-validation as people read it: the CLI's `versions`, the API's version answers,
the web's model and version pages, ML.EVALUATE and the deploy decision all read ``manifest["cv"]``
(``training.cross_validation.CrossValidation.as_dict()``) through here.

Versions trained before cross-validation was recorded have no ``cv``: every function answers
None / "not measured" for them, never an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from softquery.domain import TaskType, Version

NOT_MEASURED = "not measured"
DASH = "—"
METHOD_WORDS = {"kfold": "", "stratified_kfold": "stratified", "ordered": "ordered"}


def cv_of(manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    """The manifest's cross-validation (None: the version predates it, or it is malformed)."""
    cv = (manifest or {}).get("cv")
    return cv if isinstance(cv, dict) else None


def imported(manifest: dict[str, Any] | None) -> bool:
    """A version imported (from MLflow), not trained here: no holdout metrics, no cross-validation."""
    return ((manifest or {}).get("data") or {}).get("fingerprint") == "imported"


def measured(cv: dict[str, Any] | None) -> bool:
    """Whether ``cv`` has figures (method "none": too few rows, only its notes)."""
    return cv is not None and cv.get("method") not in (None, "none") and bool(cv.get("metrics"))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def score(cv: dict[str, Any] | None, metric: str) -> tuple[float | None, float | None]:
    """(mean, std) of ``metric`` over the folds; (None, None) when not measured."""
    if not measured(cv):
        return None, None
    found = (cv or {}).get("metrics", {}).get(metric)
    if not isinstance(found, dict):
        return None, None
    mean = _number(found.get("mean"))
    if mean is None:
        return None, None
    return mean, _number(found.get("std")) or 0.0


def method_text(cv: dict[str, Any] | None) -> str:
    """ "5-fold, stratified", "4-fold, ordered by day", "5-fold", or why there is none."""
    if not measured(cv):
        return NOT_MEASURED
    assert cv is not None
    text = f"{cv.get('folds')}-fold"
    method = str(cv.get("method"))
    if method == "ordered":
        column = cv.get("order_column")
        return f"{text}, ordered by {column}" if column else f"{text}, ordered"
    words = METHOD_WORDS.get(method, method)
    return f"{text}, {words}" if words else text


def fold_words(cv: dict[str, Any] | None) -> str:
    """How each fold is trained and measured, in words (ordered folds train on earlier rows only)."""
    if (cv or {}).get("method") == "ordered":
        return "each fold trains on earlier rows and is measured on the next ones"
    return "each fold trains a fresh model on the other rows and is measured on its own"


def split_text(evaluation: dict[str, Any] | None) -> str | None:
    """Which rows the holdout metrics were measured on (None: the version does not say)."""
    split = (evaluation or {}).get("split")
    if not isinstance(split, dict):
        return None
    fraction = _number(split.get("test_fraction")) or 0.0
    rows = f"{split.get('train_rows', 0):,} training rows, {split.get('test_rows', 0):,} holdout rows"
    if split.get("method") == "ordered":
        column = split.get("order_column")
        by = f" by {column}" if column else " in order"
        return f"Measured on the latest {round(fraction * 100)}% of the rows{by} (trained on the earlier ones): {rows}."
    if split.get("method") == "none":
        return "Measured on the training rows themselves (no rows held out)."
    return f"Measured on a random {round(fraction * 100)}% holdout: {rows}."


def _rounded(value: float, decimals: int) -> str:
    text = f"{value:.{max(decimals, 0)}f}"
    return "0" if text.strip("-0.") == "" else text


def decimals_telling_apart(first: float, second: float) -> int:
    """The fewest decimals (up to 10) at which two numbers round differently (54.71, 55.02 -> 1)."""
    for decimals in range(11):
        if _rounded(first, decimals) != _rounded(second, decimals):
            return decimals
    return 10


def _decimals_of_std(std: float) -> int:
    """Decimals that keep the standard deviation's first significant digit (0.031 -> 2)."""
    if std <= 0:
        return 3
    return min(max(-math.floor(math.log10(std)), 0), 10)


def fmt_figure(value: float | None, std: float | None = None) -> str:
    """A measured number rounded for reading: to its standard deviation's first significant digit
    when one is given (0.8123 ± 0.0312 -> "0.81"), else to 3 significant digits; None: "—"."""
    if value is None:
        return DASH
    if std is not None and std > 0:
        return _rounded(value, _decimals_of_std(std))
    if value == 0:
        return "0"
    digits = 3 - 1 - math.floor(math.log10(abs(value)))
    text = _rounded(value, min(digits, 10))
    return text.rstrip("0").rstrip(".") if "." in text else text


def mean_pm_std(mean: float | None, std: float | None, min_decimals: int = 0) -> str:
    """ "0.81 ± 0.03" (the mean to the std's first significant digit, or to ``min_decimals`` when
    that is more); "—" when not measured."""
    if mean is None:
        return DASH
    std = std or 0.0
    if std <= 0:
        return f"{fmt_figure(mean) if min_decimals <= 0 else _rounded(mean, min_decimals)} ± 0"
    decimals = max(_decimals_of_std(std), min_decimals)
    return f"{_rounded(mean, decimals)} ± {_rounded(std, decimals)}"


def key_metric_of(manifest: dict[str, Any]) -> str | None:
    try:
        return TaskType(str(manifest.get("task"))).key_metric
    except ValueError:
        return None


def key_cv_text(version: Version) -> str:
    """ "r2 (CV) 0.81 ± 0.03", or "r2 (CV) not measured" for a version without CV."""
    metric = key_metric_of(version.manifest)
    if metric is None:
        return f"CV {NOT_MEASURED}"
    cv = cv_of(version.manifest)
    mean, std = score(cv, metric)
    if mean is None and measured(cv):  # folds ran, but could not measure this metric (their notes say why)
        return f"{metric} (CV) {NOT_MEASURED} in these folds"
    return f"{metric} (CV) {mean_pm_std(mean, std) if mean is not None else NOT_MEASURED}"


def summary_line(cv: dict[str, Any] | None, limit: int | None = None) -> str:
    """ "r2 0.81 ± 0.03, mae 3.1 ± 0.4 (5-fold)" for one line of the CLI; "not measured" without CV."""
    if not measured(cv):
        return NOT_MEASURED
    assert cv is not None
    names = list(cv["metrics"])[:limit] if limit else list(cv["metrics"])
    parts = [f"{name} {mean_pm_std(*score(cv, name))}" for name in names]
    return f"{', '.join(parts)} ({method_text(cv)})"


@dataclass(frozen=True)
class MetricRow:
    """One metric of a version: its holdout value beside its cross-validated figures."""

    name: str
    holdout: float | None
    mean: float | None
    std: float | None
    folds: list[float | None]

    @property
    def mean_text(self) -> str:
        return mean_pm_std(self.mean, self.std)


def metric_rows(version: Version) -> list[MetricRow]:
    """Every metric the version has (holdout first, then CV-only ones), with its CV figures."""
    cv = cv_of(version.manifest)
    cv_metrics = (cv or {}).get("metrics") if measured(cv) else {}
    holdout = version.metrics
    names = list(holdout) + [n for n in (cv_metrics or {}) if n not in holdout]
    rows = []
    for name in names:
        mean, std = score(cv, name)
        folds = ((cv_metrics or {}).get(name) or {}).get("folds") or []
        rows.append(MetricRow(name=name, holdout=_number(holdout.get(name)), mean=mean, std=std,
                              folds=[_number(f) for f in folds] if isinstance(folds, list) else []))
    return rows


def public(cv: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cross-validation as the API shows it (with its method in words); None without CV."""
    if cv is None:
        return None
    return {"method": cv.get("method"), "method_text": method_text(cv), "folds": cv.get("folds"),
            "rows": cv.get("rows"), "order_column": cv.get("order_column"),
            "metrics": cv.get("metrics") or {}, "notes": list(cv.get("notes") or []),
            "seconds": cv.get("seconds")}


def brief(cv: dict[str, Any] | None) -> dict[str, Any] | None:
    """A run result's short form: method, folds, and each metric's mean and std (no per-fold values)."""
    if cv is None:
        return None
    metrics = {name: {"mean": score(cv, name)[0], "std": score(cv, name)[1]} for name in (cv.get("metrics") or {})}
    return {"method": cv.get("method"), "method_text": method_text(cv), "folds": cv.get("folds"),
            "order_column": cv.get("order_column"), "metrics": metrics, "notes": list(cv.get("notes") or [])}
