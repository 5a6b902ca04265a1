"""Use cases for runs: submit, execute here, stop, follow, list, show."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from softquery.config import Settings
from softquery.domain import Run, RunKind, RunStatus, RunTrigger
from softquery.errors import ConflictError, NoVersionError, SoftqueryError
from softquery.jobs.executor import (
    WAITING_FOR_QUEUE,
    DatabaseQueue,
    Executor,
    QueueUnavailableError,
    worker_id,
)
from softquery.services import audit
from softquery.services.context import ServiceContext
from softquery.services.progress import Listener

log = logging.getLogger(__name__)
LIVE_EXECUTOR_SECONDS = 10.0
GOING_SHOWN = 20  # of each status: more queued runs than this are not listed one by one


def queue_executor(settings: Settings) -> Executor | None:
    """The RQ executor when ``SOFTQUERY_QUEUE`` is set, else None (local executor)."""
    if not settings.queue:
        return None
    from softquery.jobs.rq_queue import RQExecutor

    return RQExecutor(settings.queue)


def pick_executor(ctx: ServiceContext) -> Executor | None:
    """RQ when a queue is configured; the server's slots when a server is alive;
    otherwise None: the caller executes the run itself."""
    rq = queue_executor(ctx.settings)
    if rq is not None:
        return rq
    live = ctx.executors.live(max(LIVE_EXECUTOR_SECONDS, 3 * ctx.settings.heartbeat_seconds))
    if any(kind == "server" for _, kind in live):
        return DatabaseQueue()
    return None


def submit_run(ctx: ServiceContext, model: str, kind: RunKind, trigger: RunTrigger,
               executor: Executor | None) -> Run:
    """Create a queued run and hand its id to ``executor`` (None: nobody yet).

    When the queue cannot be reached the run still exists, queued in the metadata DB: the
    answer says so (its phase) rather than fail, since a client retrying a failure would
    create a second run. The workers' sweep hands it to the queue when Redis is back."""
    run = ctx.runs.create(model, kind, trigger)
    audit.record(ctx, f"model.{kind.value}", "model", model, {"run": run.id, "trigger": trigger.value})
    if executor is not None:
        try:
            executor.submit(run.id)
        except QueueUnavailableError as exc:
            log.warning("%s", exc.message)
            ctx.runs.set_queued_phase(run.id, WAITING_FOR_QUEUE)
            return ctx.runs.get(run.id)
    return run


def start_run(ctx: ServiceContext, model: str, kind: RunKind, trigger: RunTrigger,
              executor: Executor | None) -> Run:
    """``submit_run`` after the checks a person wants answered now, not by a failed run:
    the model exists, and a batch prediction has an active version to predict with."""
    if kind is RunKind.PREDICT and ctx.models.get(model).active_version is None:
        raise NoVersionError(
            f"Model {model!r} has no trained version yet, so there is nothing to predict with. "
            "Train it first (or start a train_then_predict run).",
            details={"model": model},
        )
    return submit_run(ctx, model, kind, trigger, executor)


def execute_here(ctx: ServiceContext, run_id: str, listener: Listener | None = None) -> Run:
    """Supervise a queued run in this process (user code still runs in a sandboxed child)."""
    from softquery.services.job_processes import start_ahead

    # Job children start from a forkserver, a fresh interpreter importing numpy, pandas and
    # scikit-learn (~1.5 s). The `softquery` command started it before its own imports
    # (``softquery.cli.entry``); otherwise it starts now, on another core, while this
    # process imports the supervisor and reads the source (a no-op when it runs already).
    start_ahead()
    from softquery.services.run_supervision import supervise

    deadline = time.monotonic() + 24 * 3600
    while supervise(ctx, run_id, worker=worker_id("cli"), listener=listener) == "busy":
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)  # another run of this model is running: wait our turn
    return ctx.runs.get(run_id)


def stop_run(ctx: ServiceContext, run_id: str, executor: Executor | None = None) -> RunStatus:
    run = ctx.runs.get(run_id)
    if run.status.finished:
        return run.status
    status = ctx.runs.request_stop(run_id)
    audit.record(ctx, "run.stop", "run", run_id, {"model": run.model, "kind": run.kind.value})
    if status is RunStatus.CANCELLED and executor is not None:
        executor.cancel(run_id)
    return status


ENDED_VERBS = {RunStatus.SUCCEEDED: "succeeded", RunStatus.FAILED: "failed",
               RunStatus.CANCELLED: "been stopped"}


def ended_words(run_id: str, status: RunStatus) -> str:
    """What a Stop on a run that had already ended is told: "Run … had already succeeded; nothing to stop."."""
    return f"Run {run_id} had already {ENDED_VERBS.get(status, status.value)}; nothing to stop."


def stop_saying(ctx: ServiceContext, run_id: str, executor: Executor | None = None) -> tuple[RunStatus, str | None]:
    """``stop_run``, with what to tell the person when there was nothing to stop (the run had
    already ended: its status is unchanged); None when the stop was asked."""
    run = ctx.runs.get(run_id)
    if run.status.finished:
        return run.status, ended_words(run_id, run.status)
    return stop_run(ctx, run_id, executor), None


def too_late_words(version: int) -> str:
    """What a person is told when their stop came after the training stored version ``version``."""
    return (f"Too late to stop: this run had already finished training and is saving version {version}. "
            "It will finish in a moment.")


def stop_or_too_late(ctx: ServiceContext, run_id: str, executor: Executor | None = None) -> int | None:
    """``stop_run``, except that a stop which comes after the training stored its version (the
    store's "Too late" conflict) is not an error to a person: the version being saved is
    returned (say it with ``too_late_words``); None when the stop was asked or not needed."""
    try:
        stop_run(ctx, run_id, executor)
    except ConflictError as exc:
        version = exc.details.get("version")
        if exc.details.get("run") != run_id or not isinstance(version, int):
            raise
        return version
    return None


@dataclass
class Update:
    run: Run
    new_stdout: str
    new_stderr: str


def follow_run(ctx: ServiceContext, run_id: str, on_update: Callable[[Update], None],
               poll_seconds: float = 0.25, timeout: float | None = None) -> Run:
    """Poll the run until it finishes, reporting progress and new log text."""
    seen_out = seen_err = 0
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        run = ctx.runs.get(run_id)
        out, err = run.stdout, run.stderr
        # The stored log is a bounded tail: when it was cut, start again from its end.
        new_out = out[seen_out:] if len(out) >= seen_out else out
        new_err = err[seen_err:] if len(err) >= seen_err else err
        seen_out, seen_err = len(out), len(err)
        on_update(Update(run, new_out, new_err))
        if run.status.finished:
            return run
        if deadline is not None and time.monotonic() > deadline:
            raise SoftqueryError(f"Run {run_id} did not finish within {timeout} seconds.", code="timeout")
        time.sleep(poll_seconds)


def list_runs(ctx: ServiceContext, model: str | None = None, status: RunStatus | None = None,
              limit: int = 50, *, kind: RunKind | None = None) -> list[Run]:
    if model:
        ctx.models.get(model)
    return ctx.runs.list(model, status, limit, kind=kind)


def going_runs(ctx: ServiceContext, model: str) -> list[Run]:
    """The runs of ``model`` that are queued or running, oldest first (the first is the one
    going now; the others wait for it: one run of a model runs at a time)."""
    going = [run for status in (RunStatus.RUNNING, RunStatus.QUEUED)
             for run in ctx.runs.list(model, status, GOING_SHOWN)]
    return sorted(going, key=lambda run: run.created_at)


def get_run(ctx: ServiceContext, run_id: str) -> Run:
    return ctx.runs.get(run_id)
