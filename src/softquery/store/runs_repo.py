"""Repository of runs: the truth about every train and predict."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import RowMapping

from softquery.domain import Run, RunKind, RunStatus, RunTrigger
from softquery.errors import NotFoundError
from softquery.store.clock import as_utc, utcnow
from softquery.store.tables import models, runs


def _entity(row: RowMapping) -> Run:
    return Run(
        id=row["id"],
        model=row["model_name"],
        kind=RunKind(row["kind"]),
        status=RunStatus(row["status"]),
        trigger=RunTrigger(row["trigger"]),
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
        started_at=as_utc(row["started_at"]),
        finished_at=as_utc(row["finished_at"]),
        phase=row["phase"],
        progress=row["progress"],
        stdout=row["stdout"] or "",
        stderr=row["stderr"] or "",
        error_code=row["error_code"],
        error_message=row["error_message"],
        error_details=dict(row["error_details"] or {}),
        result=dict(row["result"] or {}),
        heartbeat_at=as_utc(row["heartbeat_at"]),
        stop_requested_at=as_utc(row["stop_requested_at"]),
        worker=row["worker"],
        scheduled_for=as_utc(row["scheduled_for"]),
    )


def _select() -> Any:
    return select(runs, models.c.name.label("model_name")).join(models, models.c.id == runs.c.model_id)


class RunRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(
        self, model_name: str, kind: RunKind, trigger: RunTrigger, *, scheduled_for: datetime | None = None
    ) -> Run:
        run_id = uuid.uuid4().hex[:12]
        with self.engine.begin() as conn:
            model_id = conn.execute(select(models.c.id).where(models.c.name == model_name)).scalar()
            if model_id is None:
                raise NotFoundError(f"There is no model named {model_name!r}.", details={"model": model_name})
            conn.execute(
                insert(runs).values(
                    id=run_id, model_id=model_id, kind=kind.value, status=RunStatus.QUEUED.value,
                    trigger=trigger.value, created_at=utcnow(), stdout="", stderr="",
                    scheduled_for=scheduled_for,
                )
            )
        return self.get(run_id)

    def get(self, run_id: str) -> Run:
        with self.engine.connect() as conn:
            row = conn.execute(_select().where(runs.c.id == run_id)).mappings().first()
        if row is None:
            raise NotFoundError(
                f"There is no run with id {run_id!r}. See `softquery runs`.", details={"run": run_id}
            )
        return _entity(row)

    def list(self, model_name: str | None = None, status: RunStatus | None = None, limit: int = 50) -> list[Run]:
        query = _select()
        if model_name:
            query = query.where(models.c.name == model_name)
        if status:
            query = query.where(runs.c.status == status.value)
        query = query.order_by(runs.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_entity(r) for r in rows]

    def update(self, run_id: str, **values: Any) -> None:
        for key in ("status", "kind", "trigger"):
            if key in values and hasattr(values[key], "value"):
                values[key] = values[key].value
        with self.engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(**values))

    def mark_running(self, run_id: str) -> None:
        self.update(run_id, status=RunStatus.RUNNING, started_at=utcnow(), phase="starting", progress=0.0)

    def finish(
        self,
        run_id: str,
        status: RunStatus,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
        if status is RunStatus.SUCCEEDED:
            values["progress"] = 1.0
            values["phase"] = "done"
        if result is not None:
            values["result"] = result
        if error is not None:
            values["error_code"] = error.get("code")
            values["error_message"] = error.get("message")
            values["error_details"] = error.get("details") or {}
        self.update(run_id, **values)
