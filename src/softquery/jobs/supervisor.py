"""Supervise one run: claim it, run its untrusted half in a sandboxed child,
stream logs and progress, honour stop requests and limits, record the outcome.

The supervisor is trusted: it holds the metadata DB and the signing key, and
never runs model code. Every outcome ends up on the run row.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from softquery.domain import Run, RunKind, RunStatus
from softquery.errors import LimitExceededError, RunStoppedError, SoftqueryError
from softquery.jobs.child import JobPayload, job_child_main
from softquery.jobs.sandbox import Limits, Sandbox, memory_error_message
from softquery.services.context import ServiceContext
from softquery.services.prediction import predict_spec, record_prediction
from softquery.services.progress import Listener, RunProgress
from softquery.services.training import record_training, train_spec

log = logging.getLogger(__name__)
LOG_FLUSH_SECONDS = 0.5
STOP_CHECK_SECONDS = 0.25
LIMIT_STATUSES = ("time_limit", "memory_limit", "process_limit")


class _ChildFailed(SoftqueryError):
    """Carries the child's error dict (code, message, details) up to the run."""

    def __init__(self, error: dict[str, Any]):
        super().__init__(str(error.get("message") or "The job failed."), details=error.get("details") or {},
                         code=str(error.get("code") or "error"))


def limits_for(ctx: ServiceContext, run: Run) -> Limits:
    model = ctx.models.get(run.model)
    s = ctx.settings
    return Limits(
        wall_seconds=float(model.time_limit_seconds or s.time_limit_seconds),
        memory_mb=model.memory_limit_mb or s.memory_limit_mb,
        max_processes=s.max_processes,
        max_file_mb=s.max_file_mb,
    )


class _Channel:
    """The supervisor's side of one child: logs, progress, heartbeats, stop, limits."""

    def __init__(self, ctx: ServiceContext, run: Run, progress: RunProgress, listener: Listener | None):
        self.ctx, self.run, self.progress, self.listener = ctx, run, progress, listener
        self.out: list[str] = []
        self.err: list[str] = []
        self.last_flush = self.last_stop_check = self.last_beat = time.monotonic()

    def flush(self) -> None:
        if self.out or self.err:
            self.ctx.runs.append_logs(self.run.id, "".join(self.out), "".join(self.err),
                                      self.ctx.settings.max_log_chars)
            self.out.clear()
            self.err.clear()
        self.last_flush = time.monotonic()

    def handle(self, message: Any, sandbox: Sandbox) -> tuple[str, Any] | None:
        kind = message[0]
        if kind in ("stdout", "stderr"):
            (self.out if kind == "stdout" else self.err).append(message[1])
            if self.listener is not None:
                self.listener("log", None, message[1])
        elif kind == "progress":
            self.progress(message[1], message[2], message[3])
        elif kind == "confirm_commit":
            sandbox.send(("commit", not self.ctx.runs.stop_requested(self.run.id)))
        elif kind in ("result", "error"):
            return kind, message[1]
        return None

    def tick(self, sandbox: Sandbox) -> None:
        now = time.monotonic()
        if now - self.last_flush >= LOG_FLUSH_SECONDS:
            self.flush()
        if now - self.last_beat >= self.ctx.settings.heartbeat_seconds:
            self.ctx.runs.heartbeat(self.run.id)
            self.last_beat = now
        if now - self.last_stop_check >= STOP_CHECK_SECONDS:
            self.last_stop_check = now
            if self.ctx.runs.stop_requested(self.run.id):
                sandbox.kill("stopped")
        if sandbox.deadline_passed():
            sandbox.kill("time_limit")


def run_child(ctx: ServiceContext, run: Run, payload: JobPayload, limits: Limits,
              progress: RunProgress, listener: Listener | None = None) -> Any:
    """Run one untrusted step in a sandbox; return its result or raise a clear error."""
    channel = _Channel(ctx, run, progress, listener)
    sandbox = Sandbox.start(job_child_main, payload, limits=limits, name=f"run-{run.id}")
    outcome: tuple[str, Any] | None = None
    try:
        while True:
            for message in sandbox.receive(0.1):
                outcome = channel.handle(message, sandbox) or outcome
            channel.tick(sandbox)
            info = sandbox.wait(0)
            if info is not None:
                for message in sandbox.receive(0.05):
                    outcome = channel.handle(message, sandbox) or outcome
                break
    finally:
        channel.flush()
        sandbox.close()
    if info.status == "stopped":
        raise RunStoppedError("The run was stopped. No version was created and the output table "
                              "was left as it was.")
    if info.status in LIMIT_STATUSES or (info.status != "ok" and (outcome is None or outcome[0] != "error")):
        raise LimitExceededError(info.message, code=info.status,
                                 details={"exit_code": info.exit_code, "signal": info.signal})
    if outcome is None:
        raise _ChildFailed({"code": "internal_error", "message": "The job process ended without a result."})
    if outcome[0] == "error":
        raise _ChildFailed(outcome[1])
    return outcome[1]


def supervise(ctx: ServiceContext, run_id: str, *, worker: str, listener: Listener | None = None) -> str:
    """Claim and execute ``run_id``; returns the claim outcome ("claimed", "busy", "gone")."""
    claim = ctx.runs.claim(run_id, worker)
    if claim != "claimed":
        return claim
    run = ctx.runs.get(run_id)
    progress = RunProgress(ctx.runs, run_id, listener)
    result: dict[str, Any] = {}
    try:
        limits = limits_for(ctx, run)
        memory_message = memory_error_message(limits)
        if run.kind in (RunKind.TRAIN, RunKind.TRAIN_THEN_PREDICT):
            spec = train_spec(ctx, run)
            out = run_child(ctx, run, JobPayload("train", spec, memory_message), limits, progress, listener)
            result["train"] = record_training(ctx, run, spec, out)
        if run.kind in (RunKind.PREDICT, RunKind.TRAIN_THEN_PREDICT):
            pspec = predict_spec(ctx, run)
            pout = run_child(ctx, run, JobPayload("predict", pspec, memory_message), limits, progress, listener)
            result["predict"] = record_prediction(pout)
    except RunStoppedError as exc:
        ctx.runs.finish_if_running(run_id, RunStatus.CANCELLED, result=result, error=exc.to_dict())
        return claim
    except SoftqueryError as exc:
        ctx.runs.finish_if_running(run_id, RunStatus.FAILED, result=result, error=exc.to_dict())
        return claim
    except Exception as exc:
        log.exception("run %s failed unexpectedly", run_id)
        ctx.runs.finish_if_running(run_id, RunStatus.FAILED, result=result, error={
            "code": "internal_error",
            "message": f"softquery hit an unexpected error ({type(exc).__name__}: {exc}).",
            "details": {"traceback": traceback.format_exc()},
        })
        return claim
    ctx.runs.finish_if_running(run_id, RunStatus.SUCCEEDED, result=result)
    return claim


Supervise = Callable[[ServiceContext, str], str]
