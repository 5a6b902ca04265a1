"""Request dependencies: the service context and the executor of this app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from softquery.jobs.executor import Executor
from softquery.services.context import ServiceContext


def get_ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


def get_executor(request: Request) -> Executor | None:
    executor: Executor | None = request.app.state.executor
    return executor


Ctx = Annotated[ServiceContext, Depends(get_ctx)]
Exec = Annotated[Executor | None, Depends(get_executor)]
