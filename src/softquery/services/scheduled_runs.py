"""One scheduler tick: queue the runs that are due at ``now``. Never trains.

For each model with a schedule, the slot is the latest one at or before
``now``. It fires when it is not older than ``schedule_since`` (setting a
schedule never fires a slot from the past) and no scheduler fired it yet.
After downtime only the latest missed slot is due, so it runs once, not once
per missed slot. The claim is a unique row per (model, slot) in the metadata
DB, so any number of schedulers ticking at once queue each slot exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from softquery.cron import parse_schedule
from softquery.domain import Model, RunKind
from softquery.domain.accounts import Principal
from softquery.errors import SoftqueryError
from softquery.services import audit
from softquery.services.context import ServiceContext

log = logging.getLogger(__name__)

Submit = Callable[[str], None]
SCHEDULER = Principal.system("scheduler")  # the audit log's actor for scheduled runs


def due_slot(model: Model, now: datetime) -> datetime | None:
    """The slot of ``model`` that should have fired by ``now``, if any."""
    if not model.schedule:
        return None
    schedule = parse_schedule(model.schedule, model.schedule_timezone or "UTC")
    slot = schedule.latest_at_or_before(now)
    if slot is None:
        return None
    if model.schedule_since is not None and slot < model.schedule_since:
        return None
    return slot


def tick(ctx: ServiceContext, now: datetime, submit: Submit) -> list[str]:
    """Queue every due, not yet fired slot; hand each new run id to ``submit``
    after its transaction committed. Returns the new run ids."""
    if now.tzinfo is None:
        raise ValueError("tick needs a timezone-aware `now`")
    ctx = ctx.acting_as(SCHEDULER)
    repo = ctx.schedules
    fired: list[str] = []
    for model in repo.scheduled_models():
        try:
            slot = due_slot(model, now)
        except SoftqueryError as exc:
            log.warning("model %s has an unusable schedule %r: %s", model.name, model.schedule, exc)
            continue
        if slot is None or repo.was_fired(model.name, slot):
            continue
        kind = RunKind(model.schedule_action or RunKind.TRAIN)
        run_id = repo.fire(model.name, slot, kind)
        if run_id is None:
            continue
        log.info("schedule of model %s fired slot %s: run %s (%s)", model.name, slot.isoformat(),
                 run_id, kind.value)
        fired.append(run_id)
        try:
            audit.record(ctx, f"model.{kind.value}", "model", model.name,
                         {"run": run_id, "trigger": "schedule", "slot": slot.isoformat()})
        except Exception:  # the run is queued either way; a lost audit line must not stop it
            log.exception("could not record scheduled run %s of model %s in the audit log", run_id, model.name)
        try:
            submit(run_id)
        except Exception:  # the run stays queued in the DB; an executor can still pick it up
            log.exception("could not submit scheduled run %s of model %s", run_id, model.name)
    return fired
