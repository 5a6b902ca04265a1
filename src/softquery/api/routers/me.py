"""Who am I: the principal of this request (and, for a web session, its CSRF token)."""

from __future__ import annotations

from fastapi import APIRouter

from softquery.api.deps import Me
from softquery.api.schemas.accounts import MePublic
from softquery.auth.policy import Action
from softquery.http.route_policies import allow

router = APIRouter(tags=["accounts"])


@router.get("/me", response_model=MePublic, dependencies=[allow(Action.OWN_ACCOUNT)])
async def me(principal: Me) -> MePublic:
    """Username, role, how this request authenticated; the CSRF token for a cookie session."""
    return MePublic.of(principal)
