"""Runs: start train/predict, list, show, logs, stop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from softquery.api.deps import get_ctx, get_executor
from softquery.api.schemas import RunLogs, RunPublic
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.jobs.executor import Executor
from softquery.services import runs as svc
from softquery.services.context import ServiceContext

router = APIRouter(tags=["runs"])
Ctx = Annotated[ServiceContext, Depends(get_ctx)]
Exec = Annotated[Executor | None, Depends(get_executor)]


def _start(ctx: ServiceContext, executor: Executor | None, model: str, kind: RunKind) -> RunPublic:
    ctx.models.get(model)
    return RunPublic.of(svc.submit_run(ctx, model, kind, RunTrigger.API, executor))


@router.post("/models/{model}/train", status_code=202, response_model=RunPublic)
def train(model: str, ctx: Ctx, executor: Exec, and_predict: bool = False) -> RunPublic:
    return _start(ctx, executor, model, RunKind.TRAIN_THEN_PREDICT if and_predict else RunKind.TRAIN)


@router.post("/models/{model}/predict", status_code=202, response_model=RunPublic)
def predict(model: str, ctx: Ctx, executor: Exec) -> RunPublic:
    return _start(ctx, executor, model, RunKind.PREDICT)


@router.get("/runs", response_model=list[RunPublic])
def list_runs(ctx: Ctx, model: str | None = None, status: RunStatus | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[RunPublic]:
    return [RunPublic.of(r) for r in svc.list_runs(ctx, model, status, limit)]


@router.get("/runs/{run_id}", response_model=RunPublic)
def show_run(run_id: str, ctx: Ctx) -> RunPublic:
    return RunPublic.of(svc.get_run(ctx, run_id))


@router.get("/runs/{run_id}/logs", response_model=RunLogs)
def run_logs(run_id: str, ctx: Ctx) -> RunLogs:
    run = svc.get_run(ctx, run_id)
    return RunLogs(id=run.id, status=run.status.value, stdout=run.stdout, stderr=run.stderr)


@router.post("/runs/{run_id}/stop", response_model=RunPublic)
def stop_run(run_id: str, ctx: Ctx, executor: Exec) -> RunPublic:
    svc.stop_run(ctx, run_id, executor)
    return RunPublic.of(svc.get_run(ctx, run_id))
