"""softquery's SQL dialect: BigQuery's grammar plus the ML table functions and MLSQL's verbs.

One grammar reads both kinds of script: a sqlglot dialect whose parser knows
``CREATE MODEL`` (from BigQuery), every ML table function (``ML.PREDICT``, ``ML.EVALUATE`` …,
parsed into ``MLFunction``: ``bigquery_forms.py``) and MLSQL's statements (``load``,
``train``, ``register``, ``predict``, ``save``, ``set``: ``mlsql_forms.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.generators.bigquery import BigQueryGenerator
from sqlglot.parsers.bigquery import BigQueryParser

from softquery.sql.bigquery_forms import (
    ML_FUNCTIONS,
    MLFunction,
    ml_function_sql,
    normalise,
    parse_ml_function,
)

__all__ = ["MLFunction", "Softquery"]


def _ml_parser(name: str) -> Callable[[Any], exp.Expr]:
    return lambda parser: parse_ml_function(parser, name)


class Softquery(BigQuery):
    class Parser(BigQueryParser):
        FUNCTION_PARSERS: ClassVar[dict[str, Callable[[Any], Any]]] = {
            **BigQueryParser.FUNCTION_PARSERS,
            **{name: _ml_parser(name) for name in ML_FUNCTIONS},
        }

        def _parse_table_parts(self, schema: bool = False, is_db_reference: bool = False,
                               wildcard: bool = False, fast: bool = False) -> Any:
            table = super()._parse_table_parts(schema=schema, is_db_reference=is_db_reference,
                                               wildcard=wildcard, fast=fast)
            return normalise(table)

    class Generator(BigQueryGenerator):
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Callable[..., str]]] = {
            **BigQueryGenerator.TRANSFORMS,
            MLFunction: ml_function_sql,
        }
