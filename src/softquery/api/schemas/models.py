"""Model definitions: Create, Update (PATCH) and Public.

The fields are typed here (the API's contract); their descriptions and how a model's
values are shown come from ``services.model_settings``, shared with the CLI and the web."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from softquery.api.schemas.code import CodeProblemPublic
from softquery.api.schemas.patterns import IDENTIFIER_PATTERN, documented
from softquery.api.schemas.runs import RunSummary
from softquery.domain import DeployStrategy, RunKind, WriteMode
from softquery.services.model_settings import SETTINGS, setting_values
from softquery.services.models import CLEARABLE, ModelOverview, ModelSpec
from softquery.services.text_limits import MAX_CHARS


def _doc(name: str) -> str:
    """The setting's one sentence of help, shared with the CLI's --help (``services.model_settings``)."""
    return SETTINGS[name].api_help()


def _text(name: str) -> JsonDict:
    """The longest text the service stores in field ``name`` (documentation: it checks it)."""
    return {"maxLength": MAX_CHARS[name][1]}


class SearchRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: list[str | int | float | bool | None] | None = Field(None, description="Values to try.")
    low: int | float | None = Field(None, description="Lowest value of a range (random, bayes; grid: 5 points).")
    high: int | float | None = Field(None, description="Highest value of a range.")
    log: bool | None = Field(None, description="Draw the range on a log scale (low above 0).")


class SearchFields(BaseModel):
    """{"method": "grid", "params": {"alpha": {"values": [0.1, 1, 10]}}, "trials": 20}"""

    model_config = ConfigDict(extra="forbid")

    method: Literal["grid", "random", "bayes"] | None = Field(None, description="grid (default with values "
                                                              "only), random or bayes (Optuna's TPE).")
    params: dict[str, SearchRange] | None = Field(None, description="Template parameter name (see GET "
                                                  "/api/v1/templates/{name}) or Call.keyword -> values or range; "
                                                  "{} takes its defaults.")
    trials: int | None = Field(None, ge=1, description="Try at most this many configurations.")
    objective: str | None = Field(None, description="The CV metric to choose by (r2, mae, rmse, f1, accuracy, "
                                  "...); default: the task's key metric.")
    configs: list[dict[str, str | int | float | bool | None]] | None = Field(
        None, description="Explicit configurations to try (grid), e.g. MLSQL's fitParam groups.")


class _ModelFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str | None = Field(None, description=_doc("template"))
    code: str | None = Field(None, description=_doc("code"), json_schema_extra=_text("code"))
    label: str | None = Field(None, description=_doc("label"))
    id_columns: list[str] | None = Field(None, description=_doc("id_columns"))
    output_table: str | None = Field(None, description=_doc("output_table"))
    write_mode: WriteMode | None = Field(None, description=_doc("write_mode"))
    deploy: DeployStrategy | None = Field(None, description=_doc("deploy"))
    schedule: str | None = Field(None, description=_doc("schedule"), json_schema_extra=_text("schedule"))
    schedule_action: RunKind | None = Field(None, description=_doc("schedule_action"))
    schedule_timezone: str | None = Field(None, description=_doc("schedule_timezone"))
    time_limit_seconds: int | None = Field(None, ge=1, description=_doc("time_limit_seconds"))
    memory_limit_mb: int | None = Field(None, ge=1, description=_doc("memory_limit_mb"))
    cv_folds: int | None = Field(None, description=_doc("cv_folds"))
    order_column: str | None = Field(None, description=_doc("order_column"))
    search: SearchFields | None = Field(None, description=_doc("search"))
    time_budget_seconds: int | None = Field(None, ge=1, description=_doc("time_budget_seconds"))

    def to_spec(self) -> ModelSpec:
        """Given fields only; on PATCH, null resets a clearable field (label, schedule, ...)."""
        spec = ModelSpec()
        for name in self.model_fields_set - {"name"}:
            value = getattr(self, name)
            if value is None:
                if name in CLEARABLE:
                    spec.clear.add(name)
                continue  # null elsewhere: unchanged
            if isinstance(value, BaseModel):
                value = value.model_dump(exclude_none=True)
            setattr(spec, name, value.value if hasattr(value, "value") else value)
        return spec


class ModelCreate(_ModelFields):
    name: str = Field(description="Letters, digits and underscores, e.g. house_prices.",
                      json_schema_extra=documented(IDENTIFIER_PATTERN))
    source: str = Field(description=_doc("source"))
    train_sql: str = Field(description=_doc("train_sql"), json_schema_extra=_text("train_sql"))
    predict_sql: str = Field(description=_doc("predict_sql"), json_schema_extra=_text("predict_sql"))
    description: str = Field("", description=_doc("description"), json_schema_extra=_text("description"))

    def to_spec(self) -> ModelSpec:
        spec = super().to_spec()
        spec.clear = set()  # nothing to reset on a new model
        return spec


class ModelUpdate(_ModelFields):
    """Only the fields present change. ``null`` resets label, id_columns, output_table,
    schedule (like --no-schedule), time_limit_seconds, memory_limit_mb, cv_folds and order_column."""

    source: str | None = Field(None, description=_doc("source"))
    train_sql: str | None = Field(None, description=_doc("train_sql"), json_schema_extra=_text("train_sql"))
    predict_sql: str | None = Field(None, description=_doc("predict_sql"), json_schema_extra=_text("predict_sql"))
    description: str | None = Field(None, description=_doc("description"), json_schema_extra=_text("description"))


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
    cv_folds: int | None = Field(description="Cross-validation folds; null: the server's SOFTQUERY_CV_FOLDS (5 unless set).")
    order_column: str | None = Field(description="Column cross-validation orders the rows by; null: shuffled folds.")
    search: dict[str, Any] | None = Field(description="The hyperparameter search, checked (see ModelCreate).")
    time_budget_seconds: int | None
    created_at: datetime | None
    updated_at: datetime | None
    warnings: list[CodeProblemPublic] = Field(description="Advice about the code (never blocks saving).")

    @classmethod
    def of(cls, o: ModelOverview) -> ModelPublic:
        m = o.model
        return cls(
            name=m.name, owner=m.owner, **setting_values(m), target_table=m.target_table,
            active_version=m.active_version,
            active_metric=None if o.key_metric is None else MetricPublic(name=o.key_metric,
                                                                         value=o.key_metric_value),
            last_run=None if o.last_run is None else RunSummary.of(o.last_run),
            next_run_at=o.next_run_at, created_at=m.created_at, updated_at=m.updated_at,
            warnings=[CodeProblemPublic.of(p) for p in o.warnings],
        )
