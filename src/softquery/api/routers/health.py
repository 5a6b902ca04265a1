"""Liveness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from softquery import __version__
from softquery.api.deps import get_executor
from softquery.http.route_policies import public
from softquery.jobs.executor import Executor

router = APIRouter(tags=["health"])


@router.get("/api/v1/health", dependencies=[public()])
def health(executor: Annotated[Executor | None, Depends(get_executor)]) -> dict[str, str]:
    return {"status": "ok", "version": __version__, "executor": executor.name if executor else "none"}
