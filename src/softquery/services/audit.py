"""The audit log: who created, changed, trained, activated, stopped, deleted what, when."""

from __future__ import annotations

from typing import Any

from softquery.domain.accounts import AuditEvent
from softquery.services.context import ServiceContext


def record(ctx: ServiceContext, action: str, target_type: str, target: str,
           details: dict[str, Any] | None = None) -> None:
    """Append one event for ``ctx.actor`` (``action`` like ``model.create``)."""
    ctx.audit.add(ctx.actor.label, action, target_type, target, details, ctx.client_ip)


def list_events(ctx: ServiceContext, *, limit: int = 200, offset: int = 0, actor: str | None = None,
                target: str | None = None, action: str | None = None) -> list[AuditEvent]:
    return ctx.audit.list(limit=max(1, min(limit, 1000)), offset=max(0, offset), actor=actor,
                          target=target, action=action)
