"""May the one asking do this (403): every route's explicit permission decision.

Used together with ``softquery.http.authentication.require_access`` on every route of
the API and the pages:

* ``allow(Action.X)`` (on every route): the route's explicit permission decision,
  made by ``softquery.auth.policy.decide`` with the model the route acts on (path
  parameter ``name``, or the model of ``run_id``). ``public()`` marks the few routes
  that need no login (health, login). ``tests/security/test_route_policies.py``
  fails when a route has neither.

Both are ``async``: no threadpool hop per request.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from starlette.concurrency import run_in_threadpool

from softquery.auth.policy import Action, decide
from softquery.domain.accounts import Principal
from softquery.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from softquery.http.authentication import authenticate, base_ctx, require_access


class Allow:
    """A route's permission decision (a dependency; see the module docstring)."""

    def __init__(self, action: Action, *, models_checked_by_route: bool = False) -> None:
        self.action = action
        # a route that calls models named in its body (MLSQL) checks a limited token's
        # model list itself, once it knows the names
        self.models_checked_by_route = models_checked_by_route

    def __repr__(self) -> str:
        return f"allow({self.action.value})"

    async def __call__(self, request: Request,
                       principal: Annotated[Principal, Depends(require_access)]) -> Principal:
        model: str | None = request.path_params.get("name")
        owner_id: int | None = None
        if self.action is Action.CHANGE_MODEL:
            model, owner_id, exists = await run_in_threadpool(_target, request)
            if not exists:
                # the route answers 404 itself; decide as if the principal owned it
                owner_id = principal.user_id
        asking = principal
        if self.models_checked_by_route and model is None:
            asking = dataclasses.replace(principal, models=None)
        decision = decide(asking, self.action, model=model, owner_id=owner_id)
        if not decision.allowed:
            raise PermissionDeniedError(decision.reason, details={"action": self.action.value})
        return principal


class Public:
    """Marks a route that needs no login (health, the login page and form). It still sees a
    principal when the request carries one."""

    def __repr__(self) -> str:
        return "public"

    async def __call__(self, request: Request) -> Principal | None:
        try:
            return await authenticate(request)
        except (AuthenticationError, InvalidInputError):
            return None


def allow(action: Action, *, models_checked_by_route: bool = False) -> DependsParam:
    """``dependencies=[allow(Action.READ)]`` on a route: its explicit permission decision."""
    return cast(DependsParam, Depends(Allow(action, models_checked_by_route=models_checked_by_route)))


_PUBLIC = Public()


def public() -> DependsParam:
    return cast(DependsParam, Depends(_PUBLIC))


def _target(request: Request) -> tuple[str | None, int | None, bool]:
    """The model a request acts on (path ``name`` or ``run_id``), its owner's id, and
    whether it exists."""
    params = request.path_params
    ctx = base_ctx(request)
    name: str | None = params.get("name")
    try:
        if name is None and "run_id" in params:
            name = ctx.runs.get(params["run_id"]).model
        if name is None:
            return None, None, True
        return name, ctx.models.get(name).owner_id, True
    except NotFoundError:
        return name, None, False


def policy_of(dependency: Any) -> Allow | Public | None:
    """The policy object behind a dependency callable (for the route-enumeration test)."""
    return dependency if isinstance(dependency, Allow | Public) else None
