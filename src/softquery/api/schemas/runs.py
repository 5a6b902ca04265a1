"""Runs: a train or batch-predict job and its outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from softquery.domain import Run, RunKind


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: RunKind = Field(RunKind.TRAIN, description="train | predict (batch) | train_then_predict")


class RunError(BaseModel):
    code: str | None
    message: str | None
    details: dict[str, Any]


class RunSummary(BaseModel):
    """A run in one line: what a model list shows as its last run."""

    id: str
    kind: str
    status: str
    trigger: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    error_message: str | None

    @classmethod
    def of(cls, run: Run) -> RunSummary:
        return cls(id=run.id, kind=run.kind.value, status=run.status.value, trigger=run.trigger.value,
                   created_at=run.created_at, started_at=run.started_at, finished_at=run.finished_at,
                   duration_seconds=run.duration_seconds, error_message=run.error_message)


class RunPublic(BaseModel):
    id: str
    model: str
    kind: str
    status: str
    trigger: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    scheduled_for: datetime | None
    phase: str | None
    progress: float | None
    error: RunError | None
    result: dict[str, Any] = Field(description=(
        "What the run did. A training's `train`: version, activated, task, holdout metrics, `cv` (method, "
        "folds, each metric's mean and std; null without cross-validation), rows, notes and `deploy` "
        "(strategy, activated, reason in words, basis cv|holdout, metric, the new and the active "
        "version's scores). A prediction's `predict`: version, rows, table, write_mode."))

    @classmethod
    def of(cls, run: Run) -> RunPublic:
        return cls(
            id=run.id, model=run.model, kind=run.kind.value, status=run.status.value,
            trigger=run.trigger.value, created_at=run.created_at, started_at=run.started_at,
            finished_at=run.finished_at, duration_seconds=run.duration_seconds,
            scheduled_for=run.scheduled_for, phase=run.phase, progress=run.progress, result=run.result,
            error=None if run.error_code is None else RunError(
                code=run.error_code, message=run.error_message, details=run.error_details),
        )


class RunLogs(BaseModel):
    id: str
    status: str
    stdout: str
    stderr: str


class RunStopped(RunPublic):
    """The run after a stop; ``message`` says when there was nothing to stop."""
    message: str | None = Field(default=None, description=(
        "Set when the run had already ended (its status is unchanged): \"Run … had already succeeded; "
        "nothing to stop.\"; null when the stop was asked."))
