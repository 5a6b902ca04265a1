"""Write an MLflow model directory for a template model, without importing mlflow.

The directory is MLflow's own scikit-learn layout, so both ``mlflow.pyfunc.load_model``
and ``mlflow.sklearn.load_model`` load it:

* ``MLmodel``: the ``python_function`` flavour (``loader_module: mlflow.sklearn``) and
  the ``sklearn`` flavour, the signature (inputs from the version's feature schema,
  outputs from its task and classes) and the version's manifest as ``metadata``.
  Written as JSON, which is YAML too;
* ``model.pkl``: the fitted pipeline (``self.pipeline``), pickled in the export child.
  Its preprocessing step is softquery's ``AutoPreprocessor``, so softquery is among the
  requirements of the environment that loads it;
* ``requirements.txt``, ``python_env.yaml``, ``conda.yaml``: that environment.
"""

from __future__ import annotations

import json
import platform
import uuid
from datetime import UTC, datetime
from typing import Any

from softquery.errors import InvalidInputError

PICKLE_NAME = "model.pkl"
REQUIREMENT_PACKAGES = ("softquery", "scikit-learn", "numpy", "pandas", "scipy", "cloudpickle")


def _input_type(feature: dict[str, Any]) -> dict[str, Any]:
    kind, arrow = str(feature.get("kind")), str(feature.get("arrow_type"))
    if kind == "boolean":
        spec: dict[str, Any] = {"type": "boolean"}
    elif kind == "numeric":
        spec = {"type": "long" if arrow.startswith(("int", "uint")) else "double"}
    elif kind in ("categorical", "text"):
        spec = {"type": "string"}
    elif kind == "datetime":
        spec = {"type": "datetime"}
    elif kind == "array":
        spec = {"type": "array", "items": {"type": "double"}}
    else:
        raise InvalidInputError(f"Column '{feature.get('name')}' has a kind ({kind}) an MLflow signature "
                                "cannot describe.", details={"column": feature.get("name")})
    return {**spec, "name": str(feature["name"]), "required": True}


def signature(manifest: dict[str, Any]) -> dict[str, Any]:
    """MLflow's signature (inputs and outputs as JSON text) from a version's manifest."""
    features = (manifest.get("data") or {}).get("features") or []
    classes = manifest.get("classes")
    if manifest.get("task") == "regression":
        output = "double"
    elif manifest.get("task") == "clustering":
        output = "long"
    elif classes and all(isinstance(c, bool) for c in classes):
        output = "boolean"
    elif classes and all(isinstance(c, int) for c in classes):
        output = "long"
    else:
        output = "string"
    return {"inputs": json.dumps([_input_type(f) for f in features]),
            "outputs": json.dumps([{"type": output, "required": True}]),
            "params": None}


def mlmodel(manifest: dict[str, Any], packages: dict[str, str]) -> dict[str, Any]:
    python = platform.python_version()
    return {
        "artifact_path": None,
        "flavors": {
            "python_function": {"loader_module": "mlflow.sklearn", "model_path": PICKLE_NAME,
                                "predict_fn": "predict", "python_version": python,
                                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}},
            "sklearn": {"pickled_model": PICKLE_NAME, "serialization_format": "pickle",
                        "sklearn_version": packages.get("scikit-learn"), "code": None},
        },
        "model_uuid": uuid.uuid4().hex,
        "utc_time_created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "signature": signature(manifest),
        "metadata": manifest,
    }


def requirements(packages: dict[str, str]) -> list[str]:
    return [f"{name}=={packages[name]}" if packages.get(name) else name for name in REQUIREMENT_PACKAGES]


def directory_files(manifest: dict[str, Any], pipeline_pickle: bytes, packages: dict[str, str]) -> dict[str, bytes]:
    """File name -> bytes of the MLflow model directory."""
    reqs = requirements(packages)
    python = platform.python_version()
    python_env = {"python": python, "build_dependencies": ["pip"], "dependencies": ["-r requirements.txt"]}
    conda = {"name": "mlflow-env", "channels": ["conda-forge"],
             "dependencies": [f"python={python}", "pip", {"pip": reqs}]}
    return {
        "MLmodel": (json.dumps(mlmodel(manifest, packages), indent=2, default=str) + "\n").encode(),
        PICKLE_NAME: pipeline_pickle,
        "requirements.txt": ("\n".join(reqs) + "\n").encode(),
        "python_env.yaml": (json.dumps(python_env, indent=2) + "\n").encode(),
        "conda.yaml": (json.dumps(conda, indent=2) + "\n").encode(),
    }
