"""The model editor's form: what the user typed, turned into a ModelSpec, and errors put by their field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, field_validator

from softquery.domain import Model
from softquery.errors import InvalidInputError, SoftqueryError
from softquery.services.code import template_code
from softquery.services.models import ModelSpec

SCHEDULE_PRESETS = ("hourly", "daily", "weekly")

# The "field" a service names in an error's details -> the form field it belongs to.
FIELD_ALIASES = {
    "model name": "name", "model": "name", "source": "source", "source name": "source",
    "code": "code", "problems": "code", "template": "template",
    "train query": "train_sql", "predict query": "predict_sql",
    "label column": "label", "label": "label", "id column": "id_columns", "id_columns": "id_columns",
    "output table": "output_table", "write mode": "write_mode", "deploy strategy": "deploy",
    "schedule": "schedule", "schedule_action": "schedule_action", "schedule_timezone": "schedule_timezone",
    "time_limit_seconds": "time_limit_seconds", "memory_limit_mb": "memory_limit_mb",
}


class EditorForm(BaseModel):
    """Every field of the editor, exactly as typed (all text; empty means "not set")."""

    name: str = ""
    description: str = ""
    source: str = ""
    template: str = ""
    code: str = ""
    train_sql: str = ""
    predict_sql: str = ""
    label: str = ""
    id_columns: str = ""
    output_table: str = ""
    write_mode: str = "replace"
    deploy: str = "most_recent"
    schedule_preset: str = ""
    schedule: str = ""
    schedule_action: str = "train"
    schedule_timezone: str = ""
    time_limit_seconds: str = ""
    memory_limit_mb: str = ""

    @field_validator("code", "train_sql", "predict_sql", "description", mode="before")
    @classmethod
    def _unix_newlines(cls, value: object) -> object:
        # Browsers submit a textarea's line breaks as CRLF; store what the user sees.
        return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value

    @classmethod
    def of(cls, model: Model) -> EditorForm:
        schedule = model.schedule or ""
        preset = schedule if schedule in SCHEDULE_PRESETS else ("custom" if schedule else "")
        return cls(
            name=model.name, description=model.description, source=model.source,
            template=model.template or "", code=model.code, train_sql=model.train_sql,
            predict_sql=model.predict_sql, label=model.label or "",
            id_columns=", ".join(model.id_columns or []), output_table=model.output_table or "",
            write_mode=model.write_mode.value, deploy=model.deploy.value, schedule_preset=preset,
            schedule="" if preset != "custom" else schedule,
            schedule_action=model.schedule_action.value if model.schedule_action else "train",
            schedule_timezone=model.schedule_timezone or "",
            time_limit_seconds="" if model.time_limit_seconds is None else str(model.time_limit_seconds),
            memory_limit_mb="" if model.memory_limit_mb is None else str(model.memory_limit_mb),
        )

    @property
    def schedule_expression(self) -> str:
        if self.schedule_preset in SCHEDULE_PRESETS:
            return self.schedule_preset
        return self.schedule.strip() if self.schedule_preset == "custom" else ""

    def id_column_list(self) -> list[str]:
        return [c.strip() for c in self.id_columns.split(",") if c.strip()]


@dataclass
class FormErrors:
    fields: dict[str, str] = field(default_factory=dict)
    general: str | None = None
    code_problems: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def _limit(value: str, name: str, what: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInputError(f"The {what} must be a whole number above 0; got {text!r}.",
                                details={"field": name, "value": text}) from None


def _uses_template(form: EditorForm) -> bool:
    if not form.template:
        return False
    try:
        return template_code(form.template).strip() == form.code.strip()
    except SoftqueryError:
        return False


def to_spec(form: EditorForm, *, updating: bool) -> ModelSpec:
    """The ModelSpec of the form. Updating: an emptied optional field goes back to automatic."""
    spec = ModelSpec(
        source=form.source or None,
        train_sql=form.train_sql, predict_sql=form.predict_sql, description=form.description,
        write_mode=form.write_mode or None, deploy=form.deploy or None,
        time_limit_seconds=_limit(form.time_limit_seconds, "time_limit_seconds", "time limit (seconds)"),
        memory_limit_mb=_limit(form.memory_limit_mb, "memory_limit_mb", "memory limit (MB)"),
    )
    if _uses_template(form):
        spec.template = form.template
    else:
        spec.code = form.code
    optional = {"label": form.label.strip() or None, "id_columns": form.id_column_list() or None,
                "output_table": form.output_table.strip() or None}
    for name, value in optional.items():
        if value is not None:
            setattr(spec, name, value)
        elif updating:
            spec.clear.add(name)
    for name in ("time_limit_seconds", "memory_limit_mb"):
        if getattr(spec, name) is None and updating:
            spec.clear.add(name)
    expression = form.schedule_expression
    if expression:
        spec.schedule = expression
        spec.schedule_action = form.schedule_action or None
        spec.schedule_timezone = form.schedule_timezone.strip() or None
    elif form.schedule_preset == "custom":
        raise InvalidInputError("Write a cron expression (for example '30 6 * * 1-5') or pick a preset.",
                                details={"field": "schedule"})
    elif updating:
        spec.clear.add("schedule")
    return spec


def errors_of(exc: SoftqueryError) -> FormErrors:
    """Put a service's error next to the field it is about (or on top of the form)."""
    errors = FormErrors()
    details = exc.details or {}
    problems = details.get("problems")
    if isinstance(problems, list):
        errors.code_problems = [p for p in problems if isinstance(p, dict)]
    target = None
    named = details.get("field")
    if isinstance(named, str):
        target = FIELD_ALIASES.get(named, named if named in EditorForm.model_fields else None)
    elif errors.code_problems:
        target = "code"
    else:
        target = next((FIELD_ALIASES[k] for k in ("source", "template", "model") if k in details), None)
    if target is not None:
        errors.fields[target] = exc.message
    else:
        errors.general = exc.message
    return errors
