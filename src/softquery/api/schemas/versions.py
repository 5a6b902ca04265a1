"""Trained versions and their manifests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from softquery.domain import TaskType, Version


class VersionPublic(BaseModel):
    model: str
    version: int
    active: bool
    created_at: datetime
    run_id: str | None
    task: str | None
    rows: int | None
    metrics: dict[str, Any]
    key_metric: str | None
    key_metric_value: float | None
    artifact_size: int
    selection: dict[str, Any] | None = Field(None, description="How the version's configuration was chosen: a "
                                             "hyperparameter search's trials (kind, method, objective, trials "
                                             "[{number, params, cv_mean, cv_std, seconds, error}], chosen, reason) "
                                             "or AutoML's; null: the model's code as written.")

    @classmethod
    def fields_of(cls, v: Version) -> dict[str, Any]:
        task = v.manifest.get("task")
        key = TaskType(task).key_metric if task in {t.value for t in TaskType} else None
        value = v.metrics.get(key) if key else None
        return dict(
            model=v.model, version=v.version, active=v.active, created_at=v.created_at,
            run_id=v.manifest.get("run_id"), task=task, rows=(v.manifest.get("data") or {}).get("rows"),
            metrics=v.metrics, key_metric=key,
            key_metric_value=float(value) if isinstance(value, int | float) else None,
            artifact_size=v.artifact_size, selection=v.manifest.get("selection"),
        )

    @classmethod
    def of(cls, v: Version) -> VersionPublic:
        return cls(**cls.fields_of(v))


class VersionDetailPublic(VersionPublic):
    artifact_sha256: str
    manifest: dict[str, Any]

    @classmethod
    def of(cls, v: Version) -> VersionDetailPublic:
        return cls(**cls.fields_of(v), artifact_sha256=v.artifact_sha256, manifest=v.manifest)
