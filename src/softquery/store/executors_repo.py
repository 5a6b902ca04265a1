"""Live job executors (servers and workers) and their heartbeats."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from softquery.clock import as_utc, utcnow
from softquery.store.database import write_tx
from softquery.store.tables import executors


class ExecutorRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def register(self, executor_id: str, kind: str) -> None:
        now = utcnow()
        with write_tx(self.engine) as conn:
            conn.execute(delete(executors).where(executors.c.id == executor_id))
            conn.execute(insert(executors).values(id=executor_id, kind=kind, started_at=now, heartbeat_at=now))

    def heartbeat(self, executor_id: str) -> None:
        with write_tx(self.engine) as conn:
            done = conn.execute(update(executors).where(executors.c.id == executor_id).values(heartbeat_at=utcnow()))
        if not done.rowcount:
            self.register(executor_id, "unknown")

    def unregister(self, executor_id: str) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(delete(executors).where(executors.c.id == executor_id))

    def live(self, within_seconds: float, now: datetime | None = None) -> list[tuple[str, str]]:
        """(id, kind) of executors that reported within the last ``within_seconds``."""
        cutoff = (now or utcnow()) - timedelta(seconds=within_seconds)
        with self.engine.connect() as conn:
            rows = conn.execute(select(executors.c.id, executors.c.kind, executors.c.heartbeat_at)).all()
        return [(r[0], r[1]) for r in rows if (as_utc(r[2]) or cutoff) > cutoff]
