"""The version page's trials table rounds each trial's CV score as every CV figure is rounded
(services/cv_figures.py): the mean to its standard deviation's first significant digit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from softquery.domain import Version
from softquery.web.search_view import search_of


def _version(selection: dict[str, Any]) -> Version:
    return Version(model="m", version=1, created_at=datetime.now(UTC), manifest={"selection": selection},
                   signature="", artifact_sha256="", artifact_size=0)


def test_trial_scores_are_rounded_like_the_other_cv_figures() -> None:
    selection = {"kind": "search", "method": "grid", "objective": "r2", "chosen": 1, "trials": [
        {"number": 1, "params": {"alpha": 1}, "cv_mean": 0.3512, "cv_std": 0.0657, "seconds": 0.1},
        {"number": 2, "params": {"alpha": 10}, "cv_mean": 0.992, "cv_std": 0.0012, "seconds": 0.1}]}
    search = search_of(_version(selection))
    assert search is not None
    assert [row["score"] for row in search["rows"]] == ["0.35 ± 0.07", "0.992 ± 0.001"]


def test_trial_scores_show_the_digits_where_the_best_two_trials_differ() -> None:
    selection = {"kind": "search", "method": "grid", "objective": "rmse", "direction": "minimize", "chosen": 2,
                 "trials": [
                     {"number": 1, "params": {"alpha": 0.1}, "cv_mean": 55.02, "cv_std": 4.1, "seconds": 0.1},
                     {"number": 2, "params": {"alpha": 1}, "cv_mean": 54.71, "cv_std": 3.9, "seconds": 0.1},
                     {"number": 3, "params": {"alpha": 10}, "cv_mean": 55.38, "cv_std": 4.4, "seconds": 0.1}]}
    search = search_of(_version(selection))
    assert search is not None
    scores = [row["score"] for row in search["rows"]]
    assert scores == ["55.0 ± 4.1", "54.7 ± 3.9", "55.4 ± 4.4"]  # not "55 ± 4" three times
    assert len(set(scores)) == 3
