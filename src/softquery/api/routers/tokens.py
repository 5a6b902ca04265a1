"""API tokens: list, create (the secret is answered once), revoke.

Everyone manages their own tokens; admins may list and create for anyone and revoke any.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from softquery.api.deps import Ctx, Me
from softquery.api.schemas.accounts import TokenCreate, TokenCreated, TokenPublic
from softquery.auth.policy import Action
from softquery.clock import utcnow
from softquery.domain.accounts import Principal, Role, Via
from softquery.errors import PermissionDeniedError
from softquery.http.route_policies import allow
from softquery.services import tokens as svc
from softquery.services.numbers import MAX_STORED_NUMBER

router = APIRouter(tags=["accounts"])


def _only_admins_for_others(principal: Principal, username: str | None, what: str) -> str:
    """``username`` (default: the principal); someone else's only for admins (403)."""
    if username is None or username == principal.username:
        return principal.username
    if principal.role is not Role.ADMIN:
        raise PermissionDeniedError(f"Only an admin may {what} another user's API tokens; "
                                    "leave out `user` to use your own.", details={"user": username})
    return username


@router.get("/tokens", response_model=list[TokenPublic], dependencies=[allow(Action.OWN_ACCOUNT)])
def list_tokens(ctx: Ctx, principal: Me,
                user: Annotated[str | None, Query(max_length=200, description="Admins: this user's tokens.")] = None,
                all: Annotated[bool, Query(description="Admins: every user's tokens (`user` is then ignored).")] = False,  # noqa: A002
                ) -> list[TokenPublic]:
    """Your tokens, newest first (never their secrets)."""
    if all:
        if principal.role is not Role.ADMIN:
            raise PermissionDeniedError("Only an admin may list every user's API tokens; "
                                        "leave out `all` to list your own.", details={"all": True})
        found = svc.list_tokens(ctx)
    else:
        found = svc.list_tokens(ctx, _only_admins_for_others(principal, user, "list"))
    now = utcnow()
    return [TokenPublic.of(t, now) for t in found]


@router.post("/tokens", status_code=201, response_model=TokenCreated, dependencies=[allow(Action.OWN_ACCOUNT)])
def create_token(body: TokenCreate, ctx: Ctx, principal: Me) -> TokenCreated:
    """A new token; the answer's `token` is shown this once (only its hash is kept)."""
    username = _only_admins_for_others(principal, body.user, "create")
    # made with a token: it never outlives or outlasts that token
    new = svc.create_token(ctx, username, name=body.name, scope=body.scope, models=body.models, days=body.days,
                           parent_token_id=principal.token_id if principal.via is Via.TOKEN else None)
    return TokenCreated(**TokenPublic.of(new.info, utcnow()).model_dump(), token=new.token)


@router.delete("/tokens/{token_id}", status_code=204, response_class=Response,
               dependencies=[allow(Action.OWN_ACCOUNT)])
def revoke_token(token_id: Annotated[int, Path(ge=1, le=MAX_STORED_NUMBER)], ctx: Ctx) -> Response:
    """Revoke one of your tokens (admins: any). It stops working within
    SOFTQUERY_SERVING_REFRESH_SECONDS on every server."""
    svc.revoke_token(ctx, token_id)
    return Response(status_code=204)
