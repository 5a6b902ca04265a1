"""Use case: train a model's code on its train query and store a signed version."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from softquery.artifacts.signing import json_clean, sign
from softquery.data import build_training_set, detect_id_columns, detect_label, open_source
from softquery.data.sources import dialect_of
from softquery.domain import DeployStrategy, Model, Run, TaskType
from softquery.modelcode.checks import declared_task_name, require_valid_code
from softquery.services.context import ServiceContext
from softquery.services.progress import RunProgress
from softquery.training.fit import fit_and_evaluate
from softquery.training.manifest import build_manifest
from softquery.training.metrics import key_metric
from softquery.training.roundtrip import save_and_check


def _label_and_ids(model: Model, train_columns: list[str], predict_columns: list[str]) -> tuple[str | None, list[str]]:
    if declared_task_name(model.code) == TaskType.CLUSTERING.value and not model.label:
        label = None
    else:
        label = detect_label(train_columns, predict_columns, model.label)
    ids = [c for c in detect_id_columns(train_columns, model.id_columns) if c != label]
    return label, ids


def _should_activate(ctx: ServiceContext, model: Model, task: TaskType, metrics: dict[str, Any]) -> bool:
    if model.deploy is DeployStrategy.MOST_RECENT or model.active_version is None:
        return True
    active = ctx.versions.get(model.name, model.active_version)
    try:
        active_task = TaskType(str(active.manifest.get("task")))
    except ValueError:
        return True
    new_score, old_score = key_metric(task, metrics), key_metric(active_task, active.metrics)
    if new_score is None:
        return False
    return old_score is None or active_task is not task or new_score > old_score


def execute_train(ctx: ServiceContext, run: Run, progress: RunProgress) -> dict[str, Any]:
    """Train ``run.model``; returns the run result (version, activation, metrics)."""
    started = time.perf_counter()
    model = ctx.models.get(run.model)
    require_valid_code(model.code)
    url = ctx.sources.get(model.source).url
    progress("reading training rows", 0.05, force=True)
    with open_source(url) as conn:
        predict_columns = conn.query_schema(model.predict_sql, what="predict query").names
        table = conn.read_table(model.train_sql, what="train query")
    t_read = time.perf_counter() - started
    label, ids = _label_and_ids(model, table.column_names, predict_columns)
    progress("preparing features", 0.15, f"{table.num_rows} rows")
    dataset = build_training_set(table, label=label, id_columns=ids)
    del table
    t_prep = time.perf_counter() - started - t_read
    fit = fit_and_evaluate(
        model.code, dataset.X, dataset.y, label=label, progress=progress,
        log_limit=ctx.settings.max_log_chars,
    )
    ctx.runs.update(run.id, stdout=fit.output.stdout, stderr=fit.output.stderr)
    progress("checking the saved model", 0.9)
    t_rt = time.perf_counter()
    artifact = save_and_check(fit.model, model.code, dataset.X)
    timings = {"read": t_read, "prepare": t_prep, **fit.timings, "round_trip": time.perf_counter() - t_rt}
    number = ctx.versions.peek_next_number(model.name)
    data = {
        "rows": dataset.row_count,
        "columns": dataset.columns,
        "fingerprint": dataset.fingerprint,
        "label": label,
        "id_columns": ids,
        "features": [dataclasses.asdict(f) for f in dataset.features],
    }
    manifest = json_clean(build_manifest(
        model=model.name, version=number, run_id=run.id, source=model.source,
        source_dialect=dialect_of(url), train_sql=model.train_sql, code=model.code,
        template=model.template, data=data, task=fit.task.value, metrics=fit.metrics,
        evaluation=fit.evaluation, classes=fit.classes, artifact=artifact,
        duration_seconds=time.perf_counter() - started, timings=timings,
        notes=list(getattr(dataset, "notes", [])) + fit.notes,
    ))
    activate = _should_activate(ctx, model, fit.task, fit.metrics)
    progress("storing the version", 0.97)
    version = ctx.versions.add(
        model.name, manifest=manifest, signature=sign(ctx.secret_key(), manifest, artifact),
        artifact=artifact, artifact_sha256=manifest["artifact"]["sha256"], run_id=run.id,
        activate=activate, number=number,
    )
    return {
        "version": version.version,
        "activated": activate,
        "task": fit.task.value,
        "metrics": fit.metrics,
        "rows": dataset.row_count,
        "notes": manifest["notes"],
    }
