"""Train from a data source: read → dataset → fit → round-trip check.

Runs where user code may run (a job child); it never touches the metadata DB.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from softquery.data import build_training_set, detect_id_columns, detect_label, open_source
from softquery.data.connection import DEFAULT_STATEMENT_TIMEOUT_SECONDS
from softquery.domain import TaskType
from softquery.modelcode.checks import declared_task_name, require_valid_code
from softquery.training.fit import Progress, fit_and_evaluate
from softquery.training.roundtrip import save_and_check


@dataclass
class TrainSpec:
    model: str
    code: str
    train_sql: str
    predict_sql: str
    source_url: str
    label: str | None = None
    id_columns: list[str] | None = None
    log_limit: int = 200_000
    capture_output: bool = True
    statement_timeout_seconds: float | None = DEFAULT_STATEMENT_TIMEOUT_SECONDS


@dataclass
class TrainOutput:
    artifact: bytes
    data: dict[str, Any]
    task: str
    metrics: dict[str, Any]
    evaluation: dict[str, Any]
    classes: list[Any] | None
    timings: dict[str, float]
    notes: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""


def _label_and_ids(spec: TrainSpec, train_columns: list[str], predict_columns: list[str]) -> tuple[str | None, list[str]]:
    if declared_task_name(spec.code) == TaskType.CLUSTERING.value and not spec.label:
        label = None
    else:
        label = detect_label(train_columns, predict_columns, spec.label)
    ids = [c for c in detect_id_columns(train_columns, spec.id_columns) if c != label]
    return label, ids


def train_from_source(spec: TrainSpec, progress: Progress) -> TrainOutput:
    started = time.perf_counter()
    require_valid_code(spec.code)
    progress("reading training rows", 0.05)
    with open_source(spec.source_url, timeout=spec.statement_timeout_seconds) as conn:
        predict_columns = conn.query_schema(spec.predict_sql, what="predict query").names
        table = conn.read_table(spec.train_sql, what="train query")
    t_read = time.perf_counter() - started
    label, ids = _label_and_ids(spec, table.column_names, predict_columns)
    progress("preparing features", 0.15, f"{table.num_rows:,} rows")
    dataset = build_training_set(table, label=label, id_columns=ids)
    del table
    t_prep = time.perf_counter() - started - t_read
    fit = fit_and_evaluate(spec.code, dataset.X, dataset.y, label=label, progress=progress,
                           log_limit=spec.log_limit, capture=spec.capture_output)
    progress("checking the saved model", 0.9)
    t_rt = time.perf_counter()
    artifact = save_and_check(fit.model, spec.code, dataset.X)
    timings = {"read": t_read, "prepare": t_prep, **fit.timings, "round_trip": time.perf_counter() - t_rt,
               "total": time.perf_counter() - started}
    data = {
        "rows": dataset.row_count,
        "columns": dataset.columns,
        "fingerprint": dataset.fingerprint,
        "label": label,
        "id_columns": ids,
        "features": [dataclasses.asdict(f) for f in dataset.features],
    }
    return TrainOutput(
        artifact=artifact, data=data, task=fit.task.value, metrics=fit.metrics,
        evaluation=fit.evaluation, classes=fit.classes, timings=timings,
        notes=list(dataset.notes) + fit.notes, stdout=fit.output.stdout, stderr=fit.output.stderr,
    )
