"""A version's cross-validation as people read it (services/cv_figures.py): rounded to the standard
deviation's first significant digit, the method in words, and "not measured" for versions trained
before CV was recorded (their manifest has no "cv") or with too few rows — never an error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from softquery.domain import Version
from softquery.services import cv_figures as cvf
from softquery.services.sql_ml_functions import _cross_validated

CV = {"method": "stratified_kfold", "folds": 5, "rows": 150, "seed": 0, "seconds": 0.3, "order_column": None,
      "notes": [], "metrics": {"f1": {"mean": 0.81234, "std": 0.03123, "folds": [0.8, 0.85, 0.78, 0.8, 0.83]},
                               "accuracy": {"mean": 0.9, "std": 0.0, "folds": [0.9] * 5}}}


def _version(cv: dict[str, Any] | None, *, with_key: bool = True) -> Version:
    manifest: dict[str, Any] = {"task": "classification", "metrics": {"f1": 0.8, "accuracy": 0.9}}
    if with_key:
        manifest["cv"] = cv
    return Version(model="m", version=1, created_at=datetime(2024, 1, 1, tzinfo=UTC), manifest=manifest,
                   signature="", artifact_sha256="", artifact_size=1)


@pytest.mark.parametrize(("mean", "std", "text"), [
    (0.81234, 0.03123, "0.81 ± 0.03"), (0.9, 0.0, "0.9 ± 0"), (1234.5678, 45.6, "1235 ± 46"),
    (-0.004, 0.0123, "0 ± 0.01"), (12.345, 0.5, "12.3 ± 0.5"),
])
def test_mean_pm_std_rounds_to_the_std(mean: float, std: float, text: str) -> None:
    assert cvf.mean_pm_std(mean, std) == text
    assert cvf.mean_pm_std(None, None) == "—"


def test_the_method_in_words() -> None:
    assert cvf.method_text(CV) == "5-fold, stratified"
    assert cvf.method_text({**CV, "method": "kfold", "folds": 3}) == "3-fold"
    assert cvf.method_text({**CV, "method": "ordered", "order_column": "sold_on"}) == "5-fold, ordered by sold_on"
    assert cvf.method_text({**CV, "method": "none", "metrics": {}}) == "not measured"
    assert cvf.method_text(None) == "not measured"


@pytest.mark.parametrize("version", [_version(None, with_key=False), _version(None),
                                     _version({"method": "none", "folds": 0, "rows": 3, "metrics": {},
                                               "notes": ["Only 3 training rows: too few"]})])
def test_a_version_without_cv_is_not_measured(version: Version) -> None:
    assert cvf.key_cv_text(version) == "f1 (CV) not measured"
    assert [(r.name, r.holdout, r.mean, r.folds) for r in cvf.metric_rows(version)] == [
        ("f1", 0.8, None, []), ("accuracy", 0.9, None, [])]
    evaluated = {name: column.to_pylist()[0] for name, column in _cross_validated(version).items()}
    assert evaluated == {"cv_folds": None, "cv_method": "not measured", "cv_f1_score_mean": None,
                         "cv_f1_score_std": None, "cv_accuracy_mean": None, "cv_accuracy_std": None}


def test_a_version_with_cv() -> None:
    version = _version(CV)
    assert cvf.key_cv_text(version) == "f1 (CV) 0.81 ± 0.03"
    assert cvf.summary_line(CV) == "f1 0.81 ± 0.03, accuracy 0.9 ± 0 (5-fold, stratified)"
    (f1, accuracy) = cvf.metric_rows(version)
    assert (f1.holdout, f1.mean, f1.std, f1.folds, f1.mean_text) == (0.8, 0.81234, 0.03123,
                                                                      [0.8, 0.85, 0.78, 0.8, 0.83], "0.81 ± 0.03")
    evaluated = {name: column.to_pylist()[0] for name, column in _cross_validated(version).items()}
    assert evaluated["cv_folds"] == 5 and evaluated["cv_method"] == "5-fold, stratified"
    assert evaluated["cv_f1_score_mean"] == 0.81234 and evaluated["cv_accuracy_std"] == 0.0
    assert cvf.brief(CV)["metrics"]["f1"] == {"mean": 0.81234, "std": 0.03123}  # type: ignore[index]
