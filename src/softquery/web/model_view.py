"""What the model page shows about versions: chart data, readable manifest, export and HTTP snippets."""

from __future__ import annotations

import json
import pprint
from typing import Any

from softquery.domain import Model, TaskType, Version
from softquery.services import cv_figures, export, model_exports

TOKEN_PLACEHOLDER = "YOUR_PREDICT_TOKEN"  # noqa: S105 - a placeholder the page tells people to replace
# scores whose best value is 1: their chart's axis ends at 1
SCORES_UP_TO_ONE = {"r2", "f1", "accuracy", "precision", "recall", "roc_auc", "silhouette"}
SCORES_FROM_ZERO = {"f1", "accuracy", "precision", "recall", "roc_auc"}
SAMPLE_BY_KIND = {"numeric": 1.0, "boolean": True, "datetime": "2024-01-31", "date": "2024-01-31",
                  "text": "some text", "json": "[0.1, 0.2]", "categorical": "a value"}


def _task(version: Version | None) -> TaskType | None:
    if version is None:
        return None
    try:
        return TaskType(str(version.manifest.get("task")))
    except ValueError:
        return None


def metric_history(versions: list[Version]) -> dict[str, Any]:
    """The key metric of each version, oldest first (for a line chart)."""
    ordered = sorted(versions, key=lambda v: v.version)
    task = next((t for t in (_task(v) for v in reversed(ordered)) if t is not None), None)
    if task is None:
        return {}
    name = task.key_metric
    return {"metric": name, "labels": [f"v{v.version}" for v in ordered],
            "scores": [v.metrics.get(name) if _task(v) is task else None for v in ordered],
            "max": 1 if name in SCORES_UP_TO_ONE else None, "min": 0 if name in SCORES_FROM_ZERO else None}


def evaluation(version: Version | None) -> dict[str, Any]:
    """Predicted vs actual (regression), confusion matrix (classification), feature importance."""
    if version is None:
        return {}
    found = version.manifest.get("evaluation") or {}
    out: dict[str, Any] = {"task": str(version.manifest.get("task") or "")}
    pva = found.get("predicted_vs_actual")
    if isinstance(pva, dict) and pva.get("actual"):
        out["scatter"] = {"actual": pva.get("actual", []), "predicted": pva.get("predicted", [])}
    cm = found.get("confusion_matrix")
    if isinstance(cm, dict) and cm.get("matrix"):
        matrix = cm["matrix"]
        peak = max((max(row) for row in matrix if row), default=0) or 1
        out["confusion"] = {"labels": [str(x) for x in cm.get("labels", [])], "matrix": matrix,
                            "peak": peak}
    importance = found.get("feature_importance")
    if isinstance(importance, list) and importance:
        ranked = sorted(importance, key=lambda x: -(x.get("importance") or 0))[:25]
        out["importance"] = {"features": [str(x.get("feature")) for x in ranked],
                             "values": [x.get("importance") for x in ranked],
                             "std": [x.get("std") for x in ranked]}
    split = found.get("split")
    if isinstance(split, dict):
        out["split"] = split
        out["split_text"] = cv_figures.split_text(found)
    return out


def export_note(model: Model, version: Version | None) -> str | None:
    """Why the JSON export is not available (None: it is, or it may be)."""
    if version is None:
        return "Train the model first: the export describes a trained version."
    return export.json_export_note(version.manifest)


def format_exports(model: Model, version: Version | None) -> dict[str, Any]:
    """The ONNX and MLflow downloads the page offers: {"onnx": bool, "mlflow": bool, "note": why not}."""
    if version is None:
        return {"onnx": False, "mlflow": False, "note": "Train the model first: an export describes a trained version."}
    return model_exports.offered_formats(version.manifest)


def feature_columns(version: Version | None) -> list[dict[str, Any]]:
    if version is None:
        return []
    features = (version.manifest.get("data") or {}).get("features") or []
    return [f for f in features if isinstance(f, dict) and f.get("name")]


def http_snippets(model: str, version: Version | None, base_url: str,
                  token: str | None = None) -> dict[str, str]:
    """curl and Python requests calls of POST /api/v1/models/{model}/predict with one example row,
    sending ``token`` (or a placeholder to replace) as the bearer token the API asks for."""
    row: dict[str, Any] = {f["name"]: SAMPLE_BY_KIND.get(str(f.get("kind")), 1.0)
                           for f in feature_columns(version)}
    ids = (version.manifest.get("data") or {}).get("id_columns") if version else None
    for name in reversed(ids or []):
        row = {name: 1, **row}
    url = base_url.rstrip("/") + f"/api/v1/models/{model}/predict"
    body = {"rows": [row]}
    bearer = f"Bearer {token or TOKEN_PLACEHOLDER}"
    curl = (f"curl -s -X POST '{url}' \\\n"
            f"  -H 'Authorization: {bearer}' \\\n"
            f"  -H 'Content-Type: application/json' \\\n"
            f"  -d '{json.dumps(body)}'")
    python = ("import requests\n\n"
              f"response = requests.post(\n    {url!r},\n"
              f"    headers={{'Authorization': {bearer!r}}},\n"
              f"    json={pprint.pformat(body, sort_dicts=False, width=70)},\n    timeout=30,\n)\n"
              "response.raise_for_status()\nprint(response.json())")
    return {"curl": curl, "python": python}


def manifest_sections(version: Version) -> dict[str, Any]:
    """The manifest grouped for reading; the page prints each group as a definition list."""
    m = version.manifest
    data = m.get("data") or {}
    artifact = m.get("artifact") or {}
    return {
        "data": {"rows": data.get("rows"), "fingerprint": data.get("fingerprint"), "label": data.get("label"),
                 "id_columns": ", ".join(data.get("id_columns") or []) or "none",
                 "source": (m.get("source") or {}).get("name"), "dialect": (m.get("source") or {}).get("dialect")},
        "columns": data.get("columns") or [],
        "features": data.get("features") or [],
        "packages": m.get("packages") or {},
        "code": {"template": m.get("template") or "own code", "code_sha256": m.get("code_sha256"),
                 "artifact_format": artifact.get("format"), "artifact_size": artifact.get("size"),
                 "artifact_sha256": artifact.get("sha256"), "run_id": m.get("run_id")},
        "timings": m.get("timings") or {},
        "notes": m.get("notes") or [],
        "train_sql": m.get("train_sql") or "",
        "classes": m.get("classes"),
    }
