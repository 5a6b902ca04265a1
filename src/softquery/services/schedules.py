"""Use cases for model schedules: set, clear, next fire time."""

from __future__ import annotations

from datetime import datetime, timedelta

from softquery.clock import utcnow
from softquery.cron import parse_schedule
from softquery.domain import Model, RunKind
from softquery.errors import InvalidInputError, SoftqueryError
from softquery.services import audit
from softquery.services.context import ServiceContext

DEFAULT_TIMEZONE = "UTC"
DEFAULT_ACTION = RunKind.TRAIN


def _action(value: str | RunKind) -> RunKind:
    try:
        return RunKind(value)
    except ValueError as exc:
        choices = ", ".join(k.value for k in RunKind)
        raise InvalidInputError(f"Schedule action {value!r} is not valid; choose one of: {choices}.",
                                details={"field": "schedule_action", "value": value}) from exc


def apply_schedule(
    model: Model,
    *,
    schedule: str | None = None,
    action: str | RunKind | None = None,
    timezone: str | None = None,
    clear: bool = False,
    now: datetime | None = None,
) -> Model:
    """Change the schedule fields of ``model`` in place (``None`` = keep).

    ``schedule_since`` moves to ``now`` whenever the schedule or its time zone
    changes, so a new schedule never fires a slot from the past."""
    if clear:
        if schedule is not None or action is not None or timezone is not None:
            raise InvalidInputError("Give either a new schedule or --no-schedule, not both.")
        model.schedule = model.schedule_action = model.schedule_timezone = model.schedule_since = None
        return model
    if schedule is None and model.schedule is None:
        if action is not None or timezone is not None:
            raise InvalidInputError(
                f"Model {model.name!r} has no schedule yet; give one with --schedule "
                "(e.g. --schedule daily or --schedule '0 6 * * *').",
                details={"field": "schedule"},
            )
        return model
    old = (model.schedule, model.schedule_timezone)
    new_expr = model.schedule if schedule is None else schedule
    new_tz = timezone if timezone is not None else (model.schedule_timezone or DEFAULT_TIMEZONE)
    parsed = parse_schedule(new_expr or "", new_tz)
    model.schedule = parsed.expression
    model.schedule_timezone = parsed.timezone
    if action is not None:
        model.schedule_action = _action(action)
    elif model.schedule_action is None:
        model.schedule_action = DEFAULT_ACTION
    if (model.schedule, model.schedule_timezone) != old or model.schedule_since is None:
        model.schedule_since = now or utcnow()
    return model


def set_schedule(
    ctx: ServiceContext,
    name: str,
    schedule: str,
    *,
    action: str | RunKind | None = None,
    timezone: str | None = None,
    now: datetime | None = None,
) -> Model:
    model = apply_schedule(ctx.models.get(name), schedule=schedule, action=action, timezone=timezone,
                           now=now)
    saved = ctx.models.save(model)
    audit.record(ctx, "model.schedule", "model", name, {"schedule": schedule, "action": str(saved.schedule_action)})
    return saved


def clear_schedule(ctx: ServiceContext, name: str) -> Model:
    saved = ctx.models.save(apply_schedule(ctx.models.get(name), clear=True))
    audit.record(ctx, "model.schedule", "model", name, {"schedule": None})
    return saved


def next_fire_time(model: Model, now: datetime | None = None) -> datetime | None:
    """When the schedule of ``model`` fires next (UTC), or None without a (usable) schedule."""
    if not model.schedule:
        return None
    try:
        schedule = parse_schedule(model.schedule, model.schedule_timezone or DEFAULT_TIMEZONE)
    except SoftqueryError:
        return None
    after = now or utcnow()
    if model.schedule_since is not None and model.schedule_since > after:
        after = model.schedule_since - timedelta(microseconds=1)  # a slot at `since` fires
    return schedule.next_after(after)
