"""Users (admins only): list, add (with a password or a one-time login link), change, new link."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request

from softquery.api.deps import Ctx
from softquery.api.schemas.accounts import (
    LoginLinkPublic,
    UserCreate,
    UserCreated,
    UserPublic,
    UserUpdate,
)
from softquery.auth.policy import Action
from softquery.clock import utcnow
from softquery.http.route_policies import allow
from softquery.services import accounts as svc
from softquery.services.context import ServiceContext

router = APIRouter(tags=["users"])


def _link(ctx: ServiceContext, request: Request, username: str) -> LoginLinkPublic:
    secret = svc.new_login_link(ctx, username)
    base = ctx.settings.public_url or str(request.base_url)
    return LoginLinkPublic(username=username, login_url=svc.login_url(base, secret),
                           expires_at=utcnow() + timedelta(hours=ctx.settings.login_link_hours))


@router.get("/users", response_model=list[UserPublic], dependencies=[allow(Action.ADMIN)])
def list_users(ctx: Ctx) -> list[UserPublic]:
    return [UserPublic.of(u) for u in svc.list_users(ctx)]


@router.post("/users", status_code=201, response_model=UserCreated, dependencies=[allow(Action.ADMIN)])
def add_user(body: UserCreate, ctx: Ctx, request: Request) -> UserCreated:
    """Add a user. Without a password the answer's `login_url` (shown once) lets them in
    to set one."""
    user = svc.add_user(ctx, body.username, body.role, body.password)
    url = _link(ctx, request, user.username).login_url if body.password is None else None
    return UserCreated(**UserPublic.of(svc.get_user(ctx, user.username)).model_dump(), login_url=url)


@router.patch("/users/{username}", response_model=UserPublic, dependencies=[allow(Action.ADMIN)])
def update_user(username: str, body: UserUpdate, ctx: Ctx) -> UserPublic:
    """Change the role and/or disable (true) or enable (false) the user. The last active
    admin can be neither demoted nor disabled (409)."""
    svc.get_user(ctx, username)  # 404 before anything changes
    if body.role is not None:
        svc.set_role(ctx, username, body.role)
    if body.disabled is True:
        svc.disable_user(ctx, username)
    elif body.disabled is False:
        svc.enable_user(ctx, username)
    return UserPublic.of(svc.get_user(ctx, username))


@router.post("/users/{username}/login-link", status_code=201, response_model=LoginLinkPublic,
             dependencies=[allow(Action.ADMIN)])
def new_login_link(username: str, ctx: Ctx, request: Request) -> LoginLinkPublic:
    """A fresh one-time login link for the user (shown once; for a forgotten password)."""
    return _link(ctx, request, username)
