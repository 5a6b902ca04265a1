"""CREATE MODEL's OPTIONS(...) in BigQuery ML's names, mapped onto softquery's templates and settings.

``model_type`` picks a template (BigQuery's names for the templates that exist, or a
template's own name); the hyperparameter options are rendered into the template's code
(``modelcode.template_parameters``) as its estimator's arguments; ``input_label_cols`` is the
label; ``data_split_method``/``data_split_eval_fraction`` set ``Model.holdout_fraction``;
and softquery's own model settings (description, id_columns, output_table, predict_sql …)
may be given by their names. Anything else is an error that names it, the nearest known
option (or value) and lists the known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from softquery.domain import DeployStrategy, WriteMode
from softquery.modelcode.template_parameters import Literal
from softquery.modelcode.templates import list_templates
from softquery.services.model_selection import OBJECTIVE_NAMES
from softquery.services.sql_model_search import (
    ALGORITHMS,
    TUNING_OPTIONS,
    plan_search,
    tuned,
    without,
)
from softquery.sql.positions import nearest
from softquery.sql.statement_errors import SqlError, sql_error
from softquery.sql.statements import CreateModel, Option

HYPERPARAMETERS = ("l1_reg", "l2_reg", "max_iterations", "learn_rate", "num_clusters", "max_tree_depth",
                   "num_parallel_tree", "subsample", "early_stop", "kmeans_init_method")
SPLIT_OPTIONS = ("data_split_method", "data_split_eval_fraction")
# softquery's model settings (services/model_settings.py), under their own names
SETTING_OPTIONS = ("description", "id_columns", "output_table", "write_mode", "deploy", "predict_sql",
                   "time_limit_seconds", "memory_limit_mb", "time_budget_seconds")
SPLIT_METHODS = ("AUTO_SPLIT", "RANDOM", "NO_SPLIT")
DEFAULT_EVAL_FRACTION = 0.2  # BigQuery's RANDOM default, and softquery's holdout


@dataclass(frozen=True)
class ModelType:
    template: str
    estimator: str | None  # the template's estimator call the hyperparameters set
    hyperparameters: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()  # accepted, no meaning here (said in the answer)
    takes_label: bool = True


MODEL_TYPES: dict[str, ModelType] = {
    "linear_reg": ModelType("linear_regression", "LinearRegression", ("l2_reg",),
                            ignored=("max_iterations", "learn_rate")),
    "logistic_reg": ModelType("logistic_regression", "LogisticRegression", ("l1_reg", "l2_reg", "max_iterations")),
    "boosted_tree_regressor": ModelType("hist_gradient_boosting_regressor", "HistGradientBoostingRegressor",
                                        ("learn_rate", "max_iterations", "max_tree_depth", "l2_reg", "early_stop")),
    "boosted_tree_classifier": ModelType("hist_gradient_boosting_classifier", "HistGradientBoostingClassifier",
                                         ("learn_rate", "max_iterations", "max_tree_depth", "l2_reg", "early_stop")),
    "random_forest_regressor": ModelType("random_forest_regressor", "RandomForestRegressor",
                                         ("num_parallel_tree", "max_tree_depth", "subsample")),
    "random_forest_classifier": ModelType("random_forest_classifier", "RandomForestClassifier",
                                          ("num_parallel_tree", "max_tree_depth", "subsample")),
    "kmeans": ModelType("kmeans", "KMeans", ("num_clusters", "max_iterations", "kmeans_init_method"),
                        takes_label=False),
}


def model_types() -> dict[str, ModelType]:
    """BigQuery's names, then every template under its own name (no hyperparameters)."""
    named = dict(MODEL_TYPES)
    for info in list_templates():
        named.setdefault(info.name, ModelType(info.name, None, takes_label=info.task != "clustering"))
    return named


def known_options() -> tuple[str, ...]:
    return ("model_type", "input_label_cols", *SPLIT_OPTIONS, *HYPERPARAMETERS, *TUNING_OPTIONS, *SETTING_OPTIONS)


def options_for(type_name: str) -> tuple[str, ...]:
    """The options that apply to ``type_name`` (what the console offers once the model_type is
    written): its own hyperparameters (not those it ignores), tuning only when it has some, the
    label only when it takes one, the split options and softquery's settings."""
    kind = model_types().get(type_name.lower())
    if kind is None:
        return known_options()
    label = ("input_label_cols",) if kind.takes_label else ()
    tuning = TUNING_OPTIONS if kind.hyperparameters and kind.estimator else ()
    return ("model_type", *label, *SPLIT_OPTIONS, *kind.hyperparameters, *tuning, *SETTING_OPTIONS)


def option_values() -> dict[str, tuple[str, ...]]:
    """The values of the options that take one of a known few (quoted text), by option."""
    return {"model_type": tuple(model_types()), "data_split_method": SPLIT_METHODS,
            "kmeans_init_method": ("RANDOM", "KMEANS++"), "hparam_tuning_algorithm": tuple(ALGORITHMS),
            "hparam_tuning_objectives": tuple(OBJECTIVE_NAMES), "write_mode": tuple(w.value for w in WriteMode),
            "deploy": tuple(d.value for d in DeployStrategy)}


@dataclass
class ModelPlan:
    """What CREATE MODEL's options ask for, checked."""

    model_type: str
    template: str
    calls: dict[str, dict[str, Literal]] = field(default_factory=dict)  # estimator keyword arguments
    attributes: dict[str, Literal] = field(default_factory=dict)  # class Model attributes
    label: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # ModelSpec fields
    notes: list[str] = field(default_factory=list)


def plan_model(statement: CreateModel) -> ModelPlan:
    """The template, code parameters, label and settings the statement's options ask for."""
    options = statement.options
    for name, option in options.items():
        if name not in known_options():
            raise _unknown(statement, option, f"The option {name} is not known", name, known_options(), "option")
    types = model_types()
    given_type = options.get("model_type")
    if given_type is None:
        raise statement.where.error(
            f"CREATE MODEL needs OPTIONS(model_type='…'). Known model types: {', '.join(types)}.",
            extra={"known": list(types)})
    type_name = _text(statement, "model_type", given_type).lower()
    if type_name not in types:
        raise _unknown(statement, given_type, f"model_type {type_name!r} is not known", type_name, types,
                       "model_type")
    kind = types[type_name]
    plan = ModelPlan(type_name, kind.template)
    plan.label = _label(statement, kind, type_name)
    for name in HYPERPARAMETERS:
        if name in options and name not in kind.hyperparameters:
            if name in kind.ignored:
                plan.notes.append(f"option {name} is ignored: {type_name} has no such setting here.")
                continue
            takes = ", ".join(kind.hyperparameters) or "none"
            raise sql_error(f"The option {name} does not apply to model_type {type_name!r}; "
                            f"its options here: {takes}.", statement.where.script, options[name].offset,
                            extra={"option": name, "known": list(kind.hyperparameters)})
    _hyperparameters(without(statement, tuned(statement)), kind, plan)
    search, template = plan_search(statement, type_name, kind.estimator)
    if search is not None:
        plan.settings["search"] = search
        if template is not None and not plan.calls:
            plan.template = template
    if "max_parallel_trials" in options:
        plan.notes.append("option max_parallel_trials is ignored: trials run side by side up to the job's cores.")
    _split(statement, plan)
    for name in SETTING_OPTIONS:
        if name in options:
            plan.settings[name] = _setting(statement, name, options[name])
    return plan


def _unknown(statement: CreateModel, option: Option, message: str, name: str, known: Iterable[str],
             what: str) -> SqlError:
    listed = list(known)
    suggestion = nearest(name, listed)
    said = f" Did you mean {suggestion!r}?" if suggestion else ""
    return sql_error(f"{message}.{said} Known {what}s: {', '.join(listed)}.", statement.where.script,
                     option.offset, extra={"known": listed, **({"suggestion": suggestion} if suggestion else {})})


def _bad(statement: CreateModel, name: str, expected: str) -> SqlError:
    option = statement.options[name]
    return sql_error(f"The option {name} takes {expected}; it is {option.value!r}.", statement.where.script,
                     option.offset, extra={"option": name})


def _text(statement: CreateModel, name: str, option: Option) -> str:
    if not isinstance(option.value, str) or not option.value:
        raise _bad(statement, name, "a text in quotes")
    return option.value


def _number(statement: CreateModel, name: str, check: Callable[[float], bool], expected: str) -> float:
    value = statement.options[name].value
    if isinstance(value, bool) or not isinstance(value, int | float) or not check(float(value)):
        raise _bad(statement, name, expected)
    return float(value)


def _whole(statement: CreateModel, name: str, low: int) -> int:
    value = statement.options[name].value
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _bad(statement, name, f"a whole number of at least {low}")
    return value


def _label(statement: CreateModel, kind: ModelType, type_name: str) -> str | None:
    option = statement.options.get("input_label_cols")
    if option is None:
        return None
    if not kind.takes_label:
        raise sql_error(f"model_type {type_name!r} learns without a label: leave out input_label_cols.",
                        statement.where.script, option.offset, extra={"option": "input_label_cols"})
    value = option.value
    labels = value if isinstance(value, list) else [value]
    if len(labels) != 1 or not isinstance(labels[0], str) or not labels[0]:
        raise _bad(statement, "input_label_cols", "one column name: ['column']")
    return labels[0]


def _hyperparameters(statement: CreateModel, kind: ModelType, plan: ModelPlan) -> None:
    options = statement.options
    given = [name for name in kind.hyperparameters if name in options]
    if not given or kind.estimator is None:
        return
    keywords: dict[str, Literal] = {}
    non_negative = (lambda v: v >= 0, "a number of at least 0")
    if plan.model_type == "linear_reg":
        l2 = _number(statement, "l2_reg", *non_negative)
        if l2 > 0:  # ridge regression: the same least squares with an L2 penalty
            plan.template = "ridge_regression"
            plan.calls["Ridge"] = {"alpha": l2}
        return
    if plan.model_type == "logistic_reg":
        l1 = _number(statement, "l1_reg", *non_negative) if "l1_reg" in options else 0.0
        l2 = _number(statement, "l2_reg", *non_negative) if "l2_reg" in options else 0.0
        if "l1_reg" in options or "l2_reg" in options:
            # scikit-learn's C is the inverse of the penalty's strength; l1_ratio its L1 share
            keywords["C"] = 1.0 / (l1 + l2) if l1 + l2 > 0 else float("inf")
            keywords["l1_ratio"] = l1 / (l1 + l2) if l1 + l2 > 0 else 0.0
            if l1 > 0:
                keywords["solver"] = "saga"
    for name in given:
        if name in ("l1_reg",) or (name == "l2_reg" and plan.model_type == "logistic_reg"):
            continue
        if name == "max_iterations":
            keywords["max_iter"] = _whole(statement, name, 1)
        elif name == "learn_rate":
            keywords["learning_rate"] = _number(statement, name, lambda v: v > 0, "a number above 0")
        elif name == "l2_reg":
            keywords["l2_regularization"] = _number(statement, name, *non_negative)
        elif name == "max_tree_depth":
            keywords["max_depth"] = _whole(statement, name, 1)
        elif name == "num_parallel_tree":
            keywords["n_estimators"] = _whole(statement, name, 1)
        elif name == "subsample":
            keywords["max_samples"] = _number(statement, name, lambda v: 0 < v <= 1, "a number above 0, up to 1")
        elif name == "early_stop":
            value = options[name].value
            if not isinstance(value, bool):
                raise _bad(statement, name, "true or false")
            keywords["early_stopping"] = value
        elif name == "num_clusters":
            keywords["n_clusters"] = _whole(statement, name, 2)
        elif name == "kmeans_init_method":
            methods = dict(zip(option_values()["kmeans_init_method"], ("random", "k-means++"), strict=True))
            method = _text(statement, name, options[name]).upper()
            if method not in methods:
                raise _unknown(statement, options[name], f"kmeans_init_method {method!r} is not known", method,
                               methods, "kmeans_init_method value")
            keywords["init"] = methods[method]
    if keywords:
        plan.calls[kind.estimator] = keywords


def _split(statement: CreateModel, plan: ModelPlan) -> None:
    options = statement.options
    method = "AUTO_SPLIT"
    if "data_split_method" in options:
        method = _text(statement, "data_split_method", options["data_split_method"]).upper()
        if method not in SPLIT_METHODS:
            known = ("AUTO_SPLIT", "RANDOM", "NO_SPLIT")
            message = (f"data_split_method {method!r} is not available here (softquery splits at random)"
                       if method in ("SEQ", "CUSTOM") else f"data_split_method {method!r} is not known")
            raise _unknown(statement, options["data_split_method"], message, method, known,
                           "data_split_method value")
    if "data_split_eval_fraction" in options:
        if method == "NO_SPLIT":
            raise sql_error("data_split_eval_fraction has no meaning with data_split_method='NO_SPLIT'; "
                            "leave one out.", statement.where.script, options["data_split_eval_fraction"].offset)
        fraction = _number(statement, "data_split_eval_fraction", lambda v: 0 < v < 1,
                           "a number between 0 and 1 (the share of rows held out)")
        plan.attributes["holdout_fraction"] = fraction
    elif method == "NO_SPLIT":
        plan.attributes["holdout_fraction"] = 0.0


def _setting(statement: CreateModel, name: str, option: Option) -> Any:
    value = option.value
    if name == "id_columns":
        names = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) and v for v in names):
            raise _bad(statement, name, "column names: ['id'] or 'id'")
        return names
    if name in ("time_limit_seconds", "memory_limit_mb", "time_budget_seconds"):
        return _whole(statement, name, 1)
    return _text(statement, name, option)
