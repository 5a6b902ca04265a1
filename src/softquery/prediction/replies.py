"""Check a job child's predictions before the supervisor writes them.

The child runs model code, so its answer is untrusted: it must be one
prediction per input row (plain numbers, text, booleans or NULL) and, when
present, one row of finite probabilities per input row with one column per
class. Anything else is a ``ModelCodeError`` and nothing is written.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import numpy as np

from softquery.errors import ModelCodeError
from softquery.training.fit import as_predictions

_SCALARS = (str, bytes, bool, int, float, decimal.Decimal, datetime.date, datetime.time,
            datetime.timedelta, np.generic, type(None))
_KINDS = "biufUSOMm"  # no structured, void or complex values


def checked_predictions(preds: Any, proba: Any, rows: int,
                        classes: list[Any] | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(predictions, probabilities)`` as sent by the child, validated for ``rows`` rows."""
    if type(preds) is not np.ndarray:
        raise ModelCodeError(f"The model code's predictions arrived as {type(preds).__name__}, "
                             "not as one array of predictions.")
    preds = as_predictions(preds, rows)
    if preds.dtype.kind not in _KINDS:
        raise ModelCodeError(f"predict(X) returned values of type {preds.dtype}; each prediction must be "
                             "a number, text, a boolean or NULL.", details={"dtype": str(preds.dtype)})
    if preds.dtype.kind == "O":
        odd = next((v for v in preds.tolist() if not isinstance(v, _SCALARS)), None)
        if odd is not None:
            raise ModelCodeError(f"predict(X) returned a value of type {type(odd).__name__}; each prediction "
                                 "must be a number, text, a boolean or NULL.",
                                 details={"type": type(odd).__name__})
    return preds, _checked_proba(proba, rows, classes)


def _checked_proba(proba: Any, rows: int, classes: list[Any] | None) -> np.ndarray | None:
    if proba is None:
        return None
    width = len(classes or [])
    if (type(proba) is not np.ndarray or proba.dtype.kind != "f" or proba.ndim != 2
            or proba.shape != (rows, width)):
        shape = getattr(proba, "shape", None)
        raise ModelCodeError(
            f"predict_proba(X) returned {type(proba).__name__} of shape {shape} for {rows} rows and "
            f"{width} classes; it must return one row of class probabilities per input row.",
            details={"returned_shape": list(shape) if isinstance(shape, tuple) else None,
                     "rows": rows, "classes": width})
    if not np.isfinite(proba).all():
        raise ModelCodeError("predict_proba(X) returned NaN or infinite probabilities; every probability "
                             "must be a finite number.", details={"rows": rows})
    return proba
