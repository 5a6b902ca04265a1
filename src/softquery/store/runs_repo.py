"""Repository of runs: the truth about every train and predict."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, literal, select, update
from sqlalchemy.engine import RowMapping

from softquery.clock import as_utc, utcnow
from softquery.domain import Run, RunKind, RunStatus, RunTrigger
from softquery.errors import ConflictError, NotFoundError
from softquery.store.database import write_tx
from softquery.store.tables import models, runs, versions


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
        with write_tx(self.engine) as conn:
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

    def list(self, model_name: str | None = None, status: RunStatus | None = None, limit: int = 50,
             *, kind: RunKind | None = None) -> list[Run]:
        query = _select()
        if model_name:
            query = query.where(models.c.name == model_name)
        if status:
            query = query.where(runs.c.status == status.value)
        if kind:
            query = query.where(runs.c.kind == kind.value)
        query = query.order_by(runs.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [_entity(r) for r in rows]

    def newest_per_model(self, statuses: tuple[RunStatus, ...] = ()) -> dict[str, Run]:
        """The newest run of each model (among ``statuses`` when given), by model name, in one
        query for any number of models; their stdout and stderr are left out ("")."""
        newest = select(runs.c.model_id, func.max(runs.c.created_at).label("newest"))
        if statuses:
            newest = newest.where(runs.c.status.in_([s.value for s in statuses]))
        latest = newest.group_by(runs.c.model_id).subquery()
        light = [c for c in runs.c if c.name not in ("stdout", "stderr")]
        query = (select(*light, literal("").label("stdout"), literal("").label("stderr"),
                        models.c.name.label("model_name"))
                 .join(models, models.c.id == runs.c.model_id)
                 .join(latest, (latest.c.model_id == runs.c.model_id) & (latest.c.newest == runs.c.created_at)))
        if statuses:
            query = query.where(runs.c.status.in_([s.value for s in statuses]))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        found: dict[str, Run] = {}
        for row in rows:
            found.setdefault(row["model_name"], _entity(row))  # two runs in the same instant: either
        return found

    def update(self, run_id: str, **values: Any) -> None:
        for key in ("status", "kind", "trigger"):
            if key in values and hasattr(values[key], "value"):
                values[key] = values[key].value
        with write_tx(self.engine) as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(**values))

    def set_queued_phase(self, run_id: str, phase: str | None, *, only_from: str | None = None) -> bool:
        """Set the phase of a run that is still queued (and, with ``only_from``, still in that phase)."""
        where = [runs.c.id == run_id, runs.c.status == RunStatus.QUEUED.value]
        if only_from is not None:
            where.append(runs.c.phase == only_from)
        with write_tx(self.engine) as conn:
            return bool(conn.execute(update(runs).where(*where).values(phase=phase)).rowcount)

    def mark_running(self, run_id: str) -> None:
        self.update(run_id, status=RunStatus.RUNNING, started_at=utcnow(), phase="starting", progress=0.0)

    # -- job lifecycle ---------------------------------------------------------------
    def claim(self, run_id: str, worker: str) -> str:
        """Atomically move a queued run to running: "claimed", "busy" (its model has
        a running run: it stays queued behind it) or "gone" (not queued any more)."""
        with write_tx(self.engine) as conn:
            model_id = conn.execute(select(runs.c.model_id).where(runs.c.id == run_id)).scalar()
            if model_id is None:
                return "gone"
            # Serialise claims per model (PostgreSQL row lock; SQLite holds the DB write lock).
            conn.execute(select(models.c.id).where(models.c.id == model_id).with_for_update())
            busy = conn.execute(
                select(runs.c.id).where(runs.c.model_id == model_id, runs.c.status == RunStatus.RUNNING.value)
            ).first()
            status = conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar()
            if status != RunStatus.QUEUED.value:
                return "gone"
            if busy is not None:
                return "busy"
            # the clock is read holding the lock: a run of this model that finished before
            # this one was claimed has an earlier finished_at than this started_at
            now = utcnow()
            conn.execute(
                update(runs).where(runs.c.id == run_id, runs.c.status == RunStatus.QUEUED.value).values(
                    status=RunStatus.RUNNING.value, started_at=now, heartbeat_at=now, worker=worker[:200],
                    phase="starting", progress=0.0,
                )
            )
        return "claimed"

    def queued_ids(self, limit: int = 100) -> builtins.list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(runs.c.id).where(runs.c.status == RunStatus.QUEUED.value)
                .order_by(runs.c.created_at).limit(limit)
            ).scalars()
            return list(rows)

    def heartbeat(self, run_id: str) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(heartbeat_at=utcnow()))

    def request_stop(self, run_id: str) -> RunStatus:
        """Cancel a queued run at once; ask the supervisor of a running one to stop it.

        A training run that has already stored its version is past stopping: the version is
        stored in the transaction that checks for a stop (``VersionsRepo.add(require_running=True)``),
        and this one locks the same run row first, so exactly one of the two wins. Then a
        ``ConflictError`` says it is too late, and no stop is recorded."""
        now = utcnow()
        with write_tx(self.engine) as conn:
            row = conn.execute(select(runs.c.status, runs.c.kind).where(runs.c.id == run_id)
                               .with_for_update()).first()
            if row is not None and row[0] == RunStatus.RUNNING.value and row[1] == RunKind.TRAIN.value:
                stored = conn.execute(select(versions.c.version).where(versions.c.run_id == run_id)).scalar()
                if stored is not None:
                    raise ConflictError(
                        f"Too late: run {run_id} is already storing its version (version {stored}); "
                        "it finishes as it is (activate another version if you do not want this one).",
                        details={"run": run_id, "version": stored})
            conn.execute(
                update(runs).where(runs.c.id == run_id, runs.c.status == RunStatus.QUEUED.value).values(
                    status=RunStatus.CANCELLED.value, finished_at=now, stop_requested_at=now,
                    error_code="cancelled", error_message="Stopped before it started.",
                )
            )
            conn.execute(
                update(runs).where(runs.c.id == run_id, runs.c.status == RunStatus.RUNNING.value)
                .values(stop_requested_at=now)
            )
            status = conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar()
        if status is None:
            raise NotFoundError(f"There is no run with id {run_id!r}.", details={"run": run_id})
        return RunStatus(status)

    def stop_requested(self, run_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(runs.c.stop_requested_at).where(runs.c.id == run_id)).scalar() is not None

    def append_logs(self, run_id: str, stdout: str, stderr: str, limit: int) -> None:
        if not stdout and not stderr:
            return
        with write_tx(self.engine) as conn:
            row = conn.execute(select(runs.c.stdout, runs.c.stderr).where(runs.c.id == run_id)).first()
            if row is None:
                return
            conn.execute(update(runs).where(runs.c.id == run_id).values(
                stdout=_tail((row[0] or "") + stdout, limit), stderr=_tail((row[1] or "") + stderr, limit),
            ))

    def finish_if_running(self, run_id: str, status: RunStatus, *, result: dict[str, Any] | None = None,
                          error: dict[str, Any] | None = None) -> bool:
        """Finish a running run; False when something else finished it first."""
        values = _finish_values(status, result, error)
        with write_tx(self.engine) as conn:
            done = conn.execute(
                update(runs).where(runs.c.id == run_id, runs.c.status == RunStatus.RUNNING.value).values(**values)
            )
        return bool(done.rowcount)

    def silent_running(self, older_than: datetime) -> builtins.list[str]:
        """Running runs whose supervisor has not reported since ``older_than``."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(runs.c.id, runs.c.heartbeat_at, runs.c.started_at)
                .where(runs.c.status == RunStatus.RUNNING.value)
            ).all()
        return [r[0] for r in rows if (as_utc(r[1]) or as_utc(r[2]) or older_than) < older_than]

    def finish(
        self,
        run_id: str,
        status: RunStatus,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        self.update(run_id, **_finish_values(status, result, error))


def _tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return "[… earlier output cut …]\n" + text[-limit:]


def _finish_values(status: RunStatus, result: dict[str, Any] | None, error: dict[str, Any] | None) -> dict[str, Any]:
    values: dict[str, Any] = {"status": status.value, "finished_at": utcnow()}
    if status is RunStatus.SUCCEEDED:
        values["progress"] = 1.0
        values["phase"] = "done"
    if result is not None:
        values["result"] = result
    if error is not None:
        values["error_code"] = error.get("code")
        values["error_message"] = error.get("message")
        values["error_details"] = error.get("details") or {}
    return values
