"""CREATE MODEL's hyperparameter tuning options in BigQuery ML's names, as a softquery search.

A hyperparameter option given as ``HPARAM_RANGE(low, high)`` or ``HPARAM_CANDIDATES([...])``
is searched (``Model.search``, ``training/search.py``) instead of set: ``num_trials`` caps the
trials, ``hparam_tuning_algorithm`` picks the method (``GRID_SEARCH`` grid, ``RANDOM_SEARCH``
random, ``VIZIER_DEFAULT`` — BigQuery's default — bayes, with Optuna's TPE) and
``hparam_tuning_objectives`` the cross-validation metric chosen by (``['r2_score']``,
``['mean_absolute_error']`` …; default: the task's key metric).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from typing import Any

from softquery.services.model_selection import OBJECTIVE_NAMES
from softquery.sql.statement_errors import sql_error
from softquery.sql.statements import CreateModel, HparamCandidates, HparamRange

TUNING_OPTIONS = ("num_trials", "hparam_tuning_algorithm", "hparam_tuning_objectives", "max_parallel_trials")
ALGORITHMS = {"GRID_SEARCH": "grid", "RANDOM_SEARCH": "random", "VIZIER_DEFAULT": "bayes"}
# BigQuery's hyperparameter option -> the estimator keyword it searches (as sql_model_options sets it)
KEYWORDS = {"max_iterations": "max_iter", "learn_rate": "learning_rate", "l2_reg": "l2_regularization",
            "max_tree_depth": "max_depth", "num_parallel_tree": "n_estimators", "subsample": "max_samples",
            "num_clusters": "n_clusters", "early_stop": "early_stopping"}
LOG_SCALE = ("l2_reg", "learn_rate", "l1_reg")


def tuned(statement: CreateModel) -> list[str]:
    """The options given as HPARAM_RANGE / HPARAM_CANDIDATES."""
    return [name for name, option in statement.options.items()
            if isinstance(option.value, HparamRange | HparamCandidates)]


def without(statement: CreateModel, names: list[str]) -> CreateModel:
    return dataclasses.replace(statement, options={k: v for k, v in statement.options.items() if k not in names})


def plan_search(statement: CreateModel, model_type: str, estimator: str | None) -> tuple[dict[str, Any] | None,
                                                                                       str | None]:
    """(the search, the template it needs instead of the model type's, if any); None: no tuning."""
    options = statement.options
    names = tuned(statement)
    if not names:
        for name in ("num_trials", "hparam_tuning_algorithm", "hparam_tuning_objectives"):
            if name in options:
                raise sql_error(f"The option {name} tunes hyperparameters, but none is given as HPARAM_RANGE(low, "
                                "high) or HPARAM_CANDIDATES([...]); e.g. l2_reg=HPARAM_RANGE(0.001, 10).",
                                statement.where.script, options[name].offset, extra={"option": name})
        return None, None
    template = None
    params: dict[str, Any] = {}
    for name in names:
        option = options[name]
        value = option.value
        call, keyword, invert = estimator, KEYWORDS.get(name), False
        if model_type == "linear_reg" and name == "l2_reg":
            template, call, keyword = "ridge_regression", "Ridge", "alpha"
        elif model_type == "logistic_reg" and name == "l2_reg":
            keyword, invert = "C", True  # scikit-learn's C is 1 / the penalty's strength
        if call is None or keyword is None:
            raise sql_error(f"The option {name} cannot be searched here; give it one value.",
                            statement.where.script, option.offset, extra={"option": name})
        params[f"{call}.{keyword}"] = _given(statement, name, value, invert)
    search: dict[str, Any] = {"method": _algorithm(statement), "params": params}
    if "num_trials" in options:
        trials = options["num_trials"].value
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise sql_error(f"The option num_trials takes a whole number of at least 1; it is {trials!r}.",
                            statement.where.script, options["num_trials"].offset, extra={"option": "num_trials"})
        search["trials"] = trials
    if "hparam_tuning_objectives" in options:
        search["objective"] = _objective(statement)
    return search, template


def _given(statement: CreateModel, name: str, value: Any, invert: bool) -> dict[str, Any]:
    if isinstance(value, HparamCandidates):
        values = [1.0 / v if invert and isinstance(v, int | float) and v else v for v in value.values]
        return {"values": values}
    assert isinstance(value, HparamRange)
    low, high = (value.low, value.high)
    if invert:
        if low <= 0:
            raise sql_error(f"HPARAM_RANGE of {name} needs a low above 0 here (the estimator's C is 1/{name}).",
                            statement.where.script, statement.options[name].offset, extra={"option": name})
        low, high = 1.0 / high, 1.0 / low
    log = name in LOG_SCALE and low > 0 and not math.isclose(low, 0.0)
    return {"low": low, "high": high, "log": log}


def _algorithm(statement: CreateModel) -> str:
    option = statement.options.get("hparam_tuning_algorithm")
    if option is None:
        return "bayes"  # BigQuery's default, VIZIER_DEFAULT
    text = str(option.value or "").upper()
    if text not in ALGORITHMS:
        raise sql_error(f"hparam_tuning_algorithm {option.value!r} is not known; choose one of: "
                        f"{', '.join(ALGORITHMS)}.", statement.where.script, option.offset,
                        extra={"option": "hparam_tuning_algorithm", "known": list(ALGORITHMS)})
    return ALGORITHMS[text]


def _objective(statement: CreateModel) -> str:
    option = statement.options["hparam_tuning_objectives"]
    values = option.value if isinstance(option.value, list) else [option.value]
    if len(values) != 1 or not isinstance(values[0], str):
        raise sql_error("hparam_tuning_objectives takes one objective here, e.g. ['r2_score'] or "
                        "['mean_absolute_error'].", statement.where.script, option.offset,
                        extra={"option": "hparam_tuning_objectives"})
    key = OBJECTIVE_NAMES.get(values[0].lower())
    if key is None:
        near = difflib.get_close_matches(values[0].lower(), list(OBJECTIVE_NAMES), n=1, cutoff=0.5)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise sql_error(f"hparam_tuning_objectives {values[0]!r} is not known.{hint} Choose one of: "
                        f"{', '.join(OBJECTIVE_NAMES)}.", statement.where.script, option.offset,
                        extra={"option": "hparam_tuning_objectives", "known": list(OBJECTIVE_NAMES)})
    return key
