"""A hyperparameter search as a model stores it (``Model.search``), checked and made plain.

    {"method": "grid" | "random" | "bayes",
     "params": {NAME: {"values": [...]} | {"low": L, "high": H, "log": bool} | {}},
     "trials": N,                        # optional: at most N trials
     "objective": "r2" | "mae" | ...,    # optional: the CV metric to choose by (default: the task's key metric)
     "configs": [{NAME: value, ...}]}    # optional: explicit configurations (MLSQL fitParam groups; grid only)

NAME is a template parameter (``modelcode.template_search_spaces``) or ``Call.keyword``; ``{}``
takes the parameter's default values (grid) or range (random, bayes). A search with no params
and no configs searches every parameter of the template with its defaults. The text forms of
the CLI (``--param NAME=V1,V2`` / ``NAME=LOW:HIGH[:log]``) are read by ``parse_param``.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from softquery.domain import TaskType
from softquery.errors import DataError, InvalidInputError
from softquery.modelcode.checks import declared_task_name
from softquery.modelcode.template_search_spaces import SearchParameter, known_parameters, resolve

METHODS = ("grid", "random", "bayes")
MAX_TRIALS = 500
MAX_GRID = 200           # a grid with more combinations is refused unless --trials caps it
MAX_VALUES = 100
GRID_POINTS = 5          # a range in a grid search: this many evenly spaced points
DEFAULT_TRIALS = 10      # random and bayes without --trials
# CV metrics a search may choose by; True: lower is better
OBJECTIVES = {"r2": False, "mae": True, "rmse": True, "accuracy": False, "precision": False, "recall": False,
              "f1": False, "roc_auc": False, "log_loss": True, "silhouette": False}
# the metrics each task's cross-validation measures (roc_auc: two classes only; roc_auc and
# log_loss: a model that gives probabilities)
TASK_OBJECTIVES = {TaskType.REGRESSION.value: ("r2", "mae", "rmse"),
                   TaskType.CLASSIFICATION.value: ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"),
                   TaskType.CLUSTERING.value: ("silhouette",)}
OBJECTIVE_ALIASES = {"r2_score": "r2", "mean_absolute_error": "mae", "mean_squared_error": "rmse",
                     "root_mean_squared_error": "rmse", "f1_score": "f1", "explained_variance": "r2"}


def _bad(message: str, **details: Any) -> InvalidInputError:
    return InvalidInputError(message, details={"field": "search", **details})


def parse_value(text: str) -> Any:
    """One value as typed: a number, true/false, none, or text."""
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        value = float(t)
    except ValueError:
        return t.strip("'\"")
    if not math.isfinite(value):
        raise _bad(f"{t!r} is not a finite number.")
    return value


def parse_param(text: str, *, where: str | None = None) -> tuple[str, dict[str, Any]]:
    """``NAME=V1,V2,...`` (values), ``NAME=LOW:HIGH`` or ``NAME=LOW:HIGH:log`` (a range), or ``NAME`` (defaults).
    ``where``: how an error names the text (default the CLI's ``--param 'TEXT'``; the web form
    passes "Search parameter NAME")."""
    name, eq, rest = text.partition("=")
    name = name.strip()
    said = where or f"--param {text!r}"
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise _bad(f"{said}: write NAME=V1,V2,... or NAME=LOW:HIGH[:log], e.g. alpha=0.1,1,10 or "
                   "alpha=0.001:100:log.", value=text)
    if not eq:
        return name, {}
    rest = rest.strip()
    if not rest:
        raise _bad(f"{said} gives no values: write {name}=V1,V2,... or {name}=LOW:HIGH[:log].", value=text)
    if ":" in rest and "," not in rest:
        parts = [p.strip() for p in rest.split(":")]
        log = len(parts) == 3 and parts[2].lower() == "log"
        if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
            raise _bad(f"{said}: a range is LOW:HIGH or LOW:HIGH:log.", value=text)
        low, high = parse_value(parts[0]), parse_value(parts[1])
        if not _number(low) or not _number(high):
            raise _bad(f"{said}: LOW and HIGH of a range must be numbers: {name}=LOW:HIGH or "
                       f"{name}=LOW:HIGH:log.", value=text)
        return name, {"low": low, "high": high, "log": log}
    values = [parse_value(v) for v in rest.split(",") if v.strip()]
    return name, {"values": values}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any, what: str, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise _bad(f"The search's {what} must be a whole number from 1 to {high}; it is {value!r}.")
    return value


def _check_range(name: str, p: SearchParameter, given: dict[str, Any]) -> dict[str, Any]:
    low: Any = given.get("low")
    high: Any = given.get("high")
    log = given.get("log", False)
    if not _number(low) or not _number(high) or not isinstance(log, bool):
        raise _bad(f"Search parameter {name}: low and high must be numbers and log true or false.", param=name)
    if p.kind == "choice" and p.grid:
        raise _bad(f"Search parameter {name} takes one of {', '.join(map(repr, p.grid))}, not a range; "
                   "give values.", param=name)
    if not low < high:
        raise _bad(f"Search parameter {name}: low ({low}) must be below high ({high}).", param=name)
    if log and low <= 0:
        raise _bad(f"Search parameter {name}: a log range needs low above 0 (it is {low}).", param=name)
    if p.kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
        raise _bad(f"Search parameter {name} takes whole numbers: its range's low and high must be whole "
                   f"({low}:{high}).", param=name)
    if p.minimum is not None and (low <= p.minimum if p.above else low < p.minimum):
        raise _bad(f"Search parameter {name} takes values {_bound(p)}: the range's low ({low}) is not.",
                   param=name)
    if p.kind == "int":
        low, high = int(low), int(high)
    return {"low": low, "high": high, "log": log}


def _bound(p: SearchParameter) -> str:
    return f"{'above' if p.above else 'of at least'} {p.minimum:g}"


def _kind_words(p: SearchParameter) -> str:
    kind = "whole numbers" if p.kind == "int" else "numbers"
    extra = [*(repr(w) for w in p.words), *(["none"] if p.none_ok else [])]
    bound = f" {_bound(p)}" if p.minimum is not None else ""
    return f"{kind}{bound}" + (f" (or {', '.join(extra)})" if extra else "")


def _typed(name: str, p: SearchParameter | None, value: Any) -> Any:
    """``value`` checked against the parameter's type and bounds (as far as the registry knows them)."""
    if p is None or (p.kind == "choice" and not p.grid):
        return value  # a keyword softquery knows nothing about: the trial will tell
    if p.kind == "choice":
        if not any(value == g and type(value) is type(g) for g in p.grid):
            raise _bad(f"Search parameter {name} takes one of {', '.join(_show(g) for g in p.grid)}; "
                       f"{_show(value)} is not one of them.", param=name, value=_show(value))
        return value
    if (value is None and p.none_ok) or (isinstance(value, str) and value in p.words):
        return value
    if not _number(value) or (p.kind == "int" and not float(value).is_integer()):
        raise _bad(f"Search parameter {name} takes {_kind_words(p)}; {_show(value)} is not one.",
                   param=name, value=_show(value))
    if p.minimum is not None and (value <= p.minimum if p.above else value < p.minimum):
        raise _bad(f"Search parameter {name} takes {_kind_words(p)}; {_show(value)} is too small.",
                   param=name, value=_show(value))
    return int(value) if p.kind == "int" else value


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


def _check_values(name: str, values: Any, p: SearchParameter | None = None) -> dict[str, Any]:
    if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
        raise _bad(f"Search parameter {name}: values must be a list of 1 to {MAX_VALUES} values.", param=name)
    for v in values:
        if not (v is None or isinstance(v, str | bool) or _number(v)):
            raise _bad(f"Search parameter {name}: {v!r} is not a number, text, true/false or null.", param=name)
    typed = [_typed(name, p, v) for v in values]
    return {"values": list(dict.fromkeys(typed))}  # each value once, in the order given


def _check_param(name: str, p: SearchParameter, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict) or set(given) - {"values", "low", "high", "log"}:
        raise _bad(f"Search parameter {name}: give {{\"values\": [...]}} or {{\"low\": L, \"high\": H, "
                   "\"log\": false}} (or {} for its defaults).", param=name)
    if "values" in given:
        if set(given) - {"values"}:
            raise _bad(f"Search parameter {name}: give values or a range, not both.", param=name)
        return _check_values(name, given["values"], p)
    if given:
        return _check_range(name, p, given)
    if not p.grid and p.low is None:
        raise _bad(f"Search parameter {name} has no default values: give values ({name}=V1,V2) or a range "
                   f"({name}=LOW:HIGH).", param=name)
    return {}


def normalize(search: dict[str, Any], code: str, template: str | None) -> dict[str, Any]:
    """``search`` checked against the model's code and template; the stored form (module docstring)."""
    if not isinstance(search, dict):
        raise _bad("The search must be an object: {\"method\": ..., \"params\": {...}, \"trials\": N}.")
    unknown = set(search) - {"method", "params", "trials", "objective", "configs"}
    if unknown:
        raise _bad(f"The search has unknown keys: {', '.join(sorted(unknown))} (it takes method, params, trials, "
                   "objective, configs).")
    params = search.get("params") or {}
    configs = search.get("configs")
    if not isinstance(params, dict):
        raise _bad("The search's params must be an object: {NAME: {\"values\": [...]}}.")
    method = search.get("method") or _default_method(params, configs)
    if method not in METHODS:
        raise _bad(f"Search method {method!r} is not valid; choose one of: {', '.join(METHODS)}.", value=str(method))
    out: dict[str, Any] = {"method": method}
    if configs is not None:
        out["configs"] = _check_configs(configs, code, template, method)
    elif not params:
        defaults = known_parameters(code, template)
        if not defaults:
            raise _bad("This model's code has no known search parameters: name a keyword of a call it makes as "
                       "Call.keyword (e.g. RandomForestRegressor.max_depth with values 3,6).")
        params = {p.name: {} for p in defaults}
    if params:
        resolved = resolve(params, code, template)
        out["params"] = {name: _check_param(name, resolved[name], given) for name, given in params.items()}
    if search.get("trials") is not None:
        out["trials"] = _whole(search["trials"], "trials", MAX_TRIALS)
    objective = search.get("objective")
    if objective is not None:
        out["objective"] = objective_key(objective, code)
    if method == "grid" and "configs" not in out:
        size = grid_size(out["params"])
        if size > MAX_GRID and "trials" not in out:
            raise _bad(f"This grid has {size:,} combinations, more than {MAX_GRID}: give fewer values, set at most "
                       "how many trials to try (that many combinations, drawn at random), or use the random "
                       "method.", combinations=size)
    return out


def objective_key(objective: Any, code: str) -> str:
    """The CV metric an objective names (BigQuery's names too), checked against the task the code
    declares: an unknown name gets the nearest known one."""
    text = str(objective).strip().lower()
    key = OBJECTIVE_ALIASES.get(text, text)
    if key not in OBJECTIVES:
        names = [*OBJECTIVES, *OBJECTIVE_ALIASES]
        near = difflib.get_close_matches(text, names, n=1, cutoff=0.5)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        raise _bad(f"Search objective {objective!r} is not a cross-validation metric.{hint} Choose one of: "
                   f"{', '.join(OBJECTIVES)}.", value=str(objective),
                   **({"suggestion": near[0]} if near else {}))
    task = declared_task_name(code)
    measured = TASK_OBJECTIVES.get(task or "")
    if measured is not None and key not in measured:
        raise _bad(f"Search objective {objective!r} is not measured for {task}: its cross-validation "
                   f"measures {', '.join(measured)}.", value=str(objective), task=task)
    return key


def check_objective(objective: str, task: TaskType, classes: list[Any] | None, *, has_proba: bool) -> None:
    """At train time, once the task is known: the search's objective is a metric its CV measures."""
    measured = TASK_OBJECTIVES[task.value]
    if objective not in measured:
        raise DataError(f"The search's objective {objective} is not measured for {task.value}: its "
                        f"cross-validation measures {', '.join(measured)}. Change the objective.",
                        details={"problem": "objective_unmeasured", "objective": objective, "task": task.value})
    if objective in ("roc_auc", "log_loss") and not has_proba:
        raise DataError(f"The search's objective {objective} needs the model's class probabilities, and this "
                        "model gives none (no predict_proba). Choose f1 or accuracy.",
                        details={"problem": "objective_unmeasured", "objective": objective})
    if objective == "roc_auc" and classes is not None and len(classes) != 2:
        shown = ", ".join(map(str, classes[:5])) + (", ..." if len(classes) > 5 else "")
        raise DataError(f"The search's objective roc_auc is measured for two classes only; the label has "
                        f"{len(classes)} ({shown}). Choose f1, accuracy or log_loss.",
                        details={"problem": "objective_unmeasured", "objective": objective,
                                 "classes": len(classes)})


def _default_method(params: dict[str, Any], configs: Any) -> str:
    """grid for configurations or values only; random when a range is given."""
    ranged = any(isinstance(v, dict) and "low" in v for v in params.values())
    return "random" if ranged and not configs else "grid"


def _check_configs(configs: Any, code: str, template: str | None, method: str) -> list[dict[str, Any]]:
    if method != "grid":
        raise _bad("Explicit configurations (configs) are tried as a grid: use method grid.")
    if not isinstance(configs, list) or not configs or len(configs) > MAX_TRIALS:
        raise _bad(f"The search's configs must be a list of 1 to {MAX_TRIALS} objects {{NAME: value}}.")
    out: list[dict[str, Any]] = []
    for config in configs:
        if not isinstance(config, dict) or not config:
            raise _bad("Each configuration must be an object {NAME: value} with at least one parameter.")
        resolved = resolve(config, code, template)
        out.append({name: _check_values(name, [value], resolved[name])["values"][0] for name, value in config.items()})
    return out


def grid_values(p: SearchParameter, given: dict[str, Any]) -> list[Any]:
    """The values a grid search tries for one parameter."""
    if "values" in given:
        return list(given["values"])
    if not given:
        if p.grid:
            return list(p.grid)
        given = {"low": p.low, "high": p.high, "log": p.log}
    low, high, log = float(given["low"]), float(given["high"]), bool(given["log"])
    points = [math.exp(math.log(low) + (math.log(high) - math.log(low)) * i / (GRID_POINTS - 1)) if log
              else low + (high - low) * i / (GRID_POINTS - 1) for i in range(GRID_POINTS)]
    if is_int(p, given):
        return list(dict.fromkeys(int(round(v)) for v in points))
    return [round(v, 6) for v in points]


def is_int(p: SearchParameter, given: dict[str, Any]) -> bool:
    """Whether a range draws whole numbers: the parameter's type, else both bounds whole."""
    if p.kind in ("int", "float"):
        return p.kind == "int"
    return all(isinstance(given.get(k), int) and not isinstance(given.get(k), bool) for k in ("low", "high"))


def grid_size(params: dict[str, dict[str, Any]]) -> int:
    size = 1
    for given in params.values():
        size *= len(given["values"]) if "values" in given else GRID_POINTS
    return size


def describe(search: dict[str, Any]) -> str:
    """One line: "grid over alpha (3 values), max_depth (2:10) — at most 20 trials"."""
    parts = []
    for name, given in (search.get("params") or {}).items():
        if "values" in given:
            parts.append(f"{name}={','.join(str(v) for v in given['values'])}")
        elif given:
            parts.append(f"{name}={given['low']}:{given['high']}" + (":log" if given.get("log") else ""))
        else:
            parts.append(f"{name} (defaults)")
    if search.get("configs"):
        parts.append(f"{len(search['configs'])} configurations")
    text = f"{search.get('method', 'grid')} over {', '.join(parts) or 'the defaults'}"
    if search.get("trials"):
        text += f", at most {search['trials']} trial{'' if search['trials'] == 1 else 's'}"
    if search.get("objective"):
        text += f", by {search['objective']}"
    return text
