"""Request dependencies: the service context and the executor of this app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from softquery.domain.accounts import Principal
from softquery.http.authentication import request_ctx
from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext


def get_ctx(request: Request) -> ServiceContext:
    """The service context acting for the request's principal (set by ``require_access``)."""
    return request_ctx(request)


def get_executor(request: Request) -> Executor | None:
    executor: Executor | None = request.app.state.executor
    return executor


Ctx = Annotated[ServiceContext, Depends(get_ctx)]
Exec = Annotated[Executor | None, Depends(get_executor)]


def current_principal(request: Request) -> Principal:
    """The principal ``require_access`` established (routes behind it only)."""
    principal: Principal = request.state.principal
    return principal


Me = Annotated[Principal, Depends(current_principal)]
