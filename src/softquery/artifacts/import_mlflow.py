"""Read an MLflow scikit-learn model directory (parent side) and wrap its model (child side).

The parent reads only text here (``MLmodel``, YAML with ``yaml.safe_load``) and the
pickle's bytes; it never unpickles them. ``wrap_in_child`` runs in the sandboxed import
child: it unpickles the (hostile until checked) model, checks it, predicts on rows built
from the signature and pickles a softquery ``Model`` holding it (``IMPORTED_CODE``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from softquery.errors import InvalidInputError

MAX_PICKLE_BYTES = 512 * 1024 * 1024
SERIALIZATIONS = ("skops", "pickle", "cloudpickle")
TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.", "builtins.")  # skops types loaded without asking
#: MLflow column type -> (Arrow type, softquery feature kind)
COLUMN_TYPES = {"double": ("double", "numeric"), "float": ("double", "numeric"),
                "long": ("int64", "numeric"), "integer": ("int64", "numeric"),
                "boolean": ("bool", "boolean"), "string": ("string", "categorical")}
CHECK_ROWS = 5

IMPORTED_CODE = '''"""Imported scikit-learn model

A {estimator} imported from an MLflow model directory. It cannot be retrained here:
to train in softquery, give this model a template or your own code and train it.
"""


class Model:
    task = "{task}"

    def __init__(self):
        self.estimator = None  # the imported, fitted scikit-learn estimator

    def train(self, X, y):
        raise RuntimeError("This version was imported from MLflow and cannot be retrained; "
                           "give the model a template or code to train it in softquery.")

    def predict(self, X):
        return self.estimator.predict(X)
{proba}'''

PROBA_CODE = '''
    def predict_proba(self, X):
        return self.estimator.predict_proba(X)
'''


def imported_code(estimator: str, task: str, has_proba: bool) -> str:
    """The version's code: written by the trusted parent from what the child reports, which
    is checked here (a hostile model file may have taken the child over and answer anything)."""
    if not re.fullmatch(r"sklearn(\.[A-Za-z_][A-Za-z0-9_]*)+", estimator) or task not in ("classification",
                                                                                         "regression"):
        raise ImportRefused("The import process reported a model that is not a scikit-learn classifier or "
                            "regressor; nothing was imported.", details={"estimator": estimator[:200]})
    return IMPORTED_CODE.format(estimator=estimator.rsplit(".", 1)[-1], task=task,
                                proba=PROBA_CODE if has_proba else "")


class ImportRefused(InvalidInputError):
    """The directory cannot become a version; the message says what is wrong and what to do."""


@dataclass
class MLflowDirectory:
    path: Path
    features: list[dict[str, Any]] = field(default_factory=list)  # FeatureSpec fields
    pickle_bytes: bytes = b""
    serialization: str = "skops"
    sklearn_version: str | None = None
    mlflow_version: str | None = None
    output_name: str | None = None  # the signature's (single) named output column, if any


def read_directory(path: Path) -> MLflowDirectory:
    """Check the directory's description (no unpickling); ``ImportRefused`` with the reason."""
    import yaml

    mlmodel = path / "MLmodel"
    if not mlmodel.is_file():
        raise ImportRefused(f"{path} is not an MLflow model directory: it has no MLmodel file.",
                            details={"path": str(path)})
    try:
        described = yaml.safe_load(mlmodel.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ImportRefused(f"{mlmodel} is not valid YAML ({exc}).", details={"path": str(path)}) from exc
    if not isinstance(described, dict) or not isinstance(described.get("flavors"), dict):
        raise ImportRefused(f"{mlmodel} has no flavors: it does not describe an MLflow model.")
    flavors = described["flavors"]
    sklearn = flavors.get("sklearn")
    if not isinstance(sklearn, dict):
        others = sorted(str(k) for k in flavors if k != "python_function")
        raise ImportRefused(
            f"This MLflow model is not a scikit-learn model (its flavours: {', '.join(others) or 'python_function only'}); "
            "softquery imports only the sklearn flavour.", details={"flavors": sorted(map(str, flavors))})
    serialization = str(sklearn.get("serialization_format") or "cloudpickle")
    if serialization not in SERIALIZATIONS:
        raise ImportRefused(f"The scikit-learn model is saved as {serialization!r}; softquery imports "
                            f"{' or '.join(SERIALIZATIONS)}.", details={"serialization_format": serialization})
    features = _signature_features(described.get("signature"))
    name = str(sklearn.get("pickled_model") or "")
    model_file = (path / name).resolve()
    if not name or model_file.parent != path.resolve() or not model_file.is_file():
        raise ImportRefused(f"MLmodel names the model file {name!r}, which is not a file in {path}: the "
                            "directory is incomplete or was changed.", details={"pickled_model": name})
    data = model_file.read_bytes()
    magic = b"PK" if serialization == "skops" else b"\x80"
    if len(data) > MAX_PICKLE_BYTES or not data.startswith(magic):
        raise ImportRefused(f"{name} is not a {serialization} file as MLmodel declares: the directory was "
                            "changed after MLflow wrote it.", details={"pickled_model": name})
    extra = _bytes_after_end(data, serialization)
    if extra:
        raise ImportRefused(f"{name} has {extra:,} bytes after the end of its {serialization} data: the file was "
                            "changed after MLflow wrote it (MLflow writes no checksums, but a skops zip and a "
                            "pickle each mark their own end); nothing was imported.",
                            details={"pickled_model": name, "trailing_bytes": extra})
    return MLflowDirectory(path=path, features=features, pickle_bytes=data, serialization=serialization,
                           sklearn_version=sklearn.get("sklearn_version"),
                           mlflow_version=described.get("mlflow_version"),
                           output_name=_output_name(described.get("signature")))


def _bytes_after_end(data: bytes, serialization: str) -> int:
    """How many bytes follow the model file's own end, read without loading anything: a skops
    file is a zip, whose end-of-central-directory record (and its comment) ends the file; a
    pickle ends at its STOP opcode (``pickletools.genops`` only parses, it builds nothing).
    Zip readers and ``pickle.loads`` ignore bytes appended after those ends."""
    if serialization == "skops":
        end = data.rfind(b"PK\x05\x06")
        if end < 0 or end + 22 > len(data):
            raise ImportRefused("The skops model file has no zip directory: it is damaged or was changed.")
        comment = int.from_bytes(data[end + 20:end + 22], "little")
        return max(0, len(data) - (end + 22 + comment))
    import io
    import pickletools

    stream = io.BytesIO(data)
    try:
        for opcode, _, _ in pickletools.genops(stream):
            if opcode.name == "STOP":
                break
    except Exception as exc:  # noqa: BLE001 - any parse failure means the same: not a whole pickle
        raise ImportRefused(f"The {serialization} model file is not a whole pickle ({type(exc).__name__}): "
                            "it is damaged or was changed after MLflow wrote it.") from exc
    return len(data) - stream.tell()


def _output_name(signature: Any) -> str | None:
    outputs = signature.get("outputs") if isinstance(signature, dict) else None
    try:
        columns = json.loads(outputs) if isinstance(outputs, str) else outputs
    except ValueError:
        return None
    if isinstance(columns, list) and len(columns) == 1 and isinstance(columns[0], dict) and columns[0].get("name"):
        return str(columns[0]["name"])
    return None


def _signature_features(signature: Any) -> list[dict[str, Any]]:
    inputs = signature.get("inputs") if isinstance(signature, dict) else None
    if not inputs:
        raise ImportRefused(
            "The MLflow model has no signature, so softquery cannot know which columns it reads. Save it "
            "with a signature (mlflow.sklearn.save_model(..., signature=infer_signature(X, y))) and import again.",
            details={"missing": "signature"})
    try:
        columns = json.loads(inputs) if isinstance(inputs, str) else inputs
    except ValueError as exc:
        raise ImportRefused("The MLflow signature's inputs are not valid JSON.") from exc
    features = []
    for column in columns if isinstance(columns, list) else []:
        name, kind = column.get("name"), column.get("type")
        if not name or kind not in COLUMN_TYPES:
            raise ImportRefused(
                f"The MLflow signature has an input softquery cannot read ({json.dumps(column)[:200]}): imports "
                "take named columns of types " + ", ".join(COLUMN_TYPES) + ".", details={"input": str(column)[:200]})
        arrow, feature_kind = COLUMN_TYPES[str(kind)]
        features.append({"name": str(name), "arrow_type": arrow, "kind": feature_kind, "length": None})
    if not features:
        raise ImportRefused("The MLflow signature lists no input columns; save the model with a column signature.")
    return features


# -- the child side --------------------------------------------------------------------
def check_rows(features: list[dict[str, Any]]) -> Any:
    """A few rows of the signature's columns (an Arrow table), to predict on."""
    import pyarrow as pa

    values: dict[str, Any] = {
        "double": [0.0, 1.0, -1.0, 0.5, 2.0], "int64": [0, 1, 2, 3, 4],
        "bool": [True, False, True, False, True], "string": ["a", "b", "c", "a", "b"],
    }
    return pa.table({f["name"]: pa.array(values[f["arrow_type"]], type=pa.type_for_alias(f["arrow_type"]))
                     for f in features})


def _load(data: bytes, serialization: str) -> Any:
    """The model in the file: skops loads only scikit-learn, numpy and scipy types; a pickle
    runs whatever it holds (that is why this runs only in the sandboxed child)."""
    if serialization == "skops":
        import skops.io

        untrusted = skops.io.get_untrusted_types(data=data)
        foreign = [t for t in untrusted if not t.startswith(TRUSTED_MODULES)]
        if foreign:
            raise ImportRefused(
                f"The skops file holds types that are not scikit-learn's ({', '.join(foreign[:5])}); "
                "softquery does not load them.", details={"types": foreign[:20]})
        return skops.io.loads(data, trusted=untrusted)
    import pickle

    return pickle.loads(data)  # noqa: S301 - hostile input, only ever in the sandboxed child


def wrap_in_child(pickle_bytes: bytes, features: list[dict[str, Any]], serialization: str = "pickle") -> dict[str, Any]:
    """Load, check, wrap into a softquery Model and serialise it. Sandboxed child only."""
    import numpy as np
    from sklearn.base import BaseEstimator, is_classifier, is_regressor

    from softquery.artifacts import serialize
    from softquery.data import FeatureSpec, frame_for_prediction
    from softquery.modelcode.loader import load_code_module

    estimator = _load(pickle_bytes, serialization)
    kind = type(estimator)
    if not isinstance(estimator, BaseEstimator) or not kind.__module__.startswith("sklearn.") \
            or not callable(getattr(estimator, "predict", None)):
        raise ImportRefused(
            f"The model file holds a {kind.__module__}.{kind.__qualname__}, not a scikit-learn estimator "
            "with predict as MLmodel declares: the directory was changed, or it is not a scikit-learn model.",
            details={"found": f"{kind.__module__}.{kind.__qualname__}"[:200]})
    n_in = getattr(estimator, "n_features_in_", None)
    if n_in is not None and int(n_in) != len(features):
        raise ImportRefused(
            f"The model file holds a model of {int(n_in)} input columns, but MLmodel's signature declares "
            f"{len(features)}: model.pkl does not match its MLmodel (the directory was changed).",
            details={"model_columns": int(n_in), "signature_columns": len(features)})
    task = "classification" if is_classifier(estimator) else "regression" if is_regressor(estimator) else None
    if task is None:
        raise ImportRefused(f"The scikit-learn {kind.__name__} is neither a classifier nor a regressor; "
                            "softquery imports those two.", details={"found": kind.__name__})
    name = f"{kind.__module__}.{kind.__name__}"
    code = imported_code(name, task, hasattr(estimator, "predict_proba"))
    wrapped = load_code_module(code).Model()
    wrapped.estimator = estimator
    X = frame_for_prediction(check_rows(features), [FeatureSpec(**f) for f in features])
    before = np.asarray(wrapped.predict(X))
    artifact = serialize.dumps(wrapped)
    after = np.asarray(serialize.loads(artifact, code).predict(X))
    if len(before) != len(X) or before.astype(str).tolist() != after.astype(str).tolist():
        raise ImportRefused("The imported model does not predict the same after softquery saved and loaded it.")
    classes = [c.item() if hasattr(c, "item") else c for c in estimator.classes_] if task == "classification" else None
    return {"artifact": artifact, "task": task, "classes": classes, "has_proba": hasattr(estimator, "predict_proba"),
            "estimator": name, "checked_rows": len(X)}
