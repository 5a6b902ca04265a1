"""Export a template model's fitted pipeline as ONNX (skl2onnx), checked against onnxruntime.

Runs where the model was unpickled: the sandboxed export child only.

softquery's ``AutoPreprocessor`` is not a scikit-learn class, so skl2onnx does not know
it: this module registers a converter for the encoders that ONNX can express exactly,

* numbers and booleans: one double input ``[N, 1]`` (NULL is NaN) -> NaN replaced by
  the training mean, then ``(x - mean) / scale``;
* arrays of numbers: one double input ``[N, length]`` (missing positions NaN), the same;
* categories: one string input ``[N, 1]`` (NULL is the empty string) -> one-hot with
  the training categories, unseen values all zeros (``ai.onnx.ml.OneHotEncoder``);

and refuses text (TF-IDF: softquery tokenises with Python's regular expressions, which
ONNX's tokenizer does not reproduce) and dates (the year/month/day parts have no ONNX
operator) with that reason. Everything is double precision, so the check holds to 1e-6.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from softquery.errors import InvalidInputError
from softquery.modelcode.preprocessing import AutoPreprocessor
from softquery.modelcode.preprocessing.kinds import ARRAY, CATEGORICAL, DATETIME, TEXT

FORMAT = "onnx"
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9  # for values that are (nearly) zero, where no relative error exists
TARGET_OPSET = {"": 18, "ai.onnx.ml": 5}
NULL_CATEGORY = ""
_REGISTERED: list[bool] = []
# the templates whose pipeline converts and passes the 1e-6 check, with the family people know them
# by (README "Exports and imports"); the others' trees or target transform convert only approximately
EXACT_TEMPLATES = {"linear_regression": "linear models", "ridge_regression": "linear models",
                   "logistic_regression": "linear models", "knn_regressor": "k-NN", "knn_classifier": "k-NN",
                   "svm_classifier": "SVM classifiers", "kmeans": "k-means"}


class ExportRefused(InvalidInputError):
    """The model cannot be exported in this format; the message says which step and why."""


def find_pipeline(model_obj: object) -> Pipeline:
    """The fitted scikit-learn Pipeline a template keeps on ``self.pipeline``."""
    pipeline = getattr(model_obj, "pipeline", None)
    if not isinstance(pipeline, Pipeline):
        raise ExportRefused(
            "This export needs the scikit-learn pipeline a template keeps on self.pipeline; "
            f"this model has {type(pipeline).__name__ if pipeline is not None else 'none'}.",
            details={"step": "model"})
    return pipeline


def _preprocessor(pipeline: Pipeline) -> AutoPreprocessor | None:
    first = pipeline.steps[0][1]
    return first if isinstance(first, AutoPreprocessor) else None


def check_expressible(pre: AutoPreprocessor) -> None:
    """Refuse, naming the column, preprocessing that ONNX cannot reproduce exactly."""
    for encoder in pre.encoders_:
        if encoder.kind == TEXT:
            raise ExportRefused(
                f"ONNX export cannot convert step AutoPreprocessor: column '{encoder.column}' is free "
                "text (TF-IDF), and ONNX's tokenizer does not split words exactly as scikit-learn's "
                "TfidfVectorizer does, so the exported model would predict differently. Use the MLflow "
                "export, or drop the text column.",
                details={"step": "AutoPreprocessor", "column": encoder.column, "kind": TEXT})
        if encoder.kind == DATETIME:
            raise ExportRefused(
                f"ONNX export cannot convert step AutoPreprocessor: column '{encoder.column}' holds "
                "dates, whose year/month/day/day-of-week parts have no ONNX operator. Use the MLflow "
                "export, or select the parts as numbers in the train query.",
                details={"step": "AutoPreprocessor", "column": encoder.column, "kind": DATETIME})
        categories = getattr(encoder, "categories_", [])
        if encoder.kind == CATEGORICAL and NULL_CATEGORY in categories and None in categories:
            raise ExportRefused(
                f"ONNX export cannot convert step AutoPreprocessor: column '{encoder.column}' has both "
                "NULL and the empty string as categories, and ONNX strings have no NULL.",
                details={"step": "AutoPreprocessor", "column": encoder.column})


def input_description(pre: AutoPreprocessor | None, n_features: int) -> list[dict[str, Any]]:
    """The ONNX graph's inputs, in order: name, element type, width, how NULL is passed."""
    if pre is None:
        return [{"name": "X", "type": "double", "shape": [None, n_features], "null": "NaN"}]
    out = []
    for encoder in pre.encoders_:
        if encoder.kind == CATEGORICAL:
            out.append({"name": encoder.column, "type": "string", "shape": [None, 1],
                        "null": "empty string", "kind": CATEGORICAL})
        else:
            width = len(encoder.names_) if encoder.kind == ARRAY else 1
            out.append({"name": encoder.column, "type": "double", "shape": [None, width],
                        "null": "NaN", "kind": encoder.kind})
    return out


def onnx_inputs(pre: AutoPreprocessor | None, X: pd.DataFrame) -> dict[str, np.ndarray]:
    """The ONNX inputs for rows ``X`` (as softquery builds them for ``predict``)."""
    if pre is None:
        return {"X": np.asarray(X, dtype=np.float64)}
    feeds: dict[str, np.ndarray] = {}
    for encoder in pre.encoders_:
        series = X[encoder.column]
        if encoder.kind == CATEGORICAL:
            keys = [NULL_CATEGORY if pd.isna(v) else str(v) for v in series.tolist()]
            feeds[encoder.column] = np.asarray(keys, dtype=object).reshape(-1, 1)
        else:
            feeds[encoder.column] = np.asarray(getattr(encoder, "raw")(series), dtype=np.float64)  # noqa: B009
    return feeds


# -- the AutoPreprocessor converter ------------------------------------------------------
def _shape_calculator(operator: Any) -> None:
    from skl2onnx.common.data_types import DoubleTensorType

    pre = operator.raw_operator
    operator.outputs[0].type = DoubleTensorType([None, sum(len(e.names_) for e in pre.encoders_)])


def _converter(scope: Any, operator: Any, container: Any) -> None:
    from onnx import TensorProto

    pre = operator.raw_operator
    by_name = {variable.raw_name: variable.full_name for variable in operator.inputs}
    blocks: list[str] = []

    def constant(name: str, values: Any, dtype: Any = TensorProto.DOUBLE) -> str:
        unique = str(scope.get_unique_variable_name(name))
        array = np.asarray(values)
        container.add_initializer(unique, dtype, list(array.shape), array.ravel().tolist())
        return unique

    for encoder in pre.encoders_:
        source = by_name[encoder.column]
        if encoder.kind == CATEGORICAL:
            cats = [NULL_CATEGORY if c is None else str(c) for c in encoder.categories_]
            hot = scope.get_unique_variable_name("onehot")
            container.add_node("OneHotEncoder", source, hot, op_domain="ai.onnx.ml", op_version=1,
                               cats_strings=cats, zeros=1, name=scope.get_unique_operator_name("OneHot"))
            flat = scope.get_unique_variable_name("onehot_flat")
            container.add_node("Reshape", [hot, constant("shape", [-1, len(cats)], TensorProto.INT64)], flat,
                               name=scope.get_unique_operator_name("Reshape"))
            block = scope.get_unique_variable_name("onehot_double")
            container.add_node("Cast", flat, block, to=TensorProto.DOUBLE, name=scope.get_unique_operator_name("Cast"))
        else:
            mean = constant("mean", encoder.mean_)
            nan = scope.get_unique_variable_name("isnan")
            container.add_node("IsNaN", source, nan, name=scope.get_unique_operator_name("IsNaN"))
            filled = scope.get_unique_variable_name("filled")
            container.add_node("Where", [nan, mean, source], filled, name=scope.get_unique_operator_name("Where"))
            block = filled
            if encoder.scale:
                centred = scope.get_unique_variable_name("centred")
                container.add_node("Sub", [filled, mean], centred, name=scope.get_unique_operator_name("Sub"))
                block = scope.get_unique_variable_name("scaled")
                container.add_node("Div", [centred, constant("scale", encoder.scale_)], block,
                                   name=scope.get_unique_operator_name("Div"))
        blocks.append(block)
    container.add_node("Concat", blocks, operator.outputs[0].full_name, axis=1,
                       name=scope.get_unique_operator_name("Concat"))


def _register() -> None:
    if _REGISTERED:
        return
    from skl2onnx import update_registered_converter

    update_registered_converter(AutoPreprocessor, "SoftqueryAutoPreprocessor", _shape_calculator, _converter)
    _REGISTERED.append(True)


# -- convert and check ---------------------------------------------------------------------
USE_MLFLOW = "Use --format mlflow instead: it keeps the scikit-learn pipeline itself."
# a conversion refused by the equality check: the same advice for the CLI and the API (the page offers the link)
MLFLOW_INSTEAD = ("The MLflow export keeps the scikit-learn pipeline itself: use it instead (softquery export "
                  "--format mlflow, or /export/mlflow in the API).")
NO_CONVERTER = ("MissingShapeCalculator", "MissingConverter", "MissingTypeCalculator")


def _refusal_reason(step: str, exc: Exception) -> str:
    """skl2onnx's refusal in one plain sentence (its own multi-line text goes to the details)."""
    if type(exc).__name__ in NO_CONVERTER or "shape calculator" in str(exc) or "converter" in str(exc).lower():
        return f"skl2onnx, the ONNX converter, has no converter for scikit-learn's {step}"
    return f"skl2onnx failed converting {step} ({type(exc).__name__}; its full text is in the error's details)"


def convert(pipeline: Pipeline, metadata: dict[str, str], template: str | None = None) -> bytes:
    """The pipeline as ONNX bytes, or ``ExportRefused`` naming the step skl2onnx refused (and the
    template whose pipeline it is), in a plain sentence; skl2onnx's own text goes to the details."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, StringTensorType

    _register()
    pre = _preprocessor(pipeline)
    if pre is not None:
        check_expressible(pre)
    inputs = input_description(pre, int(getattr(pipeline, "n_features_in_", 0) or 0))
    types = [(i["name"], StringTensorType([None, 1]) if i["type"] == "string" else DoubleTensorType(i["shape"]))
             for i in inputs]
    estimator = pipeline.steps[-1][1]
    options = {id(estimator): {"zipmap": False}} if hasattr(estimator, "predict_proba") else None
    try:
        onx = convert_sklearn(pipeline, initial_types=types, target_opset=TARGET_OPSET, options=options)
    except Exception as exc:  # noqa: BLE001 - skl2onnx raises many kinds; all mean "cannot convert"
        step = _failing_step(pipeline, exc)
        where = f"the template {template}'s step {step}" if template else f"step {step}"
        raise ExportRefused(
            f"ONNX export cannot convert {where}: {_refusal_reason(step, exc)}. {USE_MLFLOW}",
            details={"step": step, "template": template,
                     "skl2onnx": f"{type(exc).__name__}: {str(exc).strip()}"[:4000]}) from exc
    for described, graph_input in zip(inputs, onx.graph.input, strict=True):
        described["name"] = graph_input.name  # skl2onnx makes column names valid ONNX names
    for key, value in {**metadata, "softquery_inputs": json.dumps(inputs)}.items():
        entry = onx.metadata_props.add()
        entry.key, entry.value = key, value
    return bytes(onx.SerializeToString())


def _failing_step(pipeline: Pipeline, exc: Exception) -> str:
    text = str(exc)
    for _, step in reversed(pipeline.steps):
        if type(step).__name__ in text:
            return type(step).__name__
    return type(pipeline.steps[-1][1]).__name__


def check(onnx_bytes: bytes, pipeline: Pipeline, X: pd.DataFrame) -> dict[str, Any]:
    """Run the ONNX model with onnxruntime on ``X`` and compare with the pipeline's own
    predictions (and probabilities): labels equal, numbers within 1e-6 relative."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime's own exception classes
        step = type(pipeline.steps[-1][1]).__name__
        raise ExportRefused(
            f"ONNX export cannot convert step {step}: skl2onnx wrote a graph that onnxruntime refuses to "
            "load in double precision (tree models convert only in single precision, which does not "
            f"reproduce softquery's predictions to 1e-6). {USE_MLFLOW}",
            details={"step": step, "onnxruntime": f"{type(exc).__name__}: {str(exc).strip()}"[:4000]}) from exc
    feeds = list(onnx_inputs(_preprocessor(pipeline), X).values())
    outputs = session.run(None, {i.name: feed for i, feed in zip(session.get_inputs(), feeds, strict=True)})
    expected = np.asarray(pipeline.predict(X))
    got = np.asarray(outputs[0]).reshape(expected.shape)
    result: dict[str, Any] = {"rows": len(X), "relative_tolerance": RELATIVE_TOLERANCE}
    if expected.dtype.kind in "fc":
        _compare(expected.astype(float), got.astype(float), "predictions")
        result["max_abs_difference"] = float(np.max(np.abs(expected - got))) if len(X) else 0.0
    else:
        same = np.asarray(expected.astype(str) == got.astype(str))
        if not same.all():
            row = int(np.flatnonzero(~same)[0])
            raise ExportRefused(
                f"The ONNX model predicts {got[row]!r} where softquery predicts {expected[row]!r} "
                f"(check row {row}); the export was refused. {MLFLOW_INSTEAD}", details={"row": row, "step": "check"})
    estimator = pipeline.steps[-1][1]
    if hasattr(estimator, "predict_proba") and len(outputs) > 1:
        proba = np.asarray(pipeline.predict_proba(X), dtype=float)
        _compare(proba, np.asarray(outputs[1], dtype=float).reshape(proba.shape), "probabilities")
        result["probabilities_checked"] = True
    return result


def _compare(expected: np.ndarray, got: np.ndarray, what: str) -> None:
    close = np.isclose(got, expected, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)
    if not close.all():
        index = np.unravel_index(int(np.flatnonzero(~close.ravel())[0]), close.shape)
        raise ExportRefused(
            f"The ONNX model's {what} differ from softquery's by more than 1e-6 relative "
            f"(check row {int(index[0])}: {float(got[index])!r} instead of {float(expected[index])!r}); "
            f"the export was refused. {MLFLOW_INSTEAD}", details={"step": "check", "row": int(index[0])})
