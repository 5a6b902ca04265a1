"""The model editor's form: what the user typed, turned into a ModelSpec, and errors put by their field.

How each setting is shown as text and read back, and what it is called, comes from
``services.model_settings`` (shared with the CLI and the API); this module adds what
only the editor has: the schedule preset, the template-or-own-code choice, the layout
of errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, field_validator

from softquery.domain import Model, RunKind
from softquery.errors import InvalidInputError, SoftqueryError
from softquery.services.code import template_code
from softquery.services.model_selection import SearchRow, search_from_rows, search_rows
from softquery.services.model_settings import FIELD_NAMES, MODEL_SETTINGS, SETTINGS, names_of
from softquery.services.models import ModelSpec
from softquery.web.plain_words import plain

SCHEDULE_PRESETS = ("hourly", "daily", "weekly")
# Save & Train / Save & Predict: the run the editor starts once the model is saved.
THEN_RUN = {"train": RunKind.TRAIN, "predict": RunKind.PREDICT}
_NAME_LABEL = "model name"
# Settings the editor reads its own way (template or own code; schedule preset + expression).
_OWN_WAY = ("template", "code", "schedule", "schedule_action", "schedule_timezone", "search")

# The "field" a service names in an error's details -> the form field it belongs to.
FIELD_ALIASES = {_NAME_LABEL: "name", "model": "name"} | FIELD_NAMES


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
    cv_folds: str = ""
    order_column: str = ""
    # the hyperparameter search: its method ("" none), trials, time budget, and one row per parameter
    search: str = ""
    search_trials: str = ""
    time_budget_seconds: str = ""
    search_param: list[str] = []
    search_values: list[str] = []
    search_low: list[str] = []
    search_high: list[str] = []
    search_log: list[str] = []
    then: str = ""  # which save button: "" (just save), "train" or "predict"

    @field_validator("code", "train_sql", "predict_sql", "description", mode="before")
    @classmethod
    def _unix_newlines(cls, value: object) -> object:
        # Browsers submit a textarea's line breaks as CRLF; store what the user sees.
        return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value

    @classmethod
    def of(cls, model: Model) -> EditorForm:
        texts = {s.name: s.as_text(model) for s in MODEL_SETTINGS}
        schedule = texts.pop("schedule")
        preset = schedule if schedule in SCHEDULE_PRESETS else ("custom" if schedule else "")
        search = model.search or {}
        texts["search"] = str(search.get("method", ""))
        rows = search_rows(model.code, model.template, model.search)
        return cls(name=model.name, schedule_preset=preset, schedule="" if preset != "custom" else schedule,
                   search_trials=str(search.get("trials", "")), search_param=[r.name for r in rows],
                   search_values=[r.values for r in rows], search_low=[r.low for r in rows],
                   search_high=[r.high for r in rows], search_log=["log" if r.log else "" for r in rows],
                   **texts)

    def search_form_rows(self) -> list[SearchRow]:
        """The rows of the search form: as typed, or (nothing typed yet) the template's parameters."""
        if not self.search_param:
            return search_rows(self.code, self.template or None, None)
        hints = {r.name: r.hint for r in search_rows(self.code, self.template or None, None)}
        return [SearchRow(name, values, low, high, log == "log", hints.get(name, ""))
                for name, values, low, high, log in self._search_lists()]

    def _search_lists(self) -> list[tuple[str, str, str, str, str]]:
        n = len(self.search_param)

        def padded(values: list[str]) -> list[str]:
            return (values + [""] * n)[:n]
        return list(zip(self.search_param, padded(self.search_values), padded(self.search_low),
                        padded(self.search_high), padded(self.search_log), strict=True))

    @property
    def schedule_expression(self) -> str:
        if self.schedule_preset in SCHEDULE_PRESETS:
            return self.schedule_preset
        return self.schedule.strip() if self.schedule_preset == "custom" else ""

    def id_column_list(self) -> list[str]:
        return names_of(self.id_columns)


@dataclass
class FormErrors:
    fields: dict[str, str] = field(default_factory=dict)
    general: str | None = None
    code_problems: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    @property
    def first_field_label(self) -> str:
        """What the first field with an error is called (the summary on top of the form links it)."""
        name = next(iter(self.fields), "")
        return _NAME_LABEL if name == "name" else SETTINGS[name].label if name in SETTINGS else name


def _uses_template(form: EditorForm) -> bool:
    if not form.template:
        return False
    try:
        return template_code(form.template).strip() == form.code.strip()
    except SoftqueryError:
        return False


def to_spec(form: EditorForm, *, updating: bool) -> ModelSpec:
    """The ModelSpec of the form. Updating: an emptied optional field goes back to automatic."""
    spec = ModelSpec()
    for setting in MODEL_SETTINGS:
        if setting.name in _OWN_WAY:
            continue
        value = setting.parse(getattr(form, setting.name))
        if value is not None:
            setattr(spec, setting.name, value)
        elif updating and setting.clearable:
            spec.clear.add(setting.name)
    if _uses_template(form):
        spec.template = form.template
    else:
        spec.code = form.code
    search = search_from_rows(form.search, form.search_trials, form._search_lists())
    if search is not None:
        spec.search = search
    elif updating:
        spec.clear.add("search")
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
        errors.fields[target] = plain(exc.message)
    else:
        errors.general = plain(exc.message)
    return errors
