"""Save the trained model, load it in a fresh namespace, and compare predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from softquery.artifacts import serialize
from softquery.errors import ModelCodeError, SoftqueryError, TrainingError
from softquery.modelcode.checks import class_attribute_names
from softquery.training.fit import as_predictions, call_user

SAMPLE_ROWS = 200


def _pitfall_hint(code: str) -> str:
    names = class_attribute_names(code)
    if not names:
        return ""
    attrs = ", ".join(names)
    return (
        f" The likely cause: `{attrs}` is created as a class attribute of Model, and class "
        "attributes are not saved with a trained model (only what is set on self is). Create it in "
        f"__init__ instead, e.g. `self.{names[0]} = ...`."
    )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        try:
            return bool(np.allclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-12, equal_nan=True))
        except (TypeError, ValueError):
            return False
    return bool(np.array_equal(a.astype(object), b.astype(object)))


def save_and_check(model: Any, code: str, X: pd.DataFrame) -> bytes:
    """Return the artifact bytes once a reload predicts exactly like the original."""
    try:
        data = serialize.dumps(model)
    except Exception as exc:
        raise TrainingError(
            f"The trained model could not be saved ({type(exc).__name__}: {exc}). Keep only "
            "picklable objects on self: no open files, database connections, generators or lambdas.",
            details={"phase": "round_trip"},
        ) from exc
    sample = X.head(SAMPLE_ROWS)
    expected = as_predictions(call_user(model.predict, "predict(X)", sample), len(sample))
    hint = _pitfall_hint(code)
    try:
        reloaded = serialize.loads(data, code)
        got = as_predictions(call_user(reloaded.predict, "predict(X)", sample), len(sample))
    except SoftqueryError as exc:
        raise TrainingError(
            "The round-trip check failed: the saved model could not predict after being loaded "
            f"again ({exc.message}).{hint}",
            details={"phase": "round_trip", "cause": exc.to_dict()},
        ) from exc
    except Exception as exc:
        raise TrainingError(
            f"The round-trip check failed: loading the saved model raised {type(exc).__name__}: {exc}.{hint}",
            details={"phase": "round_trip"},
        ) from exc
    if not _same(expected, got):
        raise TrainingError(
            "The round-trip check failed: after saving and loading, the model predicts different "
            f"values than before saving, so its saved state is incomplete.{hint}",
            details={"phase": "round_trip"},
        )
    return data


__all__ = ["save_and_check", "ModelCodeError"]
