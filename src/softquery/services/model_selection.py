"""A model's selection settings, checked: cross-validation folds, order column, hyperparameter
search and time budget (``Model.cv_folds``, ``order_column``, ``search``, ``time_budget_seconds``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from softquery.domain import Model
from softquery.errors import InvalidInputError
from softquery.identifiers import check_identifier
from softquery.modelcode.template_search_spaces import known_parameters
from softquery.training.cross_validation import MAX_FOLDS, MIN_FOLDS
from softquery.training.search_spec import (
    OBJECTIVE_ALIASES,
    OBJECTIVES,
    describe,
    normalize,
    parse_param,
)

MAX_TIME_BUDGET_SECONDS = 24 * 3600
# the names a search's objective may be given by -> the CV metric (BigQuery's names too)
OBJECTIVE_NAMES: dict[str, str] = {**{k: k for k in OBJECTIVES}, **OBJECTIVE_ALIASES}


def check_folds(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_FOLDS <= value <= MAX_FOLDS:
        raise InvalidInputError(f"Cross-validation folds must be a whole number from {MIN_FOLDS} to {MAX_FOLDS}; "
                                f"it is {value!r}.", details={"field": "cv_folds", "value": str(value)})
    return value


def check_time_budget(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TIME_BUDGET_SECONDS:
        raise InvalidInputError(f"The time budget must be a whole number of seconds from 1 to "
                                f"{MAX_TIME_BUDGET_SECONDS}; it is {value!r}.",
                                details={"field": "time_budget_seconds", "value": str(value)})
    return value


def apply_selection(model: Model, *, cv_folds: int | None, order_column: str | None,
                    search: dict[str, Any] | None, time_budget_seconds: int | None) -> None:
    """Set the selection settings given (not None) on ``model``, checked; "" / {} unset."""
    if cv_folds is not None:
        model.cv_folds = check_folds(cv_folds)
    if order_column is not None:
        model.order_column = check_identifier(order_column, "order column") if order_column else None
    if time_budget_seconds is not None:
        model.time_budget_seconds = check_time_budget(time_budget_seconds)
    if search is not None:
        model.search = normalize(search, model.code, model.template) if search else None


def search_from_options(method: str | None, params: list[str] | tuple[str, ...], trials: int | None,
                        objective: str | None = None) -> dict[str, object] | None:
    """The search the CLI's --search / --param NAME=... / --trials ask for (None: none given).
    It is checked against the model's code when the model is saved (``apply_selection``)."""
    if method is None and not params and trials is None and objective is None:
        return None
    search: dict[str, object] = {}
    if method:
        search["method"] = method
    parsed: dict[str, object] = {}
    for text in params:
        name, given = parse_param(text)
        if name in parsed:
            raise InvalidInputError(f"--param {name} is given twice; give its values once: {name}=V1,V2,...",
                                    details={"field": "search", "param": name})
        parsed[name] = given
    if parsed:
        search["params"] = parsed
    if trials is not None:
        search["trials"] = trials
    if objective:
        search["objective"] = objective
    return search


def updated_search(saved: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any]:
    """The search after ``model update`` with some of --search/--param/--trials: only what is
    given changes (``given`` from ``search_from_options``). --param replaces the parameters
    (and MLSQL's configurations); --search alone keeps them; --trials alone keeps the method
    and the parameters. Without a saved search, ``given`` is the new search."""
    if not saved:
        return dict(given)
    merged = {k: v for k, v in saved.items()}
    if "params" in given:
        merged.pop("configs", None)
    merged.update(given)
    return merged


def search_text(search: dict[str, object] | None) -> str:
    """One line for people: "grid over alpha=0.1,1,10, at most 20 trials" ("" for no search)."""
    return describe(search) if search else ""


DEFAULTS_WORD = "defaults"  # the editor's values of a parameter searched over its default values or range


@dataclass(frozen=True)
class SearchRow:
    """One parameter row of the editor's search form: values to try, or a range."""

    name: str
    values: str = ""  # "defaults": searched over its default values or range
    low: str = ""
    high: str = ""
    log: bool = False
    hint: str = ""  # the parameter's help and defaults, for a template parameter


def search_rows(code: str, template: str | None, search: dict[str, Any] | None) -> list[SearchRow]:
    """The editor's rows: each template parameter (filled from the model's search where it names
    it), the search's other parameters, and one empty row to name another."""
    given: dict[str, Any] = dict((search or {}).get("params") or {})
    rows: list[SearchRow] = []
    for p in known_parameters(code, template):
        hint = f"{p.help}; grid {', '.join(str(v) for v in p.grid)}" + (
            f"; range {p.low:g}:{p.high:g}{':log' if p.log else ''}" if p.low is not None and p.high is not None else "")
        rows.append(_row(p.name, given.pop(p.name, None), hint))
    rows += [_row(name, value, "") for name, value in given.items()]
    rows.append(SearchRow(name=""))
    return rows


def _row(name: str, given: dict[str, Any] | None, hint: str) -> SearchRow:
    if given == {}:  # searched over its default values or range
        return SearchRow(name, values=DEFAULTS_WORD, hint=hint)
    given = given or {}
    if "values" in given:
        return SearchRow(name, values=", ".join("none" if v is None else str(v) for v in given["values"]), hint=hint)
    if "low" in given:
        return SearchRow(name, low=str(given["low"]), high=str(given["high"]), log=bool(given.get("log")), hint=hint)
    return SearchRow(name, hint=hint)


def search_from_rows(method: str, trials: str, rows: list[tuple[str, str, str, str, str]]) -> dict[str, Any] | None:
    """The search the editor's form asks for: method ("" none), trials text, and rows of
    (name, values text, low, high, "log" or ""); a row with nothing filled in is not searched."""
    if not method:
        return None
    params: dict[str, Any] = {}
    for name, values, low, high, log in rows:
        name = name.strip()
        if not name or not (values.strip() or low.strip() or high.strip()):
            continue
        where = f"Search parameter {name}"
        if values.strip() and (low.strip() or high.strip()):
            raise InvalidInputError(f"{where}: give either values to try or a low and a high, not both.",
                                    details={"field": "search", "param": name})
        if values.strip().lower() == DEFAULTS_WORD:
            params[name] = {}
            continue
        if values.strip():
            text = f"{name}={values}"
        elif not (low.strip() and high.strip()):
            raise InvalidInputError(f"{where}: a range needs both a low and a high.",
                                    details={"field": "search", "param": name})
        else:
            text = f"{name}={low.strip()}:{high.strip()}" + (":log" if log else "")
        params[name] = parse_param(text, where=where)[1]
    search: dict[str, Any] = {"method": method}
    if params:
        search["params"] = params
    if trials.strip():
        try:
            search["trials"] = int(trials.strip())
        except ValueError:
            raise InvalidInputError(f"Trials must be a whole number; got {trials.strip()!r}.",
                                    details={"field": "search"}) from None
    return search


def recheck_search(model: Model) -> None:
    """The model's search still fits its code (after a change of code or template)."""
    if not model.search:
        return
    try:
        model.search = normalize(model.search, model.code, model.template)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{exc.message} The model's hyperparameter search does not fit its code: give a new "
                                "search, or remove the search.",
                                details=exc.details) from None
