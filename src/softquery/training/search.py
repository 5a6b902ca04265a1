"""Hyperparameter search (issue 14): try configurations of the model's code, keep the best.

Each trial is the model's code with one configuration rendered into it
(``template_parameters.with_parameters``), cross-validated on the model's folds
(``cross_validation.cross_validate``). Trials run through ``parallel.run_all`` in batches of
the job's cores, so the time budget is checked between batches: once it is spent no new
trial starts (the report lists the ones skipped). grid tries every combination (a seeded
sample of them when ``trials`` caps it), random draws seeded configurations, bayes asks
Optuna's TPE sampler (seeded) for each next batch. The chosen configuration is the one with
the best cross-validation mean of the objective; its code becomes the version's code.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from softquery.domain import TaskType
from softquery.errors import DataError, ModelCodeError, SoftqueryError
from softquery.modelcode.loader import load_code_module, model_class
from softquery.modelcode.template_parameters import with_parameters
from softquery.modelcode.template_search_spaces import SearchParameter, resolve
from softquery.training.capture import headed
from softquery.training.cross_validation import DEFAULT_FOLDS, CrossValidation, cross_validate
from softquery.training.fit import Progress
from softquery.training.parallel import run_all
from softquery.training.search_spec import (
    DEFAULT_TRIALS,
    OBJECTIVES,
    check_objective,
    grid_values,
    is_int,
    normalize,
)
from softquery.training.spec import TrainSpec
from softquery.training.task import declared_task, detect_task

SEARCH_SEED = 0
# the share of the run's progress bar a search or AutoML spreads over (reading and preparing
# the rows come before it; the final fit, its checks and storing the version after it)
PROGRESS_FROM, PROGRESS_TO = 0.15, 0.8
TIME_LIMIT_SHARE = 0.6  # of the run's time limit a search may use (the final fit and checks need the rest)
Config = dict[str, Any]


@contextmanager
def quiet_folds() -> Iterator[None]:
    """Silence scikit-learn's "The least populated class in y has only N members" while search
    trials and AutoML candidates are cross-validated (the CV's notes say it once); the
    version's own final fit keeps its warnings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        yield


def progress_at(done: int, planned: int) -> float:
    """Where the progress bar stands with ``done`` of ``planned`` trials (or candidates) done."""
    return PROGRESS_FROM + (PROGRESS_TO - PROGRESS_FROM) * min(done, planned) / max(planned, 1)


def never_back(progress: Progress) -> Progress:
    """``progress`` whose bar never moves back: after a search or AutoML has filled it to
    ``PROGRESS_TO``, the final fit's own fractions (0.3, 0.6) keep it there."""
    highest = [0.0]

    def forward(phase: str, fraction: float | None = None, detail: str = "") -> None:
        if fraction is not None:
            highest[0] = fraction = max(fraction, highest[0])
        progress(phase, fraction, detail)
    return forward


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def run_trial(code: str, X: pd.DataFrame, y: pd.Series | None, task: TaskType, classes: list[Any] | None,
              folds: int, order: pd.Series | None, order_column: str | None, title: str = "trial"
              ) -> dict[str, Any]:
    """One trial: the code cross-validated; a picklable dict (the CV, or the error's message).
    What the model code prints goes to the run's log as it prints, under a line naming the
    trial (``title``: "trial 3 (alpha=0.1)", ``capture.headed``), in the process that runs the
    trial (forked or not): a run stopped or failed during the search keeps it."""
    started = time.perf_counter()
    with headed(title):
        try:
            cls = model_class(load_code_module(code))
            with quiet_folds():
                cv = cross_validate(cls, X, y, task, classes, folds=folds, order=order, order_column=order_column)
            result: dict[str, Any] = {"cv": cv.as_dict(), "error": None}
        except SoftqueryError as exc:
            result = {"cv": None, "error": exc.message}
    return {**result, "seconds": time.perf_counter() - started}


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones (rendered as code, stored as JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def render(code: str, resolved: dict[str, SearchParameter], config: Config) -> str:
    calls: dict[str, dict[str, Any]] = {}
    for name, value in config.items():
        p = resolved[name]
        calls.setdefault(p.call, {})[p.keyword] = _plain(value)
    return with_parameters(code, calls=calls)


def _grid(search: dict[str, Any], resolved: dict[str, SearchParameter]) -> tuple[list[Config], list[str]]:
    if search.get("configs"):
        configs = [dict(c) for c in search["configs"]]
    else:
        names = list(search["params"])
        axes = [grid_values(resolved[n], search["params"][n]) for n in names]
        configs = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    cap = search.get("trials")
    if cap is not None and cap < len(configs):
        rng = np.random.default_rng(SEARCH_SEED)
        keep = sorted(rng.choice(len(configs), size=cap, replace=False).tolist())
        note = (f"The grid has {len(configs)} combinations; at most {plural(cap, 'trial')} tried {cap} of them, "
                "chosen at random (seeded).")
        return [configs[i] for i in keep], [note]
    return configs, []


def _draw(rng: np.random.Generator, p: SearchParameter, given: dict[str, Any]) -> Any:
    if "values" in given or (not given and p.grid and p.low is None):
        values = given.get("values") or list(p.grid)
        return values[int(rng.integers(len(values)))]
    bounds = given or {"low": p.low, "high": p.high, "log": p.log}
    low, high, log = float(bounds["low"]), float(bounds["high"]), bool(bounds["log"])
    value = math.exp(rng.uniform(math.log(low), math.log(high))) if log else rng.uniform(low, high)
    return int(round(value)) if is_int(p, bounds) else round(float(value), 6)


def _random(search: dict[str, Any], resolved: dict[str, SearchParameter]) -> list[Config]:
    rng = np.random.default_rng(SEARCH_SEED)
    count = search.get("trials") or DEFAULT_TRIALS
    return [{n: _draw(rng, resolved[n], g) for n, g in search["params"].items()} for _ in range(count)]


def _distributions(search: dict[str, Any], resolved: dict[str, SearchParameter]) -> dict[str, Any]:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for name, given in search["params"].items():
        p = resolved[name]
        if "values" in given or (not given and p.low is None):
            out[name] = CategoricalDistribution(given.get("values") or list(p.grid))
            continue
        bounds = given or {"low": p.low, "high": p.high, "log": p.log}
        if is_int(p, bounds):
            out[name] = IntDistribution(int(bounds["low"]), int(bounds["high"]), log=bool(bounds["log"]))
        else:
            out[name] = FloatDistribution(float(bounds["low"]), float(bounds["high"]), log=bool(bounds["log"]))
    return out


class _Trials:
    """The trials as the report keeps them, and which is best."""

    def __init__(self, objective: str, lower_is_better: bool) -> None:
        self.objective, self.lower = objective, lower_is_better
        self.rows: list[dict[str, Any]] = []
        self.cvs: dict[int, dict[str, Any]] = {}
        self.codes: dict[int, str] = {}

    def add(self, config: Config, code: str, result: dict[str, Any]) -> float | None:
        number = len(self.rows) + 1
        row: dict[str, Any] = {"number": number, "params": {k: _plain(v) for k, v in config.items()},
                               "cv_mean": None, "cv_std": None, "seconds": round(float(result["seconds"]), 4)}
        if result["error"] is not None:
            row["error"] = result["error"]
        elif result["cv"] is not None:
            metric = result["cv"]["metrics"].get(self.objective) or {}
            row["cv_mean"], row["cv_std"] = metric.get("mean"), metric.get("std")
            self.cvs[number], self.codes[number] = result["cv"], code
            if row["cv_mean"] is None:
                row["error"] = f"cross-validation measured no {self.objective} ({'; '.join(result['cv']['notes'])})"
        self.rows.append(row)
        return row["cv_mean"] if row["cv_mean"] is not None else None

    def best(self) -> dict[str, Any] | None:
        scored = [r for r in self.rows if r["cv_mean"] is not None]
        if not scored:
            return None
        # best mean; on a tie the earlier trial (the first configuration tried)
        return min(scored, key=lambda r: (r["cv_mean"] if self.lower else -r["cv_mean"], r["number"]))


def _cv_of(data: dict[str, Any]) -> CrossValidation:
    names = {f.name for f in fields(CrossValidation)}
    return CrossValidation(**{k: v for k, v in data.items() if k in names})


def _task(code: str, y: pd.Series | None) -> tuple[TaskType, list[Any] | None]:
    cls = model_class(load_code_module(code))
    task = detect_task(y, declared_task(cls), has_proba=hasattr(cls, "predict_proba"))
    classes = None
    if task is TaskType.CLASSIFICATION and y is not None:
        classes = sorted(pd.unique(y).tolist(), key=lambda v: (str(type(v)), v))
    return task, classes


def _budget(spec: TrainSpec) -> float | None:
    limits = [float(spec.time_budget_seconds)] if spec.time_budget_seconds else []
    if spec.time_limit_seconds:
        limits.append(spec.time_limit_seconds * TIME_LIMIT_SHARE)
    return min(limits) if limits else None


def run_search(spec: TrainSpec, X: pd.DataFrame, y: pd.Series | None, *, progress: Progress,
               order: pd.Series | None = None) -> dict[str, Any]:
    """The search ``spec.search`` asks for: {"code", "cv" (CrossValidation), "report", "notes"};
    ``order``: the order column's values (row for row with X) for ordered folds."""
    assert spec.search is not None
    search = normalize(spec.search, spec.code, spec.template)
    names = list(search.get("params") or {}) or list(dict.fromkeys(k for c in search.get("configs", []) for k in c))
    resolved = resolve(names, spec.code, spec.template)
    task, classes = _task(spec.code, y)
    objective = search.get("objective") or task.key_metric
    check_objective(objective, task, classes, has_proba=hasattr(model_class(load_code_module(spec.code)),
                                                                "predict_proba"))
    lower = OBJECTIVES.get(objective, False)
    folds = spec.cv_folds or DEFAULT_FOLDS
    if order is None and spec.order_column and spec.order_column in X.columns:
        order = X[spec.order_column]
    trial = functools.partial(run_trial, X=X, y=y, task=task, classes=classes, folds=folds, order=order,
                              order_column=spec.order_column)
    trials = _Trials(objective, lower)
    budget, started = _budget(spec), time.perf_counter()
    cores = max(1, spec.cores)
    notes: list[str] = []
    skipped: list[dict[str, Any]] = []

    def out_of_time() -> bool:
        # the first batch always runs: a search with no trial has nothing to choose
        return budget is not None and bool(trials.rows) and time.perf_counter() - started >= budget

    def run_batch(batch: list[Config], planned: int) -> list[float | None]:
        first = len(trials.rows) + 1
        shown = f"trial {first} of {planned}" if len(batch) == 1 else f"trials {first}-{first + len(batch) - 1} of {planned}"
        progress(f"searching: {shown}", progress_at(first - 1, planned))
        codes = [render(spec.code, resolved, c) for c in batch]
        titles = [f"trial {number} ({', '.join(f'{k}={_plain(v)}' for k, v in c.items())})"
                  for number, c in enumerate(batch, start=first)]
        results = run_all([_bound(trial, code, title) for code, title in zip(codes, titles, strict=True)],
                          cores=cores, names=titles)
        return [trials.add(c, code, r) for c, code, r in zip(batch, codes, results, strict=True)]

    if search["method"] == "bayes":
        planned = search.get("trials") or DEFAULT_TRIALS
        _bayes(search, resolved, planned, cores, lower, run_batch, out_of_time, skipped, len_done=lambda: len(trials.rows))
    else:
        configs, more = _grid(search, resolved) if search["method"] == "grid" else (_random(search, resolved), [])
        notes += more
        planned = len(configs)
        for at in range(0, planned, cores):
            if out_of_time():
                skipped += [{"number": at + i + 1, "params": {k: _plain(v) for k, v in c.items()}}
                            for i, c in enumerate(configs[at:])]
                break
            run_batch(configs[at:at + cores], planned)
    best = trials.best()
    if best is None:
        errors = [r["error"] for r in trials.rows if r.get("error")]
        if errors and all("cross-validation measured no" in e for e in errors):
            raise DataError(f"The hyperparameter search could not measure any trial: {errors[0]}.",
                            details={"problem": "search_unmeasured"})
        raise ModelCodeError(f"Every trial of the hyperparameter search failed ({len(trials.rows)} tried). "
                             f"The first: {errors[0] if errors else 'no trial ran'}",
                             details={"problem": "search_failed", "trials": trials.rows[:20]})
    if skipped:
        notes.append(f"The time budget ({budget:.0f} s) ran out after {len(trials.rows)} of "
                     f"{plural(planned, 'trial')}; {len(skipped)} {'was' if len(skipped) == 1 else 'were'} "
                     "not started.")
    failed = [r for r in trials.rows if r.get("error")]
    if failed:
        first_failed = failed[0]
        shown_failed = ", ".join(f"{k}={v}" for k, v in first_failed["params"].items())
        notes.append(f"{len(failed)} of {plural(len(trials.rows), 'trial')} failed: trial {first_failed['number']} "
                     f"({shown_failed}): {first_failed['error']}"
                     + ("" if len(failed) == 1 else " (each failed trial's error is in the trials table)")
                     + ".")
    shown = ", ".join(f"{k}={v}" for k, v in best["params"].items())
    reason = (f"best cross-validated {objective} ({'lowest' if lower else 'highest'} mean over {folds} folds): "
              f"{best['cv_mean']:.4g} ± {best['cv_std'] or 0:.2g} with {shown}")
    notes.insert(0, f"Hyperparameter search ({search['method']}, {plural(len(trials.rows), 'trial')}): chose trial "
                    f"{best['number']}, the {reason}.")
    report = {"kind": "search", "method": search["method"], "objective": objective,
              "direction": "minimize" if lower else "maximize", "folds": folds, "planned": planned,
              "trials": trials.rows, "skipped": skipped, "chosen": best["number"], "params": best["params"],
              "reason": reason[0].upper() + reason[1:] + "."}
    return {"code": trials.codes[best["number"]], "cv": _cv_of(trials.cvs[best["number"]]), "report": report,
            "notes": notes}


def _bound(trial: Callable[..., dict[str, Any]], code: str, title: str) -> Callable[[], dict[str, Any]]:
    return functools.partial(trial, code, title=title)


def _bayes(search: dict[str, Any], resolved: dict[str, SearchParameter], planned: int, cores: int, lower: bool,
           run_batch: Callable[[list[Config], int], list[float | None]], out_of_time: Callable[[], bool],
           skipped: list[dict[str, Any]], len_done: Callable[[], int]) -> None:
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    distributions = _distributions(search, resolved)
    study = optuna.create_study(direction="minimize" if lower else "maximize",
                                sampler=optuna.samplers.TPESampler(seed=SEARCH_SEED))
    while len_done() < planned:
        if out_of_time():
            skipped += [{"number": n, "params": None} for n in range(len_done() + 1, planned + 1)]
            return
        asked = [study.ask(distributions) for _ in range(min(cores, planned - len_done()))]
        scores = run_batch([dict(t.params) for t in asked], planned)
        for t, score in zip(asked, scores, strict=True):
            if score is None:
                study.tell(t, state=optuna.trial.TrialState.FAIL)
            else:
                study.tell(t, score)
