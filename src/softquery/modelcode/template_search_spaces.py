"""The tunable parameters of each template, for a hyperparameter search (issue 14).

A parameter has the name people use (``alpha``, ``max_depth``), the call and keyword it sets
in the template's code (``Ridge(alpha=...)``, rendered with
``template_parameters.with_parameters``), its type, the range a random or Bayesian search
draws from by default and the values a grid search tries by default.

``resolve(names, code, template)`` turns the names a search gives into parameters: a
template's names; for a model's own code, ``Call.keyword`` (``RandomForestRegressor.max_depth``,
a keyword of a call the code makes), or a template parameter's name whose call the code makes
(``alpha`` in edited Ridge code). An unknown name is refused with the parameters there are
and the nearest one.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from softquery.errors import InvalidInputError

Kind = Literal["float", "int", "choice"]
Value = str | int | float | bool | None


@dataclass(frozen=True)
class SearchParameter:
    name: str                      # what people call it: alpha, max_depth
    call: str                      # the callable whose keyword it sets: Ridge
    keyword: str                   # the keyword: alpha
    kind: Kind
    low: float | None = None       # default range of a random / Bayesian search
    high: float | None = None
    log: bool = False
    grid: tuple[Value, ...] = ()   # default values of a grid search
    help: str = ""
    minimum: float | None = None   # the smallest value the estimator takes (None: no known bound)
    above: bool = False            # True: values must be above ``minimum`` (not equal)
    words: tuple[str, ...] = ()    # text values a number parameter also takes (SVC's gamma="scale")

    @property
    def none_ok(self) -> bool:
        """Whether None is a value (``max_depth=None``: no limit)."""
        return None in self.grid

    @property
    def target(self) -> str:
        return f"{self.call}.{self.keyword}"

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "call": self.call, "keyword": self.keyword, "type": self.kind,
                "low": self.low, "high": self.high, "log": self.log, "grid": list(self.grid), "help": self.help}


def _p(name: str, call: str, kind: Kind, low: float | None, high: float | None, log: bool,
       grid: tuple[Value, ...], help: str, keyword: str | None = None, *, minimum: float | None = None,
       above: bool = False, words: tuple[str, ...] = ()) -> SearchParameter:
    return SearchParameter(name, call, keyword or name, kind, low, high, log, grid, help, minimum, above, words)


def _forest(call: str) -> tuple[SearchParameter, ...]:
    return (
        _p("n_estimators", call, "int", 50, 500, True, (100, 200, 400), "number of trees", minimum=1),
        _p("max_depth", call, "int", 2, 30, False, (None, 5, 10, 20), "deepest a tree grows (None: no limit)",
           minimum=1),
        _p("min_samples_leaf", call, "int", 1, 20, True, (1, 2, 5, 10), "fewest rows in a leaf", minimum=1),
    )


def _boosting(call: str) -> tuple[SearchParameter, ...]:
    return (
        _p("learning_rate", call, "float", 0.01, 0.5, True, (0.03, 0.1, 0.3), "how much each tree corrects", minimum=0,
           above=True),
        _p("max_iter", call, "int", 50, 500, True, (100, 200, 400), "number of boosting rounds", minimum=1),
        _p("max_depth", call, "int", 2, 20, False, (None, 3, 6, 10), "deepest a tree grows (None: no limit)",
           minimum=1),
        _p("max_leaf_nodes", call, "int", 8, 128, True, (15, 31, 63), "most leaves per tree", minimum=2),
        _p("l2_regularization", call, "float", 1e-4, 10.0, True, (0.0, 0.1, 1.0), "penalty on leaf values", minimum=0),
    )


def _neighbors(call: str) -> tuple[SearchParameter, ...]:
    return (
        _p("n_neighbors", call, "int", 1, 50, True, (3, 5, 10, 20), "how many nearest rows vote", minimum=1),
        _p("weights", call, "choice", None, None, False, ("uniform", "distance"), "whether nearer rows count more"),
    )


def _svm(call: str) -> tuple[SearchParameter, ...]:
    return (
        _p("C", call, "float", 0.01, 1000.0, True, (0.1, 1.0, 10.0, 100.0), "how closely to fit (larger: less "
           "regularised)", minimum=0, above=True),
        _p("gamma", call, "float", 1e-4, 1.0, True, (0.001, 0.01, 0.1, 1.0), "reach of one row in the kernel",
           minimum=0, above=True, words=("scale", "auto")),
    )


TEMPLATE_SEARCH_SPACES: dict[str, tuple[SearchParameter, ...]] = {
    "linear_regression": (
        _p("fit_intercept", "LinearRegression", "choice", None, None, False, (True, False), "fit a constant term"),
    ),
    "ridge_regression": (
        _p("alpha", "Ridge", "float", 1e-3, 1000.0, True, (0.01, 0.1, 1.0, 10.0, 100.0), "regularisation strength", minimum=0),
    ),
    "logistic_regression": (
        _p("C", "LogisticRegression", "float", 1e-3, 1000.0, True, (0.01, 0.1, 1.0, 10.0, 100.0),
           "inverse regularisation strength", minimum=0, above=True),
    ),
    "naive_bayes_text": (
        _p("alpha", "MultinomialNB", "float", 1e-3, 10.0, True, (0.01, 0.1, 0.5, 1.0), "smoothing of rare words", minimum=0),
    ),
    "knn_classifier": _neighbors("KNeighborsClassifier"),
    "knn_regressor": _neighbors("KNeighborsRegressor"),
    "random_forest_classifier": _forest("RandomForestClassifier"),
    "random_forest_regressor": _forest("RandomForestRegressor"),
    "hist_gradient_boosting_classifier": _boosting("HistGradientBoostingClassifier"),
    "hist_gradient_boosting_regressor": _boosting("HistGradientBoostingRegressor"),
    "svm_classifier": _svm("SVC"),
    "svm_regressor": _svm("SVR"),
    "kmeans": (
        _p("n_clusters", "KMeans", "int", 2, 12, False, (2, 3, 4, 5, 6, 8), "number of clusters", minimum=1),
    ),
}


def template_parameters(template: str) -> tuple[SearchParameter, ...]:
    """The tunable parameters of ``template`` (none for a template without a search space)."""
    return TEMPLATE_SEARCH_SPACES.get(template, ())


def calls_in(code: str) -> set[str]:
    """The names of the callables ``code`` calls (``Ridge`` for ``Ridge(...)`` or ``linear_model.Ridge(...)``)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                found.add(func.id)
            elif isinstance(func, ast.Attribute):
                found.add(func.attr)
    return found


def known_parameters(code: str, template: str | None) -> tuple[SearchParameter, ...]:
    """The parameters a search over ``code`` may name without ``Call.keyword``: the template's,
    or, for a model's own code, every template parameter whose call the code makes."""
    if template and template in TEMPLATE_SEARCH_SPACES:
        return TEMPLATE_SEARCH_SPACES[template]
    calls = calls_in(code)
    seen: dict[str, SearchParameter] = {}
    for params in TEMPLATE_SEARCH_SPACES.values():
        for p in params:
            if p.call in calls:
                seen.setdefault(p.name, p)
    return tuple(seen.values())


def resolve(names: Iterable[str], code: str, template: str | None) -> dict[str, SearchParameter]:
    """Each name given -> the parameter it sets in ``code`` (see the module docstring)."""
    known = {p.name: p for p in known_parameters(code, template)}
    calls = calls_in(code)
    out: dict[str, SearchParameter] = {}
    for name in names:
        if name in known:
            out[name] = known[name]
        elif "." in name:
            out[name] = _call_keyword(name, calls)
        else:
            raise _unknown(name, known, template)
    return out


def _call_keyword(name: str, calls: set[str]) -> SearchParameter:
    call, _, keyword = name.rpartition(".")
    if not call.isidentifier() or not keyword.isidentifier():
        raise InvalidInputError(f"Search parameter {name!r} is not Call.keyword (e.g. RandomForestRegressor.max_depth).",
                                details={"field": "search", "param": name})
    if call not in calls:
        listed = ", ".join(sorted(calls)) or "none"
        near = difflib.get_close_matches(call, sorted(calls), n=1, cutoff=0.6)
        hint = f" Did you mean {near[0]}.{keyword}?" if near else ""
        raise InvalidInputError(f"Search parameter {name!r}: the model code makes no call of {call}(...)."
                                f"{hint} Its calls: {listed}.", details={"field": "search", "param": name})
    for params in TEMPLATE_SEARCH_SPACES.values():  # a known call and keyword keeps its defaults
        for p in params:
            if p.call == call and p.keyword == keyword:
                return dataclasses.replace(p, name=name)
    return SearchParameter(name, call, keyword, "choice")


def _unknown(name: str, known: dict[str, SearchParameter], template: str | None) -> InvalidInputError:
    near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5) or \
        difflib.get_close_matches(name.lower(), [k.lower() for k in known], n=1, cutoff=0.5)
    suggestion = ""
    if near:
        match = next(k for k in known if k.lower() == near[0].lower())
        suggestion = f" Did you mean {match}?"
    where = f"template {template}" if template and template in TEMPLATE_SEARCH_SPACES else "this model's code"
    listed = ", ".join(known) if known else "none"
    return InvalidInputError(
        f"{where[0].upper()}{where[1:]} has no search parameter {name!r}.{suggestion} Its parameters: {listed}. "
        "For any keyword of a call in the code, name it as Call.keyword (e.g. RandomForestRegressor.max_depth).",
        details={"field": "search", "param": name, "parameters": list(known),
                 **({"suggestion": suggestion.removeprefix(' Did you mean ').rstrip('?')} if near else {})})
