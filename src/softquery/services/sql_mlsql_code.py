"""Model code for MLSQL's ``train``: built-in algorithms on templates, PythonAlg scripts wrapped.

Built-in names map onto templates (``BUILTINS``); a ``fitParam.N.*`` group's keys are the
estimator's parameters (sklearn names, or Spark's: ``maxIter``, ``numTrees``, ``maxDepth``,
``k``, ``stepSize``, ``regParam``, ``seed``, ``smoothing``), checked here against the
estimator's own parameter list before anything runs.

A PythonAlg script with a top-level ``class Model`` is used as written; its candidate's
``fitParam`` group is the module-level dict ``MLSQL_FIT_PARAM`` (appended, so line numbers
stay). A script in the MLSQL document's style (``import mlsql``, reads
``mlsql.fit_param`` and ``mlsql.internal_system_param["tempDataLocalPath"]``, writes a
pickle into ``tempModelLocalPath``) is wrapped in a ``class Model`` (``wrapper_code``)
whose ``train`` writes the rows there (JSON lines with Spark's sparse-vector JSON for
vector columns, or CSV), provides the ``mlsql`` module (and ``pyspark.ml.linalg.Vectors``
when pyspark is absent), runs the script — all inside the job child — and keeps the
estimator it pickled; ``predict`` calls that estimator's ``predict``.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from typing import Any

from softquery.errors import InvalidInputError
from softquery.modelcode.templates import template_code


@dataclass(frozen=True)
class Builtin:
    template: str
    estimator: str  # module:Class of the template's final step (for its parameter names)


BUILTINS: dict[str, Builtin] = {
    "linearregression": Builtin("linear_regression", "sklearn.linear_model:LinearRegression"),
    "logisticregressor": Builtin("logistic_regression", "sklearn.linear_model:LogisticRegression"),
    "logisticregression": Builtin("logistic_regression", "sklearn.linear_model:LogisticRegression"),
    "randomforest": Builtin("random_forest_classifier", "sklearn.ensemble:RandomForestClassifier"),
    "gbtregressor": Builtin("hist_gradient_boosting_regressor", "sklearn.ensemble:HistGradientBoostingRegressor"),
    "gbtclassifier": Builtin("hist_gradient_boosting_classifier",
                             "sklearn.ensemble:HistGradientBoostingClassifier"),
    "naivebayes": Builtin("naive_bayes_text", "sklearn.naive_bayes:MultinomialNB"),
    "kmeans": Builtin("kmeans", "sklearn.cluster:KMeans"),
    "svm": Builtin("svm_classifier", "sklearn.svm:SVC"),
}
SPARK_NAMES = {"maxiter": "max_iter", "numtrees": "n_estimators", "maxdepth": "max_depth", "k": "n_clusters",
               "stepsize": "learning_rate", "seed": "random_state", "smoothing": "alpha", "regparam": "C"}


def convert(value: Any) -> Any:
    """An MLSQL option value ("1000", "0.5", "true", "balanced") as a Python value."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return value


def builtin_params(algorithm: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(the estimator's class name, one fitParam group as its keyword arguments), checked."""
    builtin = BUILTINS[algorithm.lower()]
    module, _, name = builtin.estimator.partition(":")
    estimator = getattr(importlib.import_module(module), name)
    known = sorted(estimator().get_params())
    chosen: dict[str, Any] = {}
    for key, value in params.items():
        real = SPARK_NAMES.get(key.lower(), key)
        if real == "C" and key.lower() == "regparam":
            value = 1.0 / float(convert(value)) if float(convert(value)) else 1e12
        if real not in known:
            raise InvalidInputError(
                f"{name} has no parameter {key!r} (fitParam); its parameters: {', '.join(known)}.",
                details={"parameter": key, "known": known})
        chosen[real] = convert(value)
    return name, chosen


def builtin_search_configs(algorithm: str, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fitParam groups as a search's configurations: [{"Estimator.keyword": value}, ...]."""
    configs = []
    for group in groups:
        name, chosen = builtin_params(algorithm, group)
        configs.append({f"{name}.{k}": v for k, v in chosen.items()})
    return configs


def builtin_code(algorithm: str, params: dict[str, Any]) -> tuple[str, str]:
    """(template name, code) of a built-in algorithm with one candidate's parameters."""
    builtin = BUILTINS[algorithm.lower()]
    _, chosen = builtin_params(algorithm, params)
    code = template_code(builtin.template)
    if builtin.template == "naive_bayes_text":  # MLSQL's NaiveBayes reads numeric vectors, not text
        code = code.replace("AutoPreprocessor(text_only=True)", "AutoPreprocessor(scale=False)")
    if chosen:
        code += (
            "\n\n# fitParam of this candidate (MLSQL train), set on the final estimator\n"
            f"MLSQL_FIT_PARAM = {chosen!r}\n"
            "_template_init = Model.__init__\n\n\n"
            "def _tuned_init(self):\n"
            "    _template_init(self)\n"
            "    final = self.pipeline.steps[-1][1]\n"
            "    if type(final).__name__ == \"CalibratedClassifierCV\":\n"
            "        final = final.estimator\n"
            "    final.set_params(**MLSQL_FIT_PARAM)\n\n\n"
            "Model.__init__ = _tuned_init\n")
    return builtin.template, code


def defines_model_class(script: str) -> bool:
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.ClassDef) and node.name == "Model" for node in tree.body)


def class_model_code(script: str, params: dict[str, Any]) -> str:
    return script.rstrip("\n") + f"\n\n\n# fitParam of this candidate (MLSQL train)\nMLSQL_FIT_PARAM = {params!r}\n"


def wrapper_code(script: str, script_name: str, params: dict[str, Any], data_format: str,
                 label: str | None) -> str:
    """A ``class Model`` running a document-style MLSQL script in the job child (module doc)."""
    return _WRAPPER.format(name=script_name, script=script, params={k: str(v) for k, v in params.items()},
                           fmt=data_format, label=label or "label")


_WRAPPER = '''"""MLSQL PythonAlg script {name} (wrapped by softquery: it reads the mlsql module)."""
import json
import os
import pickle
import sys
import tempfile
import types

import numpy as np

SCRIPT = {script!r}
SCRIPT_NAME = {name!r}
FIT_PARAM = {params!r}
DATA_FORMAT = {fmt!r}
LABEL_COL = {label!r}


class _Vector:
    def __init__(self, values):
        self.values = np.asarray(values, dtype=float)

    def toArray(self):
        return self.values


class _Vectors:
    @staticmethod
    def dense(*values):
        return _Vector(values[0] if len(values) == 1 and not np.isscalar(values[0]) else values)

    @staticmethod
    def sparse(size, indices, values):
        dense = np.zeros(int(size))
        for i, v in zip(indices, values):
            dense[int(i)] = float(v)
        return _Vector(dense)


def _install(data_dir, model_dir):
    mlsql = types.ModuleType("mlsql")
    mlsql.fit_param = dict(FIT_PARAM)
    mlsql.internal_system_param = {{"tempDataLocalPath": data_dir, "tempModelLocalPath": model_dir}}
    sys.modules["mlsql"] = mlsql
    try:
        import pyspark.ml.linalg  # noqa: F401
    except ImportError:
        linalg = types.ModuleType("pyspark.ml.linalg")
        linalg.Vectors = _Vectors
        for name in ("pyspark", "pyspark.ml"):
            sys.modules.setdefault(name, types.ModuleType(name))
        sys.modules["pyspark.ml.linalg"] = linalg


def _cell(value):
    if isinstance(value, (list, tuple, np.ndarray)):
        values = [float(v) for v in value]
        indices = [i for i, v in enumerate(values) if v != 0.0]
        return {{"type": 0, "size": len(values), "indices": indices, "values": [values[i] for i in indices]}}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _write(X, y, data_dir):
    frame = X.copy()
    if y is not None:
        frame[LABEL_COL] = list(y)
    if DATA_FORMAT == "csv":
        frame.to_csv(os.path.join(data_dir, "part-00000.csv"), index=False)
        return
    with open(os.path.join(data_dir, "part-00000.json"), "w") as out:
        for row in frame.to_dict(orient="records"):
            out.write(json.dumps({{k: _cell(v) for k, v in row.items()}}) + "\\n")


def _matrix(X):
    if X.shape[1] == 1 and len(X) and isinstance(X.iloc[0, 0], (list, tuple, np.ndarray)):
        return np.vstack([np.asarray(v, dtype=float) for v in X.iloc[:, 0]])
    return X.to_numpy(dtype=float)


class Model:
    def train(self, X, y):
        work = tempfile.mkdtemp(prefix="mlsql-")
        data_dir = os.path.join(work, "data")
        model_dir = os.path.join(work, "model")
        os.makedirs(data_dir)
        _write(X, y, data_dir)
        _install(data_dir, model_dir)
        exec(compile(SCRIPT, SCRIPT_NAME, "exec"), {{"__name__": "__main__", "__file__": SCRIPT_NAME}})
        found = []
        for root, _, names in os.walk(model_dir):
            found += [os.path.join(root, n) for n in sorted(names) if n.endswith((".pkl", ".pickle"))]
        if not found:
            raise RuntimeError("The script wrote no model: pickle it into "
                               "mlsql.internal_system_param['tempModelLocalPath'] (e.g. model.pkl).")
        with open(found[0], "rb") as handle:
            self.estimator = pickle.load(handle)

    def predict(self, X):
        return np.asarray(self.estimator.predict(_matrix(X)))
'''
