"""What every page handler needs: the service context, the executor, a router factory.

Every page router comes from ``page_router()``, which carries the same access
dependency as the REST API (``softquery.api.security.require_access``): filling
that one function protects every page and every API route at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from softquery.api.security import request_ctx, require_access
from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext
from softquery.web.errors import PageRoute


def page_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False,
                     dependencies=[Depends(require_access)], **kwargs)


def ctx_of(request: Request) -> ServiceContext:
    """The service context acting for the logged-in user (owner of new models, audit actor)."""
    return request_ctx(request)


def executor_of(request: Request) -> Executor | None:
    executor: Executor | None = getattr(request.app.state, "executor", None)
    return executor
