"""softquery's SQL dialect: BigQuery's grammar plus the ML table functions and MLSQL's verbs.

One grammar reads both kinds of script: a sqlglot dialect whose parser knows
``CREATE MODEL`` and ``ML.PREDICT`` (from BigQuery), the other ML table functions
(``ML.EVALUATE`` …, parsed into ``MLFunction``) and MLSQL's statements (``load``,
``train``, ``register``, ``predict``, ``save``, ``set``: ``mlsql_forms.py``).
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.parsers.bigquery import BigQueryParser


class MLFunction(exp.Expression):
    """``ML.NAME(MODEL m [, (SELECT …) | TABLE t] [, STRUCT(…)])`` inside a query.

    ``this``: the function's upper-case name (PREDICT, EVALUATE, FEATURE_IMPORTANCE,
    WEIGHTS, TRAINING_INFO, CONFUSION_MATRIX, ROC_CURVE); ``model``: an ``exp.Table``
    (``source.model``); ``expression``: the input (a subquery or a table), if any;
    ``settings``: the STRUCT of settings, if any."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "model": True, "expression": False, "settings": False}


def _predict_or_call(parser: BigQueryParser) -> exp.Expr:
    """``PREDICT(MODEL m, …)`` is BigQuery's; ``predict(features)`` calls a function of that
    name (MLSQL's ``register … as predict``)."""
    if parser._curr is not None and parser._curr.text.upper() == "MODEL":
        return parser._parse_ml(exp.Predict)
    args = parser._parse_csv(parser._parse_lambda)
    return parser.expression(exp.Anonymous(this="predict", expressions=args))


class Softquery(BigQuery):
    class Parser(BigQueryParser):
        FUNCTION_PARSERS = {**BigQueryParser.FUNCTION_PARSERS, "PREDICT": _predict_or_call}
