"""The audit log (admins only): who created, changed, trained, activated, stopped, deleted what."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from softquery.api.deps import Ctx
from softquery.api.schemas.accounts import AuditEventPublic
from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.services import audit as svc

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=list[AuditEventPublic], dependencies=[allow(Action.ADMIN)])
def list_events(
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    actor: Annotated[str | None, Query(max_length=200, description="Exactly this actor, e.g. ada.")] = None,
    target: Annotated[str | None, Query(max_length=200, description="Exactly this target, e.g. a model name.")] = None,
    action: Annotated[str | None, Query(max_length=100, description="Exactly this action, e.g. model.train.")] = None,
) -> list[AuditEventPublic]:
    """Events, newest first."""
    events = svc.list_events(ctx, limit=limit, offset=offset, actor=actor, target=target, action=action)
    return [AuditEventPublic.of(e) for e in events]
