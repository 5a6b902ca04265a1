"""Which code to train: the model's own, or the configuration a hyperparameter search or
AutoML chooses (issue 14). Runs in the job child, like the rest of ``training``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from softquery.training import automl
from softquery.training.automl import AUTO_TEMPLATES  # noqa: F401  (the auto* template names)
from softquery.training.cross_validation import CrossValidation
from softquery.training.fit import Progress
from softquery.training.search import run_search
from softquery.training.spec import TrainSpec


@dataclass
class Selection:
    code: str  # what the version runs
    template: str | None
    cv: CrossValidation | None = None  # the chosen configuration's cross-validation, if measured
    report: dict[str, Any] | None = None  # {"kind": "search" | "auto", "trials": [...], "chosen": ..., ...}
    notes: list[str] = field(default_factory=list)


def choose_code(spec: TrainSpec, X: pd.DataFrame, y: pd.Series | None, *, label: str | None,
                progress: Progress, order: pd.Series | None = None) -> Selection:
    """The model's code, unless it asks for a search or AutoML; ``order`` (row for row with X:
    the order column's values, a feature or not) makes their folds ordered."""
    if automl.requested(spec):
        auto = automl.choose(spec, X, y, label=label, progress=progress, order=order)
        return Selection(code=auto.code, template=auto.template, cv=auto.cv, report=auto.report, notes=auto.notes)
    if spec.search:
        found = run_search(spec, X, y, progress=progress, order=order)
        return Selection(code=found["code"], template=spec.template, cv=found["cv"], report=found["report"],
                         notes=found["notes"])
    return Selection(code=spec.code, template=spec.template)
