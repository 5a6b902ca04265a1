"""Runs: start train / batch predict (202), list, show, logs, stop.

``POST /models/{name}/predict`` is NOT here: that path answers online
predictions (issue 5). Batch predictions are runs: ``POST /models/{name}/runs``
with kind ``predict``, or ``POST /models/{name}/batch-predict``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from softquery.api.deps import Ctx, Exec
from softquery.api.schemas import RunCreate, RunLogs, RunPublic, RunStopped
from softquery.auth.policy import Action
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.http.route_policies import allow
from softquery.services import runs as svc

router = APIRouter(tags=["runs"])
Limit = Annotated[int, Query(ge=1, le=1000)]


def _start(ctx: Ctx, executor: Exec, model: str, kind: RunKind) -> RunPublic:
    return RunPublic.of(svc.start_run(ctx, model, kind, RunTrigger.API, executor))


@router.post("/models/{name}/runs", status_code=202, response_model=RunPublic, dependencies=[allow(Action.CHANGE_MODEL)])
def start_run(name: str, body: RunCreate, ctx: Ctx, executor: Exec) -> RunPublic:
    """Queue a run of the model: train, predict (batch, into its output table) or both."""
    return _start(ctx, executor, name, body.kind)


@router.post("/models/{name}/train", status_code=202, response_model=RunPublic, dependencies=[allow(Action.CHANGE_MODEL)])
def train(name: str, ctx: Ctx, executor: Exec, and_predict: bool = False) -> RunPublic:
    """Queue a training run (``and_predict=true``: then a batch prediction)."""
    return _start(ctx, executor, name, RunKind.TRAIN_THEN_PREDICT if and_predict else RunKind.TRAIN)


@router.post("/models/{name}/batch-predict", status_code=202, response_model=RunPublic, dependencies=[allow(Action.CHANGE_MODEL)])
def batch_predict(name: str, ctx: Ctx, executor: Exec) -> RunPublic:
    """Queue a batch prediction with the active version (409 without one)."""
    return _start(ctx, executor, name, RunKind.PREDICT)


@router.get("/models/{name}/runs", response_model=list[RunPublic], dependencies=[allow(Action.READ)])
def model_runs(name: str, ctx: Ctx, status: RunStatus | None = None, kind: RunKind | None = None,
               limit: Limit = 50) -> list[RunPublic]:
    return [RunPublic.of(r) for r in svc.list_runs(ctx, name, status, limit, kind=kind)]


@router.get("/runs", response_model=list[RunPublic], dependencies=[allow(Action.READ)])
def list_runs(ctx: Ctx, model: str | None = None, status: RunStatus | None = None,
              kind: RunKind | None = None, limit: Limit = 50) -> list[RunPublic]:
    return [RunPublic.of(r) for r in svc.list_runs(ctx, model, status, limit, kind=kind)]


@router.get("/runs/{run_id}", response_model=RunPublic, dependencies=[allow(Action.READ)])
def show_run(run_id: str, ctx: Ctx) -> RunPublic:
    return RunPublic.of(svc.get_run(ctx, run_id))


@router.get("/runs/{run_id}/logs", response_model=RunLogs, dependencies=[allow(Action.READ)])
def run_logs(run_id: str, ctx: Ctx) -> RunLogs:
    run = svc.get_run(ctx, run_id)
    return RunLogs(id=run.id, status=run.status.value, stdout=run.stdout, stderr=run.stderr)


@router.post("/runs/{run_id}/stop", response_model=RunStopped, dependencies=[allow(Action.CHANGE_MODEL)])
def stop_run(run_id: str, ctx: Ctx, executor: Exec) -> RunStopped:
    """Cancel a queued run or end a running one (a finished run is returned unchanged, with a
    `message` saying there was nothing to stop)."""
    _, ended = svc.stop_saying(ctx, run_id, executor)
    return RunStopped(**RunPublic.of(svc.get_run(ctx, run_id)).model_dump(), message=ended)
