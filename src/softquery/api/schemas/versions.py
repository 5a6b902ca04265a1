"""Trained versions and their manifests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from softquery.domain import TaskType, Version
from softquery.services.cv_figures import cv_of, public, score


class CVMetricPublic(BaseModel):
    mean: float | None = Field(description="Mean over the folds (null: not finite in some fold).")
    std: float | None = Field(description="Population standard deviation over the folds.")
    folds: list[float | None] = Field(description="The metric measured on each fold's held-out rows.")


class CrossValidationPublic(BaseModel):
    method: str = Field(description="kfold | stratified_kfold | ordered | none (too few rows: see notes).")
    method_text: str = Field(description='The method in words: "5-fold, stratified", "4-fold, ordered by day".')
    folds: int | None
    rows: int | None
    order_column: str | None
    metrics: dict[str, CVMetricPublic]
    notes: list[str]
    seconds: float | None


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
    key_metric_value: float | None = Field(description="The key metric on the holdout rows.")
    key_metric_cv_mean: float | None = Field(description="The key metric's cross-validated mean (null: not measured).")
    key_metric_cv_std: float | None = Field(description="Its standard deviation over the folds.")
    cv: CrossValidationPublic | None = Field(description="k-fold cross-validation; null for versions trained "
                                                         "before it was recorded.")
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
        cv = cv_of(v.manifest)
        mean, std = score(cv, key) if key else (None, None)
        return dict(
            model=v.model, version=v.version, active=v.active, created_at=v.created_at,
            run_id=v.manifest.get("run_id"), task=task, rows=(v.manifest.get("data") or {}).get("rows"),
            metrics=v.metrics, key_metric=key,
            key_metric_value=float(value) if isinstance(value, int | float) else None,
            key_metric_cv_mean=mean, key_metric_cv_std=std, cv=public(cv),
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
