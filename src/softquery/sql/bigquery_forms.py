"""BigQuery ML's table functions in softquery's grammar: ``ML.NAME(MODEL m [, input] [, STRUCT(…)])``.

sqlglot's BigQuery parser knows ``ML.PREDICT`` (as ``exp.Predict``) and a few generative
functions; softquery reads every ML table function it runs (``ML_FUNCTIONS``) into one node,
``MLFunction``, which stands where a table stands (FROM, JOIN), keeps its alias, and prints
back as BigQuery writes it. The same names without ``ML.`` (``predict(features)``, a function
an MLSQL script registered) stay ordinary function calls.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

ML_FUNCTIONS = ("PREDICT", "EVALUATE", "FEATURE_IMPORTANCE", "WEIGHTS", "TRAINING_INFO",
                "CONFUSION_MATRIX", "ROC_CURVE")
# ML functions whose second argument is the input rows ((SELECT …) or TABLE t); the others take
# only the model and, optionally, a STRUCT of settings
TAKES_INPUT = ("PREDICT", "EVALUATE", "CONFUSION_MATRIX", "ROC_CURVE")


class MLFunction(exp.Expression, exp.UDTF):
    """``ML.NAME(MODEL m [, (SELECT …) | TABLE t] [, STRUCT(…)])`` inside a query.

    ``this``: the function's upper-case name (PREDICT, EVALUATE, FEATURE_IMPORTANCE,
    WEIGHTS, TRAINING_INFO, CONFUSION_MATRIX, ROC_CURVE); ``model``: an ``exp.Table``
    (``source.model``); ``expression``: the input (an ``exp.Subquery``, or an ``exp.Table``
    for ``TABLE t``), if any; ``settings``: the ``exp.Struct`` of settings, if any. In FROM or
    JOIN it stands where a table would, with its ``alias`` (an ``exp.TableAlias``)."""

    arg_types: ClassVar[dict[str, bool]] = {
        "this": True, "model": True, "expression": False, "settings": False,
        # where it stands in FROM / JOIN, as for a table
        "alias": False, "joins": False, "pivots": False, "hints": False, "sample": False,
        "version": False, "laterals": False,
    }

    @property
    def name(self) -> str:
        return str(self.this)


def parse_ml_function(parser: Any, name: str) -> exp.Expr:
    """The FUNCTION_PARSERS entry for ``name``: called with the parser just past ``NAME(``."""
    if not _after_ml_dot(parser):
        return _plain_call(parser)
    if not parser._match_text_seq("MODEL"):
        parser.raise_error(f"ML.{name} takes the model first: ML.{name}(MODEL m, …)")
    model = parser._parse_table_parts()
    expression: exp.Expr | None = None
    settings: exp.Expr | None = None
    while parser._match(TokenType.COMMA):
        if parser._match(TokenType.STRUCT, advance=False):
            settings = parser._parse_bitwise()
        elif parser._match(TokenType.TABLE):
            expression = parser._parse_table_parts()
        elif parser._match(TokenType.L_PAREN, advance=False):
            expression = parser._parse_table()
        else:
            parser.raise_error(f"ML.{name} takes MODEL m, then (SELECT …) or TABLE t, then STRUCT(…)")
            break
    if not parser._match(TokenType.R_PAREN, advance=False):
        parser.raise_error("Expecting )")
    return MLFunction(this=name, model=model, expression=expression, settings=settings)


def _after_ml_dot(parser: Any) -> bool:
    """Whether the call being parsed is written ``ML.NAME(``: tokens ML . NAME ( before the cursor."""
    index = parser._index
    if index < 4:
        return False
    ml, dot = parser._tokens[index - 4], parser._tokens[index - 3]
    return bool(dot.token_type is TokenType.DOT and ml.text.upper() == "ML")


def _plain_call(parser: Any) -> exp.Expr:
    """``name(args)`` without ``ML.``: an ordinary (anonymous) function call, named as written."""
    written = parser._tokens[parser._index - 2].text
    args = parser._parse_csv(lambda: parser._parse_lambda())
    return exp.Anonymous(this=written, expressions=args)


def normalise(table: exp.Expr | None) -> exp.Expr | None:
    """``ML.NAME(…)`` read as table parts (``Table(this=MLFunction, db=ML)``) → the MLFunction."""
    if isinstance(table, exp.Table) and isinstance(table.this, MLFunction | exp.Predict) \
            and table.db.upper() == "ML" and not table.catalog:
        node = table.this
        if isinstance(node, exp.Predict):  # sqlglot's own node for ML.PREDICT
            node = MLFunction(this="PREDICT", model=node.this, expression=node.expression,
                              settings=node.args.get("params_struct"))
        for key in ("alias", "joins", "pivots", "hints", "sample", "version", "laterals"):
            if table.args.get(key):
                node.set(key, table.args[key])
        return node
    return table


def ml_function_sql(generator: Any, node: MLFunction) -> str:
    """How an MLFunction prints: as BigQuery writes it."""
    args = [f"MODEL {generator.sql(node, 'model')}"]
    given = node.args.get("expression")
    if isinstance(given, exp.Table):
        args.append(f"TABLE {generator.sql(given)}")
    elif given is not None:
        args.append(generator.sql(given))
    if node.args.get("settings") is not None:
        args.append(generator.sql(node, "settings"))
    alias = generator.sql(node, "alias")
    alias = f" AS {alias}" if alias else ""
    return f"ML.{node.name}({', '.join(args)}){alias}"
