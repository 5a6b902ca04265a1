"""Train on rows handed over by the supervisor: dataset → fit → round-trip check.

Runs where user code may run (a job child). It opens no database and never
sees a data-source URL: the trusted supervisor reads the train query and
sends the rows (``softquery.services.job_child``); it never touches the metadata DB.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from softquery.data import TrainingSet, build_training_set, detect_id_columns, detect_label
from softquery.domain import TaskType
from softquery.modelcode.checks import declared_task_name, require_valid_code
from softquery.modelcode.loader import load_code_module, model_class
from softquery.training.capture import Captured, capture_output, share_blocks
from softquery.training.cross_validation import (
    DEFAULT_FOLDS,
    MIN_FOLDS,
    CrossValidation,
    TimeBudget,
    cross_validate,
    skipped,
)
from softquery.training.fit import Progress, fit_and_evaluate, label_classes, task_before_fitting
from softquery.training.parallel import cores_for, worth_forking
from softquery.training.roundtrip import save_and_check
from softquery.training.selection import choose_code
from softquery.training.spec import TrainSpec

# () -> (train rows, predict query's columns[, the rows' fingerprint when the reader made it])
ReadRows = Callable[[], tuple[pa.Table, list[str]] | tuple[pa.Table, list[str], str]]


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
    code: str = ""  # the code the artifact runs: the model's, or the configuration a search/AutoML chose
    template: str | None = None  # the template that code came from (AutoML: the one it chose)
    cv: dict[str, Any] | None = None  # CrossValidation.as_dict()
    selection: dict[str, Any] | None = None  # a search's or AutoML's trials and choice


def _label_and_ids(spec: TrainSpec, train_columns: list[str], predict_columns: list[str]) -> tuple[str | None, list[str]]:
    if declared_task_name(spec.code) == TaskType.CLUSTERING.value and not spec.label:
        label = None
    else:
        label = detect_label(train_columns, predict_columns, spec.label)
    ids = [c for c in detect_id_columns(train_columns, spec.id_columns) if c != label]
    return label, ids


ROUND_TRIP_SHARE = 0.1  # of the time limit, kept for the round-trip check and sending the result back
ROUND_TRIP_SECONDS = 1.0  # at least


def _cv_budget(spec: TrainSpec, started: float, timings: dict[str, float], fit_seconds: float,
               fit_rows: int) -> TimeBudget | None:
    """What the run's time limit leaves for cross-validation: the limit less the time so far,
    less room for the round-trip check (a share of the limit, and half the final fit's time
    for predicting every row and pickling the model). Fold times are estimated from a fit
    that took ``fit_seconds`` on ``fit_rows`` rows."""
    if spec.time_limit_seconds is None:
        return None
    limit = float(spec.time_limit_seconds)
    room = max(ROUND_TRIP_SECONDS, ROUND_TRIP_SHARE * limit) + 0.5 * timings.get("final_fit", 0.0)
    left = limit - (time.perf_counter() - started) - room
    return TimeBudget(seconds_left=left, fit_seconds=fit_seconds, fit_rows=fit_rows, limit_seconds=limit)


# A job child's first fit also pays for lazy imports, first calls and copy-on-write faults after
# the holdout fit's fork (0.05-0.22 s for the demo's 180-row linear regression whose later fits
# take 1-3 ms); the fold estimate leaves it out, and the time the job waited for a CPU (a busy
# machine: the demo's first fit took 0.3-0.45 s of wall time with 6 processes on 2 cores).
FIRST_FIT_SECONDS = 0.08


def _cpu_wait_seconds() -> float:
    """How long this process's main thread has waited for a CPU, runnable (Linux
    /proc/self/schedstat; 0.0 where it cannot be read)."""
    try:
        with open("/proc/self/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _fold_seconds(spec: TrainSpec, fit_seconds: float, fit_rows: int, rows: int) -> float:
    """About how long one fold's fit takes, from a fit's time (the job child's first: less
    ``FIRST_FIT_SECONDS``) in proportion to the rows a fold trains on, to decide whether the
    folds are worth forking (``parallel.worth_forking``)."""
    folds = _folds(spec) or DEFAULT_FOLDS
    sample = min(rows, spec.cv_max_rows or rows)
    share = 0.5 if spec.order_column else (folds - 1) / folds  # ordered folds train on n/2 rows on average
    return max(fit_seconds - FIRST_FIT_SECONDS, 0.0) * sample * share / max(fit_rows, 1)


def _folds(spec: TrainSpec) -> int:
    """The folds to cross-validate with: the model's, else the server's default (filled in the
    spec by the service; None: DEFAULT_FOLDS); 0 or 1: none."""
    return DEFAULT_FOLDS if spec.cv_folds is None else spec.cv_folds


def _cross_validate(spec: TrainSpec, cls: Any, dataset: TrainingSet, task: TaskType, classes: list[Any] | None,
                    progress: Progress, budget: TimeBudget | None, cores: int, fork: bool | None = None
                    ) -> CrossValidation:
    if _folds(spec) < MIN_FOLDS:
        return skipped(len(dataset.X), f"Cross-validation is off on this server (SOFTQUERY_CV_FOLDS is {_folds(spec)}) "
                       "for models that do not set their folds; set the model's cross-validation folds "
                       "(--cv-folds N) to cross-validate it. Only the holdout figures are shown.")
    return cross_validate(cls, dataset.X, dataset.y, task, classes, folds=_folds(spec),
                          order=dataset.order, order_column=spec.order_column, progress=progress, cores=cores,
                          max_rows=spec.cv_max_rows, budget=budget, fork=fork)


def train_from_rows(spec: TrainSpec, read_rows: ReadRows, progress: Progress) -> TrainOutput:
    """Train on the rows ``read_rows`` returns (it is called once, after the code check)."""
    started = time.perf_counter()
    share_blocks()  # the run log's headings, shared by this training's forked fits only
    require_valid_code(spec.code)
    rows = read_rows()
    table, predict_columns = rows[0], rows[1]
    t_read = time.perf_counter() - started
    label, ids = _label_and_ids(spec, table.column_names, predict_columns)
    progress("preparing features", 0.15, f"{table.num_rows:,} rows")
    dataset = build_training_set(table, label=label, id_columns=ids, order_column=spec.order_column,
                                 digest=rows[2] if len(rows) > 2 else None)
    del table
    t_prep = time.perf_counter() - started - t_read
    # what search trials / AutoML candidates print, each under its name (``capture.headed``)
    with capture_output(spec.log_limit) if spec.capture_output else contextlib.nullcontext(Captured()) as trials_out:
        chosen = choose_code(spec, dataset.X, dataset.y, label=label, progress=progress,
                             order=dataset.order)
    cls = model_class(load_code_module(chosen.code))
    early: list[CrossValidation] = []

    def cv_beside_the_holdout(final_seconds: float) -> None:
        # with 2+ cores, the folds run in this process's time while the holdout fit (the
        # longer of the two: it also predicts and measures) is still running in its worker
        task = task_before_fitting(cls, dataset.y)
        if chosen.cv is not None or task is None:
            return  # measured by the selection / the task waits for the holdout's predictions
        t_cv = time.perf_counter()
        rows = len(dataset.X)
        busy = final_seconds - min(_cpu_wait_seconds() - waited, final_seconds)  # less the wait for a CPU
        worth = worth_forking(_fold_seconds(spec, busy, rows, rows))
        early.append(_cross_validate(spec, cls, dataset, task, label_classes(task, dataset.y, label), progress,
                                     _cv_budget(spec, started, {"final_fit": final_seconds}, final_seconds, rows),
                                     max(1, spec.cores - 1) if worth else 1, fork=worth))  # a core is the holdout's
        early_timings["cross_validation"] = time.perf_counter() - t_cv

    early_timings: dict[str, float] = {}
    waited = _cpu_wait_seconds()  # from here to the final fit's end: at least that fit's wait
    fit = fit_and_evaluate(chosen.code, dataset.X, dataset.y, label=label, progress=progress,
                           log_limit=spec.log_limit, capture=spec.capture_output, cores=spec.cores,
                           after_final=cv_beside_the_holdout, order=dataset.order)
    fit.timings.update(early_timings)
    cv = chosen.cv or (early[0] if early else None)
    if cv is None:
        t_cv = time.perf_counter()
        fit_rows = fit.holdout_rows or len(dataset.X)
        holdout_seconds = fit.timings.get("holdout_fit", 0.0)
        # the final fit, in this process (the holdout's ran in a worker on 2+ cores), less the wait for a CPU
        final_seconds = fit.timings.get("final_fit", 0.0)
        busy = final_seconds - min(_cpu_wait_seconds() - waited, final_seconds)
        with capture_output(spec.log_limit) if spec.capture_output else contextlib.nullcontext(Captured()) as out:
            cv = _cross_validate(spec, cls, dataset, fit.task, fit.classes, progress,
                                 _cv_budget(spec, started, fit.timings, holdout_seconds, fit_rows),
                                 cores_for(spec.cores, _fold_seconds(spec, busy, len(dataset.X), len(dataset.X))))
        fit.output.stdout += out.stdout
        fit.output.stderr += out.stderr
        fit.timings["cross_validation"] = time.perf_counter() - t_cv
    if chosen.cv is None:
        fit.timings["cv_fold_fits"] = cv.fit_seconds
    progress("checking the saved model", 0.9)
    t_rt = time.perf_counter()
    artifact = save_and_check(fit.model, chosen.code, dataset.X)
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
        notes=list(dataset.notes) + chosen.notes + fit.notes + cv.notes, stdout=trials_out.stdout + fit.output.stdout,
        stderr=trials_out.stderr + fit.output.stderr, code=chosen.code, template=chosen.template, cv=cv.as_dict(),
        selection=chosen.report,
    )
