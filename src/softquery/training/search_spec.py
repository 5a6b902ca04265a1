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

import math
from typing import Any

from softquery.errors import InvalidInputError
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


def parse_param(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME=V1,V2,...`` (values), ``NAME=LOW:HIGH`` or ``NAME=LOW:HIGH:log`` (a range), or ``NAME`` (defaults)."""
    name, eq, rest = text.partition("=")
    name = name.strip()
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise _bad(f"--param {text!r}: write NAME=V1,V2,... or NAME=LOW:HIGH[:log], e.g. alpha=0.1,1,10 or "
                   "alpha=0.001:100:log.", value=text)
    if not eq:
        return name, {}
    rest = rest.strip()
    if not rest:
        raise _bad(f"--param {text!r} gives no values: write {name}=V1,V2,... or {name}=LOW:HIGH[:log].", value=text)
    if ":" in rest and "," not in rest:
        parts = [p.strip() for p in rest.split(":")]
        log = len(parts) == 3 and parts[2].lower() == "log"
        if len(parts) not in (2, 3) or (len(parts) == 3 and not log):
            raise _bad(f"--param {text!r}: a range is LOW:HIGH or LOW:HIGH:log.", value=text)
        low, high = parse_value(parts[0]), parse_value(parts[1])
        if not _number(low) or not _number(high):
            raise _bad(f"--param {text!r}: LOW and HIGH of a range must be numbers: {name}=LOW:HIGH or "
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
    return {"low": low, "high": high, "log": log}


def _check_values(name: str, values: Any) -> dict[str, Any]:
    if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
        raise _bad(f"Search parameter {name}: values must be a list of 1 to {MAX_VALUES} values.", param=name)
    for v in values:
        if not (v is None or isinstance(v, str | bool) or _number(v)):
            raise _bad(f"Search parameter {name}: {v!r} is not a number, text, true/false or null.", param=name)
    return {"values": list(dict.fromkeys(values))}  # each value once, in the order given


def _check_param(name: str, p: SearchParameter, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict) or set(given) - {"values", "low", "high", "log"}:
        raise _bad(f"Search parameter {name}: give {{\"values\": [...]}} or {{\"low\": L, \"high\": H, "
                   "\"log\": false}} (or {} for its defaults).", param=name)
    if "values" in given:
        if set(given) - {"values"}:
            raise _bad(f"Search parameter {name}: give values or a range, not both.", param=name)
        return _check_values(name, given["values"])
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
            raise _bad("This model's code has no known search parameters: name them with --param Call.keyword=... "
                       "(e.g. --param RandomForestRegressor.max_depth=3,6).")
        params = {p.name: {} for p in defaults}
    if params:
        resolved = resolve(params, code, template)
        out["params"] = {name: _check_param(name, resolved[name], given) for name, given in params.items()}
    if search.get("trials") is not None:
        out["trials"] = _whole(search["trials"], "trials", MAX_TRIALS)
    objective = search.get("objective")
    if objective is not None:
        key = OBJECTIVE_ALIASES.get(str(objective).lower(), str(objective).lower())
        if key not in OBJECTIVES:
            raise _bad(f"Search objective {objective!r} is not a cross-validation metric; choose one of: "
                       f"{', '.join(OBJECTIVES)}.", value=str(objective))
        out["objective"] = key
    if method == "grid" and "configs" not in out:
        size = grid_size(out["params"])
        if size > MAX_GRID and "trials" not in out:
            raise _bad(f"This grid has {size:,} combinations, more than {MAX_GRID}: give fewer values, or "
                       f"--trials N to try N of them, or --search random.", combinations=size)
    return out


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
        resolve(config, code, template)
        for name, value in config.items():
            _check_values(name, [value])
        out.append(dict(config))
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
        text += f", at most {search['trials']} trials"
    if search.get("objective"):
        text += f", by {search['objective']}"
    return text
