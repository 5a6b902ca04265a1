"""What every page handler needs: the service context, the executor, a router factory.

Every page router comes from ``page_router()``, so one dependency added to
``PAGE_DEPENDENCIES`` (e.g. a login check) protects every page at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.params import Depends

from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext
from softquery.web.errors import PageRoute

PAGE_DEPENDENCIES: list[Depends] = []


def page_router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False,
                     dependencies=list(PAGE_DEPENDENCIES), **kwargs)


def ctx_of(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def executor_of(request: Request) -> Executor | None:
    executor: Executor | None = getattr(request.app.state, "executor", None)
    return executor
