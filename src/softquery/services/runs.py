"""Use cases for runs: start (inline for now), execute, list, show."""

from __future__ import annotations

import traceback
from typing import Any

from softquery.domain import Run, RunKind, RunStatus, RunTrigger
from softquery.errors import SoftqueryError
from softquery.services.context import ServiceContext
from softquery.services.prediction import execute_predict
from softquery.services.progress import Listener, RunProgress
from softquery.services.training import execute_train


def start_run(
    ctx: ServiceContext, model: str, kind: RunKind, trigger: RunTrigger = RunTrigger.CLI,
    listener: Listener | None = None,
) -> Run:
    """Create a run and execute it in this process; returns the finished run."""
    run = ctx.runs.create(model, kind, trigger)
    execute_run(ctx, run.id, listener)
    return ctx.runs.get(run.id)


def execute_run(ctx: ServiceContext, run_id: str, listener: Listener | None = None) -> None:
    """Execute a queued run to its end; every outcome is recorded on the run."""
    run = ctx.runs.get(run_id)
    if run.status is not RunStatus.QUEUED:
        return
    ctx.runs.mark_running(run_id)
    progress = RunProgress(ctx.runs, run_id, listener)
    result: dict[str, Any] = {}
    try:
        if run.kind in (RunKind.TRAIN, RunKind.TRAIN_THEN_PREDICT):
            result["train"] = execute_train(ctx, run, progress)
        if run.kind in (RunKind.PREDICT, RunKind.TRAIN_THEN_PREDICT):
            result["predict"] = execute_predict(ctx, run_id, run.model, progress)
    except SoftqueryError as exc:
        ctx.runs.finish(run_id, RunStatus.FAILED, result=result, error=exc.to_dict())
        return
    except Exception as exc:  # an unexpected bug: keep the traceback for the log
        ctx.runs.finish(run_id, RunStatus.FAILED, result=result, error={
            "code": "internal_error",
            "message": f"softquery hit an unexpected error ({type(exc).__name__}: {exc}).",
            "details": {"traceback": traceback.format_exc()},
        })
        return
    ctx.runs.finish(run_id, RunStatus.SUCCEEDED, result=result)


def list_runs(ctx: ServiceContext, model: str | None = None, status: RunStatus | None = None,
              limit: int = 50) -> list[Run]:
    if model:
        ctx.models.get(model)
    return ctx.runs.list(model, status, limit)


def get_run(ctx: ServiceContext, run_id: str) -> Run:
    return ctx.runs.get(run_id)
