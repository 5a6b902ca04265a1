"""What the pages show about models, versions and runs, gathered from the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from softquery.domain import Model, Run, TaskType, Version
from softquery.errors import NotFoundError, SoftqueryError
from softquery.services import cv_figures
from softquery.services import runs as runs_svc
from softquery.services import versions as versions_svc
from softquery.services.context import ServiceContext
from softquery.services.model_catalog import status_of
from softquery.services.schedule_words import ScheduleWords, schedule_words
from softquery.services.schedules import next_fire_time
from softquery.web.number_format import fmt_number
from softquery.web.plain_words import cause_of, plain

LONG_OUTPUT_LINES = 12


def key_metric_of(version: Version | None) -> tuple[str, Any] | None:
    """(metric name, value) of a version's task, e.g. ("r2", 0.93)."""
    if version is None:
        return None
    try:
        name = TaskType(str(version.manifest.get("task"))).key_metric
    except ValueError:
        return None
    value = version.metrics.get(name)
    return None if value is None else (name, value)


def is_active(run: Run | None) -> bool:
    return run is not None and not run.status.finished


@dataclass
class ModelCard:
    model: Model
    last_run: Run | None
    active: Version | None
    key_metric: tuple[str, Any] | None
    next_run_at: datetime | None
    schedule: ScheduleWords | None = None  # "Mondays 00:00 UTC, next 7 Dec"
    going: list[Run] = field(default_factory=list)  # queued or running, oldest first

    @property
    def run(self) -> Run | None:
        """The run the card shows: the one going now (a newer queued run waits for it), else the last."""
        return self.going[0] if self.going else self.last_run

    @property
    def waiting(self) -> list[Run]:
        """Runs queued behind the one the card shows."""
        return self.going[1:]

    @property
    def live(self) -> bool:
        return bool(self.going) or is_active(self.last_run)

    @property
    def status(self) -> str:
        return status_of(self.model, self.run)


def active_version(ctx: ServiceContext, model: Model) -> Version | None:
    if model.active_version is None:
        return None
    try:
        return versions_svc.get_version(ctx, model.name)
    except NotFoundError:
        return None


def last_run(ctx: ServiceContext, model: str) -> Run | None:
    found = runs_svc.list_runs(ctx, model, None, 1)
    return found[0] if found else None


def model_card(ctx: ServiceContext, model: Model) -> ModelCard:
    active = active_version(ctx, model)
    return ModelCard(model=model, last_run=last_run(ctx, model.name), active=active,
                     key_metric=key_metric_of(active), next_run_at=next_fire_time(model),
                     schedule=schedule_words(model), going=runs_svc.going_runs(ctx, model.name))


def run_summary(run: Run, active: int | None = None) -> str:
    """One line saying what a run did (or why it did not); ``active``: the model's active version
    now, so a summary of a training that was rolled back since says which version is active."""
    if run.status.value == "queued":
        return "Waiting for a job slot."
    if run.status.value == "running":
        pct = f" ({run.progress:.0%})" if run.progress is not None else ""
        return f"Running: {run.phase or 'starting'}{pct}"
    if run.status.value == "cancelled":
        return plain(run.error_message) or "Stopped."
    if run.status.value == "failed":
        return f"Failed: {cause_of(run.error_code)}."
    parts = []
    train, predict = run.result.get("train"), run.result.get("predict")
    if train:
        metric = ", ".join(f"{k} {fmt_number(v)}" for k, v in list((train.get("metrics") or {}).items())[:3])
        state = "activated" if train.get("activated") else "not activated"
        if active is not None and active != train.get("version"):
            state += f"; version {active} is active now"
        parts.append(f"Trained version {train.get('version')} on {train.get('rows', 0):,} rows, "
                     f"{state}; {metric}")
        cv = cv_key_of(train)
        if cv:
            parts[-1] += f"; {cv}"
        reason = (train.get("deploy") or {}).get("reason")
        if reason and (train.get("deploy") or {}).get("basis"):  # best_score compared scores: say how
            parts.append(str(reason).rstrip("."))
    if predict:
        parts.append(f"Wrote {predict.get('rows', 0):,} rows to {predict.get('table')}")
    return ". ".join(parts) or "Finished."


def cv_key_of(train: dict[str, Any]) -> str | None:
    """ "CV r2 0.81 ± 0.03 (5-fold)" from a training's result; None when it recorded no CV."""
    cv = train.get("cv")
    metric = cv_figures.key_metric_of(train)
    if not isinstance(cv, dict) or metric is None:
        return None
    mean, std = cv_figures.score(cv, metric)
    return None if mean is None else f"CV {metric} {cv_figures.mean_pm_std(mean, std)} ({cv.get('method_text')})"


def is_long(text: str) -> bool:
    return text.count("\n") > LONG_OUTPUT_LINES or len(text) > 2000


def preview_of(text: str) -> str:
    """The last lines of a long log (the interesting end), shown before "show more"."""
    lines = text.rstrip("\n").split("\n")
    return "\n".join(lines[-LONG_OUTPUT_LINES:])[-2000:]


def safe_versions(ctx: ServiceContext, model: str) -> list[Version]:
    try:
        return versions_svc.list_versions(ctx, model)
    except SoftqueryError:
        return []
