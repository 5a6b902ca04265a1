"""Selection benchmark: the ``auto`` template against a plain scikit-learn default and the best template.

```sh
.venv/bin/python benchmarks/selection.py                 # 60 s budget, 20,000 generated rows (the README figures)
.venv/bin/python benchmarks/selection.py --quick         # 10 s budget, 2,000 generated rows, ~4 min
```

On each demo model's rows and two generated tables (``selection_data``: ``linear``, ``nonlinear``),
single process, one thread (as a job child of one core), 5-fold CV (softquery's folds):

* **auto**: ``softquery.training.automl.choose`` with ``--budget`` seconds: the template it
  chose, that template's CV mean ± std of the key metric (r2 / f1) and AutoML's seconds;
* **default**: a plain scikit-learn default model with the same preprocessing
  (``AutoPreprocessor()`` + ``RandomForestRegressor()`` / ``RandomForestClassifier()``,
  scikit-learn's defaults, ``random_state=0``): CV and seconds;
* **best template**: every template that suits the task cross-validated with no budget; the
  best CV mean ± std, and the seconds of all of them.

Targets: auto's CV mean ≥ the best template's mean − its std, and AutoML's seconds ≤ budget
+ 10 %. The exit code is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import threadpoolctl
from selection_data import Dataset, all_datasets, cv_score, estimator_model
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from softquery.domain import TaskType
from softquery.modelcode.loader import load_code_module, model_class
from softquery.modelcode.templates import template_code
from softquery.training.automl import BUDGET_SLACK, automl_task, candidates, choose
from softquery.training.spec import TrainSpec

QUICK_BUDGET = 10
FULL_BUDGET = 60


def run_auto(data: Dataset, budget: int) -> tuple[str, float, float, float, int]:
    started = time.perf_counter()
    spec = TrainSpec(model="bench", code=template_code("auto"), template="auto", time_budget_seconds=budget)
    result = choose(spec, data.X, data.y, label=str(data.y.name), progress=lambda *a, **k: None)
    seconds = time.perf_counter() - started
    mean, std = result.cv.score(result.report["metric"])
    over_budget = [s for s in result.report["skipped"] if "time budget" in s["reason"]]
    return result.template, float(mean or 0.0), float(std or 0.0), seconds, len(over_budget)


def run_default(data: Dataset, task: TaskType) -> tuple[float, float, float]:
    started = time.perf_counter()
    estimator = (RandomForestRegressor(random_state=0) if task is TaskType.REGRESSION
                 else RandomForestClassifier(random_state=0))
    mean, std = cv_score(estimator_model(estimator, task), data, task)
    return mean, std, time.perf_counter() - started


def run_templates(data: Dataset, task: TaskType) -> tuple[str, float, float, float]:
    started = time.perf_counter()
    names, _ = candidates(task, data.X)
    scores = {name: cv_score(model_class(load_code_module(template_code(name))), data, task) for name in names}
    best = max(scores, key=lambda name: scores[name][0])
    return best, *scores[best], time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=None,
                        help=f"AutoML's time budget in seconds (default {FULL_BUDGET}, --quick {QUICK_BUDGET})")
    parser.add_argument("--quick", action="store_true", help="2,000 generated rows instead of 20,000, 10 s budget")
    args = parser.parse_args()
    budget = args.budget or (QUICK_BUDGET if args.quick else FULL_BUDGET)
    warnings.filterwarnings("ignore")
    threadpoolctl.threadpool_limits(1)  # OpenMP and BLAS as loaded by now (sklearn.ensemble is)
    limit = budget * (1 + BUDGET_SLACK)
    print(f"auto budget {budget} s (target ≤ {limit:g} s) | CV mean ± std of r2 / f1, 5 folds | one thread")
    head = (f"{'dataset':<24} {'rows':>6} | {'auto: chosen':<48} {'CV':>15} {'s':>6} | {'default RF':>15} "
            f"{'s':>6} | {'best template':<34} {'CV':>15} {'s':>6} | {'auto-best':>9} target")
    print(head)
    print("-" * len(head))
    missed = 0
    for data in all_datasets(args.quick):
        task, _ = automl_task("auto", template_code("auto"), data.y, str(data.y.name))
        chosen, a_mean, a_std, a_sec, skipped = run_auto(data, budget)
        d_mean, d_std, d_sec = run_default(data, task)
        best, b_mean, b_std, b_sec = run_templates(data, task)
        ok = a_mean >= b_mean - b_std - 1e-12 and a_sec <= limit
        missed += not ok
        label = chosen + (f" ({skipped} over budget)" if skipped else "")
        print(f"{data.name:<24} {len(data.X):>6} | {label:<48} {a_mean:>7.3f} ± {a_std:.3f} {a_sec:>6.1f} | "
              f"{d_mean:>7.3f} ± {d_std:.3f} {d_sec:>6.1f} | {best:<34} {b_mean:>7.3f} ± {b_std:.3f} "
              f"{b_sec:>6.1f} | {a_mean - b_mean:>+9.3f} {'ok' if ok else 'MISSED'}", flush=True)
    print(f"\ntargets: auto ≥ best template's mean − std and ≤ {limit:g} s: "
          f"{'all met' if not missed else f'{missed} missed'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
