"""Which AutoML: softquery's loop over templates, FLAML, or Optuna tuning the loop's choice.

```sh
PYTHONPATH=<dir with flaml, optuna, xgboost-cpu> .venv/bin/python benchmarks/automl_libraries.py --budget 10
```

On each dataset of ``selection_data`` (the demo tables and two generated ones, ``--quick`` sizes),
with the same time budget each, single process (``n_jobs=1``):

* **loop**: ``softquery.training.automl.choose`` (every template that suits the task with its
  default parameters, 5-fold CV each, the simplest within one standard deviation of the best);
* **FLAML**: ``flaml.AutoML(time_budget=budget)`` restricted to scikit-learn estimators (no
  LightGBM/XGBoost models), on ``AutoPreprocessor``'s columns; its best estimator is then
  cross-validated like a template (``AutoPreprocessor`` + the estimator, the same 5 folds);
* **Optuna**: TPE over two parameters of the loop's chosen template (``optuna.create_study``,
  ``timeout=budget``, 3-fold CV per trial), its best configuration then cross-validated on
  the same 5 folds.

Prints each one's CV mean ± std of the key metric (r2 / f1) and its seconds. Neither library
is a softquery dependency: install them in a separate directory to run this (README "AutoML"
has the figures and the decision).
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

import sklearn.ensemble  # noqa: F401  (loads OpenMP, so that threadpool_limits reaches it)
import threadpoolctl
from selection_data import Dataset, all_datasets, cv_score, estimator_model

from softquery.domain import TaskType
from softquery.modelcode.loader import load_code_module, model_class
from softquery.modelcode.preprocessing import AutoPreprocessor
from softquery.modelcode.template_parameters import with_parameters
from softquery.modelcode.templates import template_code
from softquery.training.automl import automl_task, choose
from softquery.training.spec import TrainSpec

FLAML_ESTIMATORS = {TaskType.REGRESSION: ["rf", "extra_tree", "kneighbor", "histgb", "enet"],
                    TaskType.CLASSIFICATION: ["rf", "extra_tree", "kneighbor", "histgb", "lrl2"]}
# two parameters of each template Optuna tunes: (call, name, low, high, log, integer)
OPTUNA_SPACE: dict[str, list[tuple[str, str, float, float, bool, bool]]] = {
    "linear_regression": [],
    "ridge_regression": [("Ridge", "alpha", 1e-3, 1e3, True, False)],
    "logistic_regression": [("LogisticRegression", "C", 1e-3, 1e3, True, False)],
    "knn_regressor": [("KNeighborsRegressor", "n_neighbors", 1, 50, False, True)],
    "knn_classifier": [("KNeighborsClassifier", "n_neighbors", 1, 50, False, True)],
    "svm_regressor": [("SVR", "C", 1e-2, 1e3, True, False), ("SVR", "epsilon", 1e-3, 1.0, True, False)],
    "svm_classifier": [("SVC", "C", 1e-2, 1e3, True, False)],
    "random_forest_regressor": [("RandomForestRegressor", "max_depth", 2, 30, False, True),
                                ("RandomForestRegressor", "min_samples_leaf", 1, 20, False, True)],
    "random_forest_classifier": [("RandomForestClassifier", "max_depth", 2, 30, False, True),
                                 ("RandomForestClassifier", "min_samples_leaf", 1, 20, False, True)],
    "hist_gradient_boosting_regressor": [("HistGradientBoostingRegressor", "learning_rate", 0.01, 0.5, True, False),
                                         ("HistGradientBoostingRegressor", "max_leaf_nodes", 4, 64, False, True)],
    "hist_gradient_boosting_classifier": [("HistGradientBoostingClassifier", "learning_rate", 0.01, 0.5, True, False),
                                          ("HistGradientBoostingClassifier", "max_leaf_nodes", 4, 64, False, True)],
    "naive_bayes_text": [("MultinomialNB", "alpha", 1e-3, 1.0, True, False)],
}


def run_loop(data: Dataset, budget: float) -> tuple[str, float, float, float]:
    started = time.perf_counter()
    spec = TrainSpec(model="bench", code=template_code("auto"), template="auto", time_budget_seconds=int(budget))
    result = choose(spec, data.X, data.y, label=str(data.y.name), progress=lambda *a, **k: None)
    mean, std = result.cv.score(result.report["metric"])
    return result.template, float(mean or 0.0), float(std or 0.0), time.perf_counter() - started


def run_flaml(data: Dataset, task: TaskType, budget: float) -> tuple[str, float, float, float]:
    from flaml import AutoML

    started = time.perf_counter()
    prep = AutoPreprocessor()
    matrix = prep.fit_transform(data.X, data.y)
    automl = AutoML()
    automl.fit(matrix, data.y.to_numpy(), task=task.value, time_budget=budget, n_jobs=1, verbose=0,
               estimator_list=FLAML_ESTIMATORS[task], metric="r2" if task is TaskType.REGRESSION else "macro_f1",
               eval_method="cv", n_splits=5, seed=0)
    seconds = time.perf_counter() - started
    best = automl.model.estimator
    mean, std = cv_score(estimator_model(best, task), data, task)
    return f"{automl.best_estimator}", mean, std, seconds


def run_optuna(data: Dataset, task: TaskType, template: str, budget: float) -> tuple[str, float, float, float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = OPTUNA_SPACE.get(template, [])
    if not space:
        return f"{template} (nothing to tune)", float("nan"), float("nan"), 0.0
    started = time.perf_counter()

    def code_for(values: dict[str, Any]) -> str:
        calls: dict[str, dict[str, Any]] = {}
        for call, name, *_ in space:
            calls.setdefault(call, {})[name] = values[name]
        return with_parameters(template_code(template), calls=calls)

    def objective(trial: Any) -> float:
        values = {name: (trial.suggest_int(name, int(low), int(high), log=log) if integer
                         else trial.suggest_float(name, low, high, log=log))
                  for _, name, low, high, log, integer in space}
        return cv_score(model_class(load_code_module(code_for(values))), data, task, folds=3)[0]

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, timeout=budget)
    seconds = time.perf_counter() - started
    mean, std = cv_score(model_class(load_code_module(code_for(study.best_params))), data, task)
    return f"{template} {study.best_params} ({len(study.trials)} trials)", mean, std, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=10.0, help="seconds for each method on each dataset")
    parser.add_argument("--quick", action="store_true", help="2,000 generated rows instead of 20,000")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    threadpoolctl.threadpool_limits(1)  # one thread, as a job child of one core (OpenMP is loaded by now)
    print(f"budget {args.budget:g} s each | CV mean ± std of r2 (regression) / f1 (classification), 5 folds")
    print(f"{'dataset':<26} {'method':<7} {'CV':>15} {'seconds':>8}  chosen")
    for data in all_datasets(args.quick):
        task, _ = automl_task("auto", template_code("auto"), data.y, str(data.y.name))
        template, mean, std, seconds = run_loop(data, args.budget)
        rows = [("loop", template, mean, std, seconds)]
        try:
            rows.append(("FLAML", *run_flaml(data, task, args.budget)))
        except Exception as exc:  # noqa: BLE001 - a library that fails on a dataset is a result
            rows.append(("FLAML", f"failed: {type(exc).__name__}: {exc}"[:80], float("nan"), float("nan"), 0.0))
        rows.append(("Optuna", *run_optuna(data, task, template, args.budget)))
        for method, chosen, m, s, sec in rows:
            print(f"{data.name:<26} {method:<7} {m:>8.3f} ± {s:.3f} {sec:>8.1f}  {chosen}", flush=True)


if __name__ == "__main__":
    main()
