"""Use cases for model definitions: create, update, show, list, delete, duplicate."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from softquery.clock import utcnow
from softquery.config import Settings
from softquery.domain import DeployStrategy, Model, Run, TaskType, WriteMode
from softquery.errors import ConflictError, InvalidInputError
from softquery.identifiers import check_identifier
from softquery.modelcode.checks import CodeProblem, check_code, require_valid_code
from softquery.modelcode.template_parameters import Literal, with_parameters
from softquery.modelcode.templates import template_code
from softquery.services import audit
from softquery.services.context import ServiceContext
from softquery.services.model_selection import apply_selection, recheck_search
from softquery.services.output_tables import check_target_free, release_tables, reserve_tables
from softquery.services.run_limits import LIMITS, check_limit, maximum
from softquery.services.schedules import apply_schedule, next_fire_time
from softquery.services.text_limits import MAX_CHARS, check_length
from softquery.store.models_repo import EDITABLE
from softquery.store.sql_functions_repo import SqlFunctionRepository

MAX_COPY_NAME = 63 - len("_prediction")  # its output table <copy>_prediction is an identifier too


@dataclass
class ModelSpec:
    """Fields a user may set; ``None`` means "not given" (keep / default)."""

    source: str | None = None
    template: str | None = None
    code: str | None = None
    train_sql: str | None = None
    predict_sql: str | None = None
    label: str | None = None
    id_columns: list[str] | None = None
    output_table: str | None = None
    write_mode: str | None = None
    deploy: str | None = None
    description: str | None = None
    schedule: str | None = None  # cron expression or hourly|daily|weekly
    schedule_action: str | None = None  # train|predict|train_then_predict (default train)
    schedule_timezone: str | None = None  # IANA name (default UTC)
    time_limit_seconds: int | None = None
    memory_limit_mb: int | None = None
    cv_folds: int | None = None
    order_column: str | None = None
    search: dict[str, Any] | None = None  # {"method": grid|random|bayes, "params": {...}, "trials": N}
    time_budget_seconds: int | None = None
    # with ``template``: keyword arguments of its calls and class attributes to set in its code
    # (``template_parameters.with_parameters``, e.g. CREATE MODEL's num_clusters or l2_reg); the
    # model is still that template (its exports, its search space), running the edited code
    template_calls: dict[str, dict[str, Literal]] | None = None
    template_attributes: dict[str, Literal] | None = None
    # optional fields to reset to automatic/default; "schedule" removes the schedule
    clear: set[str] = field(default_factory=set)


CLEARABLE = ("label", "id_columns", "output_table", "schedule", "time_limit_seconds", "memory_limit_mb",
             "cv_folds", "order_column", "search", "time_budget_seconds")


@dataclass
class SavedModel:
    model: Model
    warnings: list[CodeProblem]


def _enum(enum: Any, value: str, what: str) -> Any:
    try:
        return enum(value)
    except ValueError as exc:
        choices = ", ".join(e.value for e in enum)
        raise InvalidInputError(f"{what} {value!r} is not valid; choose one of: {choices}.",
                                details={"field": what, "value": value}) from exc


def _apply(settings: Settings, model: Model, spec: ModelSpec) -> Model:
    for name in MAX_CHARS:
        value = getattr(spec, name, None)
        if isinstance(value, str):
            check_length(name, value)  # first: nothing below works on a text that is too long
    if spec.template is not None and spec.code is not None:
        raise InvalidInputError("Give either a template or model code, not both.")
    if spec.template is not None:
        model.code = template_code(spec.template)
        if spec.template_calls or spec.template_attributes:
            model.code = with_parameters(model.code, spec.template_calls, spec.template_attributes)
        model.template = spec.template
    elif spec.code is not None:
        model.code = spec.code
        model.template = None
    for name in ("source", "train_sql", "predict_sql", "description"):
        value = getattr(spec, name)
        if value is not None:
            setattr(model, name, value)
    if spec.label is not None:
        model.label = check_identifier(spec.label, "label column") if spec.label else None
    if spec.id_columns is not None:
        model.id_columns = [check_identifier(c, "id column") for c in spec.id_columns] or None
    if spec.output_table is not None:
        model.output_table = check_identifier(spec.output_table, "output table") if spec.output_table else None
    if spec.write_mode is not None:
        model.write_mode = _enum(WriteMode, spec.write_mode, "write mode")
    if spec.deploy is not None:
        model.deploy = _enum(DeployStrategy, spec.deploy, "deploy strategy")
    for name in LIMITS:
        value = getattr(spec, name)
        if value is not None:
            setattr(model, name, check_limit(settings, name, value))
    apply_selection(model, cv_folds=spec.cv_folds, order_column=spec.order_column, search=spec.search,
                    time_budget_seconds=spec.time_budget_seconds)
    for name in spec.clear:
        if name not in CLEARABLE:
            raise InvalidInputError(f"{name} cannot be reset.")
        if name != "schedule":
            setattr(model, name, None)
    recheck_search(model)
    apply_schedule(model, schedule=spec.schedule, action=spec.schedule_action,
                   timezone=spec.schedule_timezone, clear="schedule" in spec.clear)
    return model


def _validate(ctx: ServiceContext, model: Model) -> list[CodeProblem]:
    check_identifier(model.name, "model name")
    ctx.sources.get(model.source)
    for what, sql in (("train query", model.train_sql), ("predict query", model.predict_sql)):
        if not sql or not sql.strip():
            raise InvalidInputError(f"The {what} is empty; write the SELECT that returns its rows.",
                                    details={"field": what})
    check_identifier(model.target_table, "output table")
    return require_valid_code(model.code)


def create_model(ctx: ServiceContext, name: str, spec: ModelSpec) -> SavedModel:
    check_identifier(name, "model name")
    if spec.source is None:
        raise InvalidInputError("A model needs a data source (--source NAME).", details={"field": "source"})
    if spec.template is None and spec.code is None:
        raise InvalidInputError("A model needs code: choose a --template or give --code-file.",
                                details={"field": "code"})
    draft = Model(name=name, source=spec.source, code="", train_sql="", predict_sql="",
                  owner_id=ctx.actor.user_id)
    model = _apply(ctx.settings, draft, spec)
    warnings = _validate(ctx, model)
    check_target_free(ctx, model)
    saved = SavedModel(ctx.models.add(model), warnings)
    try:
        reserve_tables(ctx, saved.model)
    except ConflictError:  # another model took the table since the check
        ctx.models.delete(name)
        raise
    audit.record(ctx, "model.create", "model", name, {"source": model.source, "template": model.template})
    return saved


def update_model(ctx: ServiceContext, name: str, spec: ModelSpec) -> SavedModel:
    before = ctx.models.get(name)
    model = _apply(ctx.settings, replace(before), spec)  # _apply changes the model it is given
    warnings = _validate(ctx, model)
    check_target_free(ctx, model)
    saved = SavedModel(ctx.models.save(model), warnings)
    try:
        reserve_tables(ctx, saved.model)
    except ConflictError:  # another model took the table since the check
        ctx.models.save(before)
        raise
    changed = sorted(f for f in EDITABLE if getattr(before, f) != getattr(saved.model, f))
    audit.record(ctx, "model.update", "model", name, {"changed": changed})
    return saved


def get_model(ctx: ServiceContext, name: str) -> Model:
    return ctx.models.get(name)


def list_models(ctx: ServiceContext) -> list[Model]:
    return ctx.models.list()


def delete_model(ctx: ServiceContext, name: str) -> None:
    ctx.models.delete(name)
    release_tables(ctx, name)
    # an MLSQL function registered for it would call whichever model takes the name next
    functions = SqlFunctionRepository(ctx.engine).remove_for_model(name)
    audit.record(ctx, "model.delete", "model", name, {"functions": functions} if functions else None)


def duplicate_model(ctx: ServiceContext, name: str, new_name: str) -> Model:
    """A copy of model ``name``; a time or memory limit above today's maximum (saved before the
    maximum was lowered) is copied as the maximum, which is what a run of the original gets."""
    check_identifier(new_name, "model name")
    copy = _copy_of(ctx, ctx.models.get(name), new_name)
    check_target_free(ctx, copy)
    created = ctx.models.add(copy)
    try:
        reserve_tables(ctx, created)
    except ConflictError:  # another model took the table since the check
        ctx.models.delete(new_name)
        raise
    audit.record(ctx, "model.duplicate", "model", new_name, {"from": name})
    return created


def _copy_of(ctx: ServiceContext, original: Model, new_name: str) -> Model:
    copy = replace(original, name=new_name, active_version=None, created_at=None, updated_at=None,
                   output_table=None if original.output_table is None else f"{new_name}_prediction",
                   schedule_since=utcnow() if original.schedule else None,  # no past slot fires
                   owner_id=ctx.actor.user_id, owner=None)
    for limit in LIMITS:
        value = getattr(copy, limit)
        if value is not None:
            setattr(copy, limit, min(value, maximum(ctx.settings, limit)))
    return copy


def suggest_copy_name(ctx: ServiceContext, name: str, *, taken: str | None = None) -> str:
    """A free name for a copy of model ``name``: ``name_copy``, else ``name_copy_2``, ``_3`` …
    (free: no model has it and its output table is not another model's). ``taken``: a name
    the user asked for that is in use; its own ``_2``, ``_3`` … are tried first."""
    original = ctx.models.get(name)
    existing = {m.name for m in ctx.models.list()}
    bases = [(stem, tail) for stem, tail in ((taken, ""), (name, "_copy")) if stem]
    for stem, tail in bases:
        for n in range(1, 1000):
            suffix = tail + ("" if n == 1 else f"_{n}")
            candidate = stem[:MAX_COPY_NAME - len(suffix)] + suffix
            if candidate in existing or not _is_identifier(candidate):
                continue
            try:
                check_target_free(ctx, _copy_of(ctx, original, candidate))
            except ConflictError:
                continue
            return candidate
    return f"{name}_copy"[:MAX_COPY_NAME]


def _is_identifier(name: str) -> bool:
    try:
        check_identifier(name, "model name")
    except InvalidInputError:
        return False
    return True


def set_owner(ctx: ServiceContext, name: str, username: str | None) -> Model:
    """Make ``username`` the owner of model ``name`` (None or "": no owner, only admins change it)."""
    before = ctx.models.get(name)
    user = ctx.users.get(username) if username else None
    ctx.models.set_owner(name, user.id if user else None)
    audit.record(ctx, "model.set_owner", "model", name,
                 {"from": before.owner, "to": user.username if user else None})
    return ctx.models.get(name)


@dataclass
class ModelOverview:
    """A model with what a list of models shows next to it."""

    model: Model
    warnings: list[CodeProblem]
    key_metric: str | None = None  # name of the active version's key metric (r2, f1, silhouette)
    key_metric_value: float | None = None
    last_run: Run | None = None
    next_run_at: datetime | None = None


def model_overview(ctx: ServiceContext, model: Model) -> ModelOverview:
    """Active version's key metric, last run and next scheduled run of ``model``."""
    overview = ModelOverview(model=model, next_run_at=next_fire_time(model),
                             warnings=[p for p in check_code(model.code) if p.severity == "warning"])
    if model.active_version is not None:
        manifest = ctx.versions.get(model.name, model.active_version).manifest
        try:
            task = TaskType(str(manifest.get("task")))
        except ValueError:
            task = None
        if task is not None:
            overview.key_metric = task.key_metric
            value = (manifest.get("metrics") or {}).get(task.key_metric)
            overview.key_metric_value = float(value) if isinstance(value, int | float) else None
    runs = ctx.runs.list(model.name, None, 1)
    overview.last_run = runs[0] if runs else None
    return overview
