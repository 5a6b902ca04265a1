"""What every page handler needs: the service context, the executor, a router factory.

Every page router comes from ``page_router()``, which carries the same access
dependency as the REST API (``softquery.http.authentication.require_access``: 401 without
a login, CSRF on cookie sessions); only the login page uses ``public_page_router()``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from softquery.http.authentication import client_ip, request_ctx, require_access
from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext
from softquery.web.error_pages import PageRoute


def page_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False,
                     dependencies=[Depends(require_access)], **kwargs)


def public_page_router(**kwargs: Any) -> APIRouter:
    """Pages anyone may open (the login page): each route still declares ``public()``."""
    return APIRouter(route_class=PageRoute, include_in_schema=False, **kwargs)


def anonymous_ctx(request: Request) -> ServiceContext:
    """The service context of a request before anyone logged in (the login form), with its address."""
    base: ServiceContext = request.app.state.ctx
    return base.acting_as(base.actor, client_ip(request))


def ctx_of(request: Request) -> ServiceContext:
    """The service context acting for the logged-in user (owner of new models, audit actor)."""
    return request_ctx(request)


def executor_of(request: Request) -> Executor | None:
    executor: Executor | None = getattr(request.app.state, "executor", None)
    return executor
