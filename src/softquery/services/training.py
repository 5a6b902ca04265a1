"""Use case: train a model — the trusted half (job in, signed version out).

The supervisor (``softquery.services.run_steps``) reads the train query itself and
hands the rows to the untrusted half, ``softquery.training.pipeline``, run in
a job child. The child gets ``TrainJob.child`` only: no source URL.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from softquery.artifacts.signing import json_clean, sign
from softquery.data.source_urls import dialect_of
from softquery.domain import Model, Run, TaskType
from softquery.modelcode.checks import require_valid_code
from softquery.services.context import ServiceContext
from softquery.services.cv_figures import brief, cv_of
from softquery.services.deploy_decision import DeployDecision, decide
from softquery.services.run_limits import run_limits
from softquery.training.manifest import build_manifest
from softquery.training.pipeline import TrainOutput
from softquery.training.spec import TrainSpec


@dataclass
class TrainJob:
    """The supervisor's description of a training; only ``child`` goes to the job child."""

    source_url: str
    train_sql: str
    predict_sql: str
    child: TrainSpec
    statement_timeout_seconds: float | None

    @property
    def code(self) -> str:
        return self.child.code


def job_cores() -> int:
    """The cores a job may use: the CPUs this process may run on (its affinity, which a cpuset
    limits), fewer under a cgroup CPU quota (``cpu.max``); the sandbox sets no CPU limit of its own."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    with contextlib.suppress(OSError, ValueError):
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period))))
    return max(1, cores)


def _cv_folds(ctx: ServiceContext, model: Model) -> int | None:
    """The folds a training cross-validates with: the model's own, else the server's default
    (SOFTQUERY_CV_FOLDS); 0 when that default is 0 or 1 (no cross-validation; a search or
    AutoML, which chooses by cross-validation, still uses its default folds)."""
    if model.cv_folds is not None:
        return model.cv_folds
    return ctx.settings.cv_folds if ctx.settings.cv_folds >= 2 else 0


def train_spec(ctx: ServiceContext, run: Run, *, capture_output: bool = False) -> TrainJob:
    model = ctx.models.get(run.model)
    require_valid_code(model.code)
    limits = run_limits(ctx.settings, model)  # the same limits the run's sandbox gets (run_supervision)
    return TrainJob(
        source_url=ctx.sources.get(model.source).url, train_sql=model.train_sql,
        predict_sql=model.predict_sql, statement_timeout_seconds=ctx.settings.statement_timeout_seconds,
        child=TrainSpec(model=model.name, code=model.code, label=model.label, id_columns=model.id_columns,
                        log_limit=ctx.settings.max_log_chars, capture_output=capture_output,
                        template=model.template, cv_folds=_cv_folds(ctx, model), order_column=model.order_column,
                        search=model.search, time_budget_seconds=model.time_budget_seconds,
                        time_limit_seconds=float(limits.wall_seconds), cores=job_cores(),
                        cv_max_rows=ctx.settings.cv_max_rows),
    )


def _decide(ctx: ServiceContext, model: Model, number: int, task: TaskType, out: TrainOutput) -> DeployDecision:
    """Whether version ``number`` becomes active (``services.deploy_decision``: CV means, then holdout)."""
    active = ctx.versions.get(model.name, model.active_version) if model.active_version is not None else None
    return decide(model, active, number=number, task=task, metrics=out.metrics, cv=out.cv)


def record_training(ctx: ServiceContext, run: Run, spec: TrainJob, out: TrainOutput) -> dict[str, Any]:
    """Sign and store the version — only while the run is still running and not stopped.

    Safe to call again (the supervisor does, when the metadata DB connection was lost): a
    version this run already stored is answered, never stored twice."""
    stored = ctx.versions.by_run(run.id)
    if stored is not None:
        version = ctx.versions.get(*stored)
        state = "Activated." if version.active else "Not activated."  # the reason was lost with the connection
        return {"version": version.version, "activated": version.active, "task": out.task,
                "metrics": out.metrics, "cv": brief(cv_of(version.manifest)), "rows": out.data["rows"],
                "notes": version.manifest.get("notes", []),
                "deploy": {"strategy": ctx.models.get(run.model).deploy.value, "activated": version.active,
                           "reason": state}}
    model = ctx.models.get(run.model)
    number = ctx.versions.peek_next_number(model.name)
    manifest = json_clean(build_manifest(
        model=model.name, version=number, run_id=run.id, source=model.source,
        source_dialect=dialect_of(spec.source_url), train_sql=spec.train_sql, code=out.code or spec.code,
        template=out.template if out.code else model.template, data=out.data, task=out.task, metrics=out.metrics,
        evaluation=out.evaluation, classes=out.classes, artifact=out.artifact,
        duration_seconds=out.timings.get("total", 0.0), timings=out.timings, notes=out.notes,
        cv=out.cv, selection=out.selection,
    ))
    task = TaskType(out.task)
    decision = _decide(ctx, model, number, task, out)
    activate = decision.activate
    version = ctx.versions.add(
        model.name, manifest=manifest, signature=sign(ctx.secret_key(), manifest, out.artifact),
        artifact=out.artifact, artifact_sha256=manifest["artifact"]["sha256"], run_id=run.id,
        activate=activate, number=number, require_running=True,
    )
    return {
        "version": version.version,
        "activated": activate,
        "task": out.task,
        "metrics": out.metrics,
        "cv": brief(cv_of(manifest)),
        "rows": out.data["rows"],
        "notes": manifest["notes"],
        "deploy": decision.as_dict(model.deploy),
    }
