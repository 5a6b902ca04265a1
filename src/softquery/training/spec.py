"""What a job child gets to train a model (``TrainSpec``): no source URL, no SQL to run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class TrainSpec:
    """What a job child gets to train a model: no source URL, no SQL to run."""

    model: str
    code: str
    label: str | None = None
    id_columns: list[str] | None = None
    log_limit: int = 200_000
    capture_output: bool = True
    template: str | None = None
    # model selection (issue 14): folds of the cross-validation (None: DEFAULT_FOLDS; 0: none, the
    # server's SOFTQUERY_CV_FOLDS for a model without folds of its own; a search or AutoML then
    # cross-validates with DEFAULT_FOLDS), the column
    # whose order makes ordered folds, the hyperparameter search (``Model.search``), the time
    # budget of a search or AutoML, the run's wall-time limit, the cores the job may use
    cv_folds: int | None = None
    order_column: str | None = None
    search: dict[str, Any] | None = None
    time_budget_seconds: int | None = None
    time_limit_seconds: float | None = None
    cores: int = 1
    cv_max_rows: int | None = 100_000  # more rows: the folds run on a sample of this many (None: all)
