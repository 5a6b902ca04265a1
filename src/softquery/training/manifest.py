"""The full description stored with every version (destimator-style)."""

from __future__ import annotations

import hashlib
import platform
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from typing import Any

from softquery import __version__
from softquery.artifacts import serialize
from softquery.modelcode.loader import code_sha256

PACKAGES = ("scikit-learn", "numpy", "pandas", "pyarrow", "scipy")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "softquery": __version__}
    for name in PACKAGES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def build_manifest(
    *,
    model: str,
    version: int,
    run_id: str,
    source: str,
    source_dialect: str,
    train_sql: str,
    code: str,
    template: str | None,
    data: dict[str, Any],
    task: str,
    metrics: dict[str, Any],
    evaluation: dict[str, Any],
    classes: list[Any] | None,
    artifact: bytes,
    duration_seconds: float,
    timings: dict[str, float],
    notes: list[str],
    cv: dict[str, Any] | None = None,
    selection: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "manifest_format": 1,
        "model": model,
        "version": version,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(),
        "source": {"name": source, "dialect": source_dialect},
        "train_sql": train_sql,
        "data": data,
        "task": task,
        "classes": classes,
        "metrics": metrics,
        "cv": cv,  # k-fold cross-validation: method, folds, metrics {name: {mean, std, folds}}, notes
        "evaluation": evaluation,
        "selection": selection,  # a hyperparameter search's or AutoML's trials and choice (None: neither)
        "code": code,
        "code_sha256": code_sha256(code),
        "template": template,
        "packages": package_versions(),
        "artifact": {
            "format": serialize.FORMAT,
            "size": len(artifact),
            "sha256": hashlib.sha256(artifact).hexdigest(),
        },
        "duration_seconds": round(duration_seconds, 4),
        "timings": {k: round(v, 4) for k, v in timings.items()},
        "notes": notes,
    }
