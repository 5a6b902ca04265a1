"""Entities returned by the store and passed between services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from softquery.domain.options import DeployStrategy, WriteMode


class RunKind(StrEnum):
    TRAIN = "train"
    PREDICT = "predict"
    TRAIN_THEN_PREDICT = "train_then_predict"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


class RunTrigger(StrEnum):
    CLI = "cli"
    API = "api"
    WEB = "web"
    SCHEDULE = "schedule"


@dataclass
class DataSource:
    name: str
    url: str
    created_at: datetime | None = None


@dataclass
class Model:
    name: str
    source: str
    code: str
    train_sql: str
    predict_sql: str
    description: str = ""
    template: str | None = None
    label: str | None = None
    id_columns: list[str] | None = None
    output_table: str | None = None
    write_mode: WriteMode = WriteMode.REPLACE
    deploy: DeployStrategy = DeployStrategy.MOST_RECENT
    active_version: int | None = None
    schedule: str | None = None
    schedule_action: RunKind | None = None
    schedule_timezone: str | None = None
    schedule_since: datetime | None = None
    time_limit_seconds: int | None = None
    memory_limit_mb: int | None = None
    # model selection: folds of the cross-validation (None: 5), the column that orders the rows
    # for ordered folds, a hyperparameter search ({"method", "params", "trials"}), and the
    # time budget of a search or of AutoML
    cv_folds: int | None = None
    order_column: str | None = None
    search: dict[str, Any] | None = None
    time_budget_seconds: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    owner_id: int | None = None  # the user who created it; None: admins only (CLI-made)
    owner: str | None = None  # the owner's username

    @property
    def default_table(self) -> str:
        """The output table a model without ``output_table`` writes; reserved from its creation."""
        return f"{self.name}_prediction"

    @property
    def target_table(self) -> str:
        return self.output_table or self.default_table


@dataclass
class Version:
    model: str
    version: int
    created_at: datetime
    manifest: dict[str, Any]
    signature: str
    artifact_sha256: str
    artifact_size: int
    active: bool = False

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.manifest.get("metrics") or {})


@dataclass
class Run:
    id: str
    model: str
    kind: RunKind
    status: RunStatus
    trigger: RunTrigger
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    phase: str | None = None
    progress: float | None = None
    stdout: str = ""
    stderr: str = ""
    error_code: str | None = None
    error_message: str | None = None
    error_details: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    heartbeat_at: datetime | None = None
    stop_requested_at: datetime | None = None
    worker: str | None = None
    scheduled_for: datetime | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


@dataclass(frozen=True)
class OutputTableClaim:
    """A table of a data source held for one model (by name): reserved when the model was saved
    with it as its output table or default, ``written`` once a batch prediction wrote it."""

    source: str
    table: str
    model: str
    written: bool
