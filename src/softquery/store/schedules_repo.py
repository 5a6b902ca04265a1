"""Repository of schedule slots: claiming a slot and queueing its run is one transaction.

``schedule_fires`` has UNIQUE(model_id, slot_at): whichever scheduler inserts
the slot first creates the run; every other scheduler gets a unique violation
and creates nothing. That is a database guarantee, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from softquery.clock import utcnow
from softquery.domain import Model, RunKind, RunStatus, RunTrigger
from softquery.store.database import write_tx
from softquery.store.models_repo import SELECT_MODELS
from softquery.store.models_repo import _entity as model_entity
from softquery.store.tables import models, runs, schedule_fires

log = logging.getLogger(__name__)


class ScheduleRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def scheduled_models(self) -> list[Model]:
        """Every model that has a schedule, by name."""
        query = SELECT_MODELS.where(models.c.schedule.is_not(None)).order_by(models.c.name)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [model_entity(r) for r in rows]

    def was_fired(self, model_name: str, slot_at: datetime) -> bool:
        """True when some scheduler already fired this slot (a cheap pre-check; ``fire`` decides)."""
        query = (
            select(schedule_fires.c.id)
            .join(models, models.c.id == schedule_fires.c.model_id)
            .where(models.c.name == model_name, schedule_fires.c.slot_at == _utc(slot_at))
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def fire(self, model_name: str, slot_at: datetime, kind: RunKind) -> str | None:
        """Claim ``slot_at`` of the model and queue its run; the new run id, or None when
        the slot was already claimed (or the model is gone): then nothing is created."""
        slot = _utc(slot_at)
        run_id = uuid.uuid4().hex[:12]
        now = utcnow()
        try:
            # The first statement that writes is the claim: on SQLite it takes the write
            # lock (waiting for a concurrent claim to commit), on PostgreSQL it waits on the
            # unique index; the loser of a race gets the unique violation.
            with write_tx(self.engine) as conn:
                model_id = conn.execute(select(models.c.id).where(models.c.name == model_name)).scalar()
                if model_id is None:
                    return None
                conn.execute(
                    insert(schedule_fires).values(
                        model_id=model_id, slot_at=slot, run_id=run_id, created_at=now
                    )
                )
                conn.execute(
                    insert(runs).values(
                        id=run_id, model_id=model_id, kind=RunKind(kind).value,
                        status=RunStatus.QUEUED.value, trigger=RunTrigger.SCHEDULE.value,
                        created_at=now, stdout="", stderr="", scheduled_for=slot,
                    )
                )
        except IntegrityError:
            log.debug("slot %s of model %s was already fired", slot.isoformat(), model_name)
            return None
        return run_id


def _utc(value: datetime) -> datetime:
    """Slots are compared by value, so always store them as UTC (SQLite drops the offset)."""
    if value.tzinfo is None:
        raise ValueError("schedule slots must be timezone-aware")
    return value.astimezone(UTC)
