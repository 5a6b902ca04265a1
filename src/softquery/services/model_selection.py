"""A model's selection settings, checked: cross-validation folds, order column, hyperparameter
search and time budget (``Model.cv_folds``, ``order_column``, ``search``, ``time_budget_seconds``)."""

from __future__ import annotations

from typing import Any

from softquery.domain import Model
from softquery.errors import InvalidInputError
from softquery.identifiers import check_identifier
from softquery.training.cross_validation import MAX_FOLDS, MIN_FOLDS

MAX_TIME_BUDGET_SECONDS = 24 * 3600


def check_folds(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_FOLDS <= value <= MAX_FOLDS:
        raise InvalidInputError(f"Cross-validation folds must be a whole number from {MIN_FOLDS} to {MAX_FOLDS}; "
                                f"it is {value!r}.", details={"field": "cv_folds", "value": str(value)})
    return value


def check_time_budget(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TIME_BUDGET_SECONDS:
        raise InvalidInputError(f"The time budget must be a whole number of seconds from 1 to "
                                f"{MAX_TIME_BUDGET_SECONDS}; it is {value!r}.",
                                details={"field": "time_budget_seconds", "value": str(value)})
    return value


def apply_selection(model: Model, *, cv_folds: int | None, order_column: str | None,
                    search: dict[str, Any] | None, time_budget_seconds: int | None) -> None:
    """Set the selection settings given (not None) on ``model``, checked; "" / {} unset."""
    if cv_folds is not None:
        model.cv_folds = check_folds(cv_folds)
    if order_column is not None:
        model.order_column = check_identifier(order_column, "order column") if order_column else None
    if time_budget_seconds is not None:
        model.time_budget_seconds = check_time_budget(time_budget_seconds)
    if search is not None:
        model.search = search or None  # TODO(search helper): check method, params and trials in full
