"""Export a trained linear model as JSON, so an app can predict without Python.

The exported document holds the preprocessing (``AutoPreprocessor.describe()``),
the feature names after preprocessing, the coefficients and the intercept.
Prediction in another language:

* regression: ``y = features . coefficients + intercept``;
* binary classification (``"link": "logistic"``):
  ``P(classes[1]) = 1 / (1 + exp(-(features . coefficients + intercept)))``;
* multiclass (``"link": "softmax"``): one row of ``coefficients`` and one
  ``intercept`` per class, probabilities by softmax over the class scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from softquery.errors import InvalidInputError
from softquery.modelcode.preprocessing import AutoPreprocessor

FORMAT = "softquery-linear/1"
LINEAR_ESTIMATORS: tuple[type, ...] = (LinearRegression, Ridge, LogisticRegression)


def _is_estimator(value: object) -> bool:
    return hasattr(value, "fit") and hasattr(value, "get_params")


def _find_model(model_obj: object) -> tuple[list[Any], Any]:
    """Return (preprocessing steps, final estimator) found on the Model instance."""
    candidates: list[tuple[list[Any], Any]] = []
    for value in vars(model_obj).values():
        if isinstance(value, Pipeline):
            candidates.append(([step for _, step in value.steps[:-1]], value.steps[-1][1]))
        elif _is_estimator(value):
            candidates.append(([], value))
    for steps, estimator in candidates:
        if isinstance(estimator, LINEAR_ESTIMATORS):
            return steps, estimator
    if candidates:
        predictors = [est for _, est in candidates if hasattr(est, "predict")]
        found = type((predictors or [candidates[0][1]])[0]).__name__
        raise InvalidInputError(
            "JSON export is only available for linear models (linear, ridge or logistic "
            f"regression); this model uses {found}.",
            details={"estimator": found},
        )
    raise InvalidInputError(
        "JSON export found no scikit-learn model on the Model object. Keep the model on self "
        "(for example self.pipeline = make_pipeline(...)) and train it first.",
    )


def _as_list(values: Any) -> Any:
    return np.asarray(values).tolist()


def export_linear_model(model_obj: object) -> dict[str, Any]:
    """A JSON-serialisable description of a trained linear model."""
    steps, estimator = _find_model(model_obj)
    name = type(estimator).__name__
    if not hasattr(estimator, "coef_"):
        raise InvalidInputError(f"The {name} model is not trained yet; train it before exporting.")
    preprocessors = [s for s in steps if s != "passthrough" and s is not None]
    if any(not isinstance(s, AutoPreprocessor) for s in preprocessors) or len(preprocessors) > 1:
        others = [type(s).__name__ for s in preprocessors]
        raise InvalidInputError(
            "JSON export supports a linear model alone or after one AutoPreprocessor; "
            f"this pipeline has {', '.join(others)}.",
            details={"steps": others},
        )
    preprocessing = preprocessors[0].describe() if preprocessors else None
    if preprocessing is not None:
        input_columns = list(preprocessing["input_columns"])
        feature_names = list(preprocessing["feature_names"])
    else:
        n_features = int(estimator.n_features_in_)
        names = getattr(estimator, "feature_names_in_", None)
        input_columns = [str(c) for c in names] if names is not None else [f"x{i}" for i in range(n_features)]
        feature_names = list(input_columns)
    coef = np.asarray(estimator.coef_, dtype=float)
    intercept = np.asarray(estimator.intercept_, dtype=float)
    document: dict[str, Any] = {
        "format": FORMAT,
        "estimator": name,
        "task": "classification" if is_classifier(estimator) else "regression",
        "input_columns": input_columns,
        "feature_names": feature_names,
        "preprocessing": preprocessing,
    }
    if is_classifier(estimator):
        classes = _as_list(estimator.classes_)
        binary = coef.shape[0] == 1
        document.update(
            classes=classes,
            link="logistic" if binary else "softmax",
            coefficients=_as_list(coef[0] if binary else coef),
            intercept=float(intercept.ravel()[0]) if binary else _as_list(intercept),
        )
    else:
        document.update(
            link="identity",
            coefficients=_as_list(coef),
            intercept=float(intercept) if intercept.ndim == 0 else _as_list(intercept),
        )
    return document
