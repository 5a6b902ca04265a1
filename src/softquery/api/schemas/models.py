"""Model definitions: Create, Update (PATCH) and Public."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from softquery.api.schemas.code import CodeProblemPublic
from softquery.api.schemas.patterns import IDENTIFIER_PATTERN, documented
from softquery.api.schemas.runs import RunSummary
from softquery.domain import DeployStrategy, RunKind, WriteMode
from softquery.services.models import CLEARABLE, ModelOverview, ModelSpec
from softquery.services.text_limits import MAX_CHARS

_DOC = {
    "source": "Data source name.",
    "template": "Start from this template's code (see /api/v1/templates); not with `code`.",
    "code": "Python source with `class Model` (train(self, X, y), predict(self, X)).",
    "train_sql": "SELECT returning the training rows, label included.",
    "predict_sql": "SELECT returning the rows to predict.",
    "label": "Label column; null: the train column the predict query lacks.",
    "id_columns": "Id columns copied to the output; null: id and *_id columns.",
    "output_table": "Table for predictions; null: <name>_prediction.",
    "schedule": "5-field cron expression or hourly|daily|weekly; null: no schedule.",
    "schedule_action": "What the schedule runs (default train).",
    "schedule_timezone": "IANA time zone the schedule is read in (default UTC).",
    "time_limit_seconds": "Wall-time limit of each run; null: the server's default.",
    "memory_limit_mb": "Memory limit of each run; null: the server's default.",
}


def _text(name: str) -> JsonDict:
    """The longest text the service stores in field ``name`` (documentation: it checks it)."""
    return {"maxLength": MAX_CHARS[name][1]}


class _ModelFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str | None = Field(None, description=_DOC["template"])
    code: str | None = Field(None, description=_DOC["code"], json_schema_extra=_text("code"))
    label: str | None = Field(None, description=_DOC["label"])
    id_columns: list[str] | None = Field(None, description=_DOC["id_columns"])
    output_table: str | None = Field(None, description=_DOC["output_table"])
    write_mode: WriteMode | None = None
    deploy: DeployStrategy | None = Field(None, description="Activate every new version, or only better ones.")
    schedule: str | None = Field(None, description=_DOC["schedule"], json_schema_extra=_text("schedule"))
    schedule_action: RunKind | None = Field(None, description=_DOC["schedule_action"])
    schedule_timezone: str | None = Field(None, description=_DOC["schedule_timezone"])
    time_limit_seconds: int | None = Field(None, ge=1, description=_DOC["time_limit_seconds"])
    memory_limit_mb: int | None = Field(None, ge=1, description=_DOC["memory_limit_mb"])

    def to_spec(self) -> ModelSpec:
        """Given fields only; on PATCH, null resets a clearable field (label, schedule, ...)."""
        spec = ModelSpec()
        for name in self.model_fields_set - {"name"}:
            value = getattr(self, name)
            if value is None:
                if name in CLEARABLE:
                    spec.clear.add(name)
                continue  # null elsewhere: unchanged
            setattr(spec, name, value.value if hasattr(value, "value") else value)
        return spec


class ModelCreate(_ModelFields):
    name: str = Field(description="Letters, digits and underscores, e.g. house_prices.",
                      json_schema_extra=documented(IDENTIFIER_PATTERN))
    source: str = Field(description=_DOC["source"])
    train_sql: str = Field(description=_DOC["train_sql"], json_schema_extra=_text("train_sql"))
    predict_sql: str = Field(description=_DOC["predict_sql"], json_schema_extra=_text("predict_sql"))
    description: str = Field("", json_schema_extra=_text("description"))

    def to_spec(self) -> ModelSpec:
        spec = super().to_spec()
        spec.clear = set()  # nothing to reset on a new model
        return spec


class ModelUpdate(_ModelFields):
    """Only the fields present change. ``null`` resets label, id_columns, output_table,
    schedule (like --no-schedule), time_limit_seconds and memory_limit_mb."""

    source: str | None = Field(None, description=_DOC["source"])
    train_sql: str | None = Field(None, description=_DOC["train_sql"], json_schema_extra=_text("train_sql"))
    predict_sql: str | None = Field(None, description=_DOC["predict_sql"], json_schema_extra=_text("predict_sql"))
    description: str | None = Field(None, json_schema_extra=_text("description"))


class ModelDuplicate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_name: str = Field(description="Letters, digits and underscores.", json_schema_extra=documented(IDENTIFIER_PATTERN))


class MetricPublic(BaseModel):
    name: str
    value: float | None


class ModelPublic(BaseModel):
    name: str
    description: str
    owner: str | None = Field(description="Username of the owner (who may change it, besides admins); "
                                          "null: made from the CLI, changed by admins only.")
    source: str
    template: str | None
    code: str
    train_sql: str
    predict_sql: str
    label: str | None
    id_columns: list[str] | None
    output_table: str | None = Field(description="As set; null means <name>_prediction.")
    target_table: str = Field(description="The table predictions are written to.")
    write_mode: str
    deploy: str
    active_version: int | None
    active_metric: MetricPublic | None = Field(description="Key metric of the active version (holdout).")
    last_run: RunSummary | None
    schedule: str | None
    schedule_action: str | None
    schedule_timezone: str | None
    next_run_at: datetime | None
    time_limit_seconds: int | None
    memory_limit_mb: int | None
    created_at: datetime | None
    updated_at: datetime | None
    warnings: list[CodeProblemPublic] = Field(description="Advice about the code (never blocks saving).")

    @classmethod
    def of(cls, o: ModelOverview) -> ModelPublic:
        m = o.model
        return cls(
            name=m.name, description=m.description, owner=m.owner, source=m.source, template=m.template, code=m.code,
            train_sql=m.train_sql, predict_sql=m.predict_sql, label=m.label, id_columns=m.id_columns,
            output_table=m.output_table, target_table=m.target_table, write_mode=m.write_mode.value,
            deploy=m.deploy.value, active_version=m.active_version,
            active_metric=None if o.key_metric is None else MetricPublic(name=o.key_metric,
                                                                         value=o.key_metric_value),
            last_run=None if o.last_run is None else RunSummary.of(o.last_run),
            schedule=m.schedule, schedule_action=m.schedule_action.value if m.schedule_action else None,
            schedule_timezone=m.schedule_timezone, next_run_at=o.next_run_at,
            time_limit_seconds=m.time_limit_seconds, memory_limit_mb=m.memory_limit_mb,
            created_at=m.created_at, updated_at=m.updated_at,
            warnings=[CodeProblemPublic.of(p) for p in o.warnings],
        )
