"""Supervise one run: claim it, read its data, run its untrusted half in a
sandboxed child, write its predictions, honour stop requests and limits,
record the outcome.

The supervisor is trusted: it holds the metadata DB, the signing key and the
data-source credentials, and never runs model code. It alone opens the data
source: the job child gets Arrow data, never a URL (``softquery.services.run_steps``).
Every outcome ends up on the run row.

Executors (``softquery.jobs``) never import this module: the composition root hands
them ``run_work(settings)``, and the RQ job ``execute_run_job`` is enqueued by name.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from softquery.config import Settings
from softquery.domain import Run, RunKind, RunStatus
from softquery.errors import RunStoppedError, SoftqueryError
from softquery.jobs.executor import RunWork, worker_id
from softquery.sandbox import Limits
from softquery.services.abandoned_runs import reap_abandoned
from softquery.services.context import ServiceContext, open_context
from softquery.services.prediction import predict_spec, record_prediction
from softquery.services.progress import Listener, RunProgress
from softquery.services.run_limits import run_limits
from softquery.services.run_steps import predict_with_child, train_in_child
from softquery.services.sandbox_policy import isolation_of
from softquery.services.training import record_training, train_spec
from softquery.store.reconnect import RetryingRunRepository, retrying

log = logging.getLogger(__name__)
T = TypeVar("T")
BUSY_RETRY_SECONDS = 0.05


def limits_for(ctx: ServiceContext, run: Run) -> tuple[Limits, list[str]]:
    """The run's sandbox limits, none above the server's maxima, and one note per limit that
    was lowered to its maximum (for the run log)."""
    s = ctx.settings
    chosen = run_limits(s, ctx.models.get(run.model))
    return Limits(
        wall_seconds=float(chosen.wall_seconds),
        memory_mb=chosen.memory_mb,
        max_processes=s.max_processes,
        max_file_mb=s.max_file_mb,
        isolation=isolation_of(ctx),  # the home and file sources hidden: the child gets rows, not files
    ), chosen.notes


def log_lowered_limits(ctx: ServiceContext, run: Run, notes: list[str], listener: Listener | None) -> None:
    """Say in the run log (stderr) which limits were lowered to the server's maximum."""
    if notes:
        text = "".join(f"{note}\n" for note in notes)
        ctx.runs.append_logs(run.id, "", text, ctx.settings.max_log_chars)
        if listener is not None:
            listener("log", None, text)


def _riding_out_restarts(ctx: ServiceContext) -> ServiceContext:
    """``ctx`` whose run writes (heartbeat, logs, progress, outcome) retry across a lost
    metadata-DB connection, for ``metadata_retry_seconds`` (the outcome up to the reaper's
    ``abandon_after_seconds``): a PostgreSQL restart mid-run is ridden out."""
    s = ctx.settings
    runs = RetryingRunRepository(ctx.engine, s.metadata_retry_seconds, s.abandon_after_seconds)
    return dataclasses.replace(ctx, runs=runs)


def supervise(ctx: ServiceContext, run_id: str, *, worker: str, listener: Listener | None = None) -> str:
    """Claim and execute ``run_id``; returns the claim outcome ("claimed", "busy", "gone")."""
    claim = ctx.runs.claim(run_id, worker)
    if claim != "claimed":
        return claim
    ctx = _riding_out_restarts(ctx)
    budget = ctx.settings.metadata_retry_seconds

    def again(call: Callable[[], T], what: str) -> T:  # reads, and writes that are safe to repeat
        return retrying(call, budget=budget, what=what)

    result: dict[str, Any] = {}
    progress = RunProgress(ctx.runs, run_id, listener)
    try:
        run = ctx.runs.get(run_id)
        limits, notes = again(lambda: limits_for(ctx, run), "reading the model")
        log_lowered_limits(ctx, run, notes, listener)
        if run.kind in (RunKind.TRAIN, RunKind.TRAIN_THEN_PREDICT):
            job = again(lambda: train_spec(ctx, run), "reading the model")
            out = train_in_child(ctx, run, job, limits, progress, listener)
            result["train"] = again(lambda: record_training(ctx, run, job, out), "storing the new version")
        if run.kind in (RunKind.PREDICT, RunKind.TRAIN_THEN_PREDICT):
            pjob = again(lambda: predict_spec(ctx, run), "reading the active version")
            pout = predict_with_child(ctx, run, pjob, limits, progress, listener)
            result["predict"] = record_prediction(pout)
    except RunStoppedError as exc:
        _note_job_starts(result, progress)
        ctx.runs.finish_if_running(run_id, RunStatus.CANCELLED, result=result, error=exc.to_dict())
        return claim
    except SoftqueryError as exc:
        _note_job_starts(result, progress)
        ctx.runs.finish_if_running(run_id, RunStatus.FAILED, result=result, error=exc.to_dict())
        return claim
    except Exception as exc:
        log.exception("run %s failed unexpectedly", run_id)
        _note_job_starts(result, progress)
        ctx.runs.finish_if_running(run_id, RunStatus.FAILED, result=result, error={
            "code": "internal_error",
            "message": f"softquery hit an unexpected error ({type(exc).__name__}: {exc}).",
            "details": {"traceback": traceback.format_exc()},
        })
        return claim
    _note_job_starts(result, progress)
    ctx.runs.finish_if_running(run_id, RunStatus.SUCCEEDED, result=result)
    return claim


def _note_job_starts(result: dict[str, Any], progress: RunProgress) -> None:
    """The run's result says when its job processes were asked for and started."""
    if progress.job_starts:
        result["job_start"] = progress.job_starts


Supervise = Callable[[ServiceContext, str], str]


def run_work(settings: Settings) -> RunWork[ServiceContext]:
    """What the executors (local job slots, the RQ worker) are handed to execute runs."""
    return RunWork(open_context=lambda: open_context(settings), supervise=supervise,
                   reap_abandoned=reap_abandoned)


def execute_run_job(run_id: str) -> str:
    """The RQ job (``softquery.jobs.rq_queue.JOB_FUNCTION``): supervise one run. It
    executes inside the worker process itself (the model code runs in a sandboxed child
    forked from this warm process), so the run's worker id is the worker's and a killed
    worker takes its job child with it."""
    from softquery.jobs.rq_queue import RQExecutor, worker_context

    shared = worker_context()
    ctx = shared if isinstance(shared, ServiceContext) else open_context(Settings())
    try:
        outcome = supervise(ctx, run_id, worker=worker_id("worker"))
        if outcome == "busy" and ctx.settings.queue:
            # Another run of this model is running: go to the back of the queue.
            time.sleep(BUSY_RETRY_SECONDS)
            RQExecutor(ctx.settings.queue).submit(run_id)
        return outcome
    finally:
        if ctx is not shared:
            ctx.close()
