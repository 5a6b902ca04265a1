"""Repository of the audit log (append-only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, select

from softquery.clock import as_utc, utcnow
from softquery.domain.accounts import AuditEvent
from softquery.store.database import write_tx
from softquery.store.tables import audit_events


class AuditRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, actor: str, action: str, target_type: str, target: str,
            details: dict[str, Any] | None, ip: str | None) -> None:
        with write_tx(self.engine) as conn:
            # cut to the columns' sizes: an audit event is never refused for a long value
            conn.execute(insert(audit_events).values(at=utcnow(), actor=actor[:100], action=action[:50],
                                                     target_type=target_type[:20], target=target[:200],
                                                     details=details or None,
                                                     ip=ip[:64] if ip is not None else None))

    def list(self, *, limit: int = 200, offset: int = 0, actor: str | None = None,
             target: str | None = None, action: str | None = None) -> list[AuditEvent]:
        query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit).offset(offset)
        if actor:
            query = query.where(audit_events.c.actor == actor)
        if target:
            query = query.where(audit_events.c.target == target)
        if action:
            query = query.where(audit_events.c.action == action)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [AuditEvent(id=r["id"], at=as_utc(r["at"]), actor=r["actor"], action=r["action"],  # type: ignore[arg-type]
                           target_type=r["target_type"], target=r["target"], details=r["details"] or {},
                           ip=r["ip"]) for r in rows]
