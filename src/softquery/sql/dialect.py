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
from sqlglot.errors import ParseError
from sqlglot.generators.bigquery import BigQueryGenerator
from sqlglot.parsers.bigquery import BigQueryParser
from sqlglot.tokenizer_core import Token, TokenType

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

        def raise_error(self, message: str, token: Token | None = None) -> None:
            """sqlglot's error, plus the offending token's offset (``start``) for the caret; at
            the end of the statement (no token left) the offset just after its last token."""
            current = self._curr if self._curr and self._curr.token_type is not TokenType.SENTINEL else None
            chosen = token if token and token.token_type is not TokenType.SENTINEL else None
            at_end = chosen is None and current is None
            chosen = chosen or current or self._prev
            start = chosen.start if chosen is not None else 0
            if at_end and self._prev is not None:
                start = self._prev.end + 1
            before = len(self.errors)
            try:
                super().raise_error(message, chosen or Token.string(""))
            except ParseError as exc:
                for error in exc.errors:
                    error.setdefault("start", start)
                raise
            for collected in self.errors[before:]:  # error levels that collect rather than raise
                for error in collected.errors:
                    error.setdefault("start", start)

        def _parse_as_command(self, start: Token) -> exp.Command:
            """sqlglot reads a CREATE or DROP it cannot parse as an opaque command; softquery's
            CREATE/DROP forms are its own, so that is a syntax error at the token that stopped it."""
            if start.token_type in (TokenType.CREATE, TokenType.DROP) and self._curr is not None:
                verb = start.text.upper()
                forms = ("CREATE [OR REPLACE] MODEL [IF NOT EXISTS] m OPTIONS(…) AS SELECT …, or "
                         "CREATE [OR REPLACE] TABLE t AS SELECT …" if verb == "CREATE"
                         else "DROP MODEL [IF EXISTS] m")
                self.raise_error(f"This {verb} statement cannot be read from {self._curr.text!r} on; "
                                 f"softquery reads {forms}", self._curr)
            return super()._parse_as_command(start)

    class Generator(BigQueryGenerator):
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Callable[..., str]]] = {
            **BigQueryGenerator.TRANSFORMS,
            MLFunction: ml_function_sql,
        }
