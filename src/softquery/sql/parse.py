"""Text in, typed statements out (``statements.py``), or one ``SqlError`` with a position."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.tokenizer_core import TokenType

from softquery.sql.dialect import Softquery
from softquery.sql.parse_errors import sentence
from softquery.sql.positions import nearest
from softquery.sql.script import StatementText, split_script
from softquery.sql.statement_errors import SqlError, sql_error
from softquery.sql.statements import (
    CreateModel,
    CreateTable,
    DropModel,
    HparamCandidates,
    HparamRange,
    ModelRef,
    Option,
    OptionValue,
    Query,
    Statement,
)

STATEMENT_WORDS = ("SELECT", "WITH", "CREATE", "DROP", "LOAD", "TRAIN", "REGISTER", "PREDICT", "SAVE", "SET")
MLSQL_VERBS = ("load", "train", "run", "register", "predict", "save", "set", "connect", "include")


def parse_script(script: str, params: Mapping[str, str] | None = None) -> list[Statement]:
    """Every statement of ``script`` (after ``${var}`` substitution), parsed; the first error raises."""
    from softquery.sql.mlsql_forms import set_variables

    _, texts = split_script(script, {**set_variables(script), **(params or {})})
    return [parse_statement(text) for text in texts]


def parse_statement(where: StatementText) -> Statement:
    first = where.tokens[0]
    if first.text.lower() in MLSQL_VERBS and first.token_type is not TokenType.SELECT:
        from softquery.sql.mlsql_forms import parse_mlsql

        return parse_mlsql(where)
    if first.token_type is TokenType.VAR:  # not an SQL keyword: a misspelt one?
        raise _unknown_verb(where)
    _check_ml_functions(where)
    from softquery.sql.mlsql_forms import select_output

    output = select_output(where, lambda tokens: _one(Softquery().parser().parse(tokens, where.script)))
    if output is not None:  # MLSQL's ``select … from t as out``
        return Query(where, output[0], output=output[1])
    try:
        parsed = Softquery().parser().parse(list(where.tokens), where.script)
    except ParseError as exc:
        raise _parse_error(where, exc) from None
    if len(parsed) != 1 or parsed[0] is None:
        raise where.error("Expected one statement here; end each statement with ;.")
    return _typed(where, parsed[0])


def _check_ml_functions(where: StatementText) -> None:
    """``ML.NAME(MODEL …`` with a NAME softquery does not run: say so, not "Expected )"."""
    from softquery.sql.bigquery_forms import ML_FUNCTIONS

    tokens = where.tokens
    for i in range(len(tokens) - 4):
        ml, dot, name, paren, model = tokens[i:i + 5]
        if (ml.text.upper() == "ML" and dot.token_type is TokenType.DOT and paren.token_type is TokenType.L_PAREN
                and model.text.upper() == "MODEL" and name.text.upper() not in ML_FUNCTIONS):
            raise where.error(f"ML.{name.text.upper()} is not an ML function softquery runs.", name,
                              name=name.text.upper(), known=[f"ML.{f}" for f in ML_FUNCTIONS], what="function")


def _one(parsed: list[exp.Expr | None]) -> exp.Expr:
    if len(parsed) != 1 or parsed[0] is None:
        raise ValueError("not one statement")
    return parsed[0]


def _unknown_verb(where: StatementText) -> SqlError:
    verb = where.tokens[0].text.upper()
    suggestion = next((w for w in STATEMENT_WORDS if w.startswith(verb)), None) or nearest(verb, STATEMENT_WORDS)
    said = f" Did you mean {suggestion}?" if suggestion else ""
    return where.error(f"{verb} does not start a statement softquery knows.{said} Statements start with "
                       f"{', '.join(STATEMENT_WORDS)}.", where.tokens[0],
                       extra={"suggestion": suggestion} if suggestion else None)


def _parse_error(where: StatementText, exc: ParseError) -> SqlError:
    info = exc.errors[0] if exc.errors else {}
    highlight = str(info.get("highlight") or "")
    start = info.get("start")  # the offending token's offset (the dialect's parser adds it)
    if isinstance(start, int):
        offset = max(where.offset, start)
    else:
        line, column = int(info.get("line") or 0), int(info.get("col") or 0)
        offset = where.offset
        if line:
            starts = [0] + [i + 1 for i, ch in enumerate(where.script) if ch == "\n"]
            if line <= len(starts):
                # sqlglot's col is the column of the end of the offending token
                offset = max(where.offset, starts[line - 1] + max(column - len(highlight), 0))
    last = where.tokens[-1]
    if offset > last.end:
        highlight = ""  # nothing left: "at the end of the statement"
    message = sentence(str(info.get("description") or exc).split("\n")[0], highlight)
    if offset > last.end:  # the statement ended too early: point just after it
        return sql_error(message, where.script, last.end + 1)
    return where.error(message, _token_at(where, offset))


def _token_at(where: StatementText, offset: int) -> Any:
    for token in where.tokens:
        if token.start >= offset:
            return token
    return where.tokens[-1]


def _model_ref(where: StatementText, table: exp.Expr) -> ModelRef:
    if not isinstance(table, exp.Table) or table.catalog:
        raise where.error("A model is named `model` or `source.model`.")
    node = table.this
    offset = _offset_of(where, table.name)
    return ModelRef(name=table.name, source=table.db or None, offset=offset if node is not None else where.offset)


def _offset_of(where: StatementText, text: str) -> int:
    for token in where.tokens:
        if token.text == text:
            return token.start
    return where.offset


def _options(where: StatementText, create: exp.Create) -> dict[str, Option]:
    props = create.args.get("properties")
    options: dict[str, Option] = {}
    if props is None:
        return options
    for prop in props.expressions:
        if isinstance(prop, exp.Property):
            name = prop.name.lower()
            value = _value(where, prop.args.get("value"))
            if name in options:
                raise where.error(f"The option {name} is given twice; keep one.", _token_named(where, prop.name))
            options[name] = Option(value, _offset_of(where, prop.name))
    return options


def _token_named(where: StatementText, name: str) -> Any:
    for token in where.tokens:
        if token.text == name:
            return token
    return None


def _value(where: StatementText, node: exp.Expr | None) -> OptionValue:
    if node is None:
        return None
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this)
        number = float(node.this)
        return int(number) if number.is_integer() and "." not in node.this and "e" not in node.this.lower() else number
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Neg):
        inner = _value(where, node.this)
        if isinstance(inner, int | float) and not isinstance(inner, bool):
            return -inner
    if isinstance(node, exp.Array):
        return [_value(where, item) for item in node.expressions]
    if isinstance(node, exp.Column | exp.Identifier | exp.Var):
        return node.name
    if isinstance(node, exp.Anonymous) and str(node.name).upper() in ("HPARAM_RANGE", "HPARAM_CANDIDATES"):
        return _hparam(where, str(node.name).upper(), [_value(where, arg) for arg in node.expressions])
    raise where.error(f"The option value {node.sql(dialect=Softquery)} is not a string, number, "
                      "true/false or a [list]; write it as one.")


def _hparam(where: StatementText, name: str, args: list[OptionValue]) -> OptionValue:
    """HPARAM_RANGE(low, high) / HPARAM_CANDIDATES([values]): a hyperparameter to search."""
    if name == "HPARAM_RANGE":
        if len(args) != 2 or not all(isinstance(a, int | float) and not isinstance(a, bool) for a in args):
            raise where.error("HPARAM_RANGE takes two numbers: HPARAM_RANGE(low, high).")
        low, high = args
        assert isinstance(low, int | float) and isinstance(high, int | float)
        return HparamRange(low, high)
    if len(args) != 1 or not isinstance(args[0], list) or not args[0]:
        raise where.error("HPARAM_CANDIDATES takes a list of values: HPARAM_CANDIDATES([0.1, 1, 10]).")
    return HparamCandidates(list(args[0]))


def _typed(where: StatementText, tree: exp.Expr) -> Statement:
    if isinstance(tree, exp.Query):
        return Query(where, tree)
    if isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind") or "").upper()
        if kind == "MODEL":
            query = tree.expression if isinstance(tree.expression, exp.Query) else None
            return CreateModel(where, _model_ref(where, tree.this), bool(tree.args.get("replace")),
                               bool(tree.args.get("exists")), _options(where, tree), query)
        if kind == "TABLE" and isinstance(tree.expression, exp.Query):
            table = tree.this
            if isinstance(table, exp.Schema):
                table = table.this
            if not isinstance(table, exp.Table):
                raise where.error("CREATE TABLE names a table: `table` or `source.table`.")
            return CreateTable(where, table.name, table.db or None, bool(tree.args.get("replace")), tree.expression)
        if kind == "TABLE":
            raise where.error("CREATE TABLE needs AS SELECT … (softquery writes tables only from query "
                              "results, such as ML.PREDICT's).")
    if isinstance(tree, exp.Drop) and str(tree.args.get("kind") or "").upper() == "MODEL":
        tables = tree.args.get("tables") or [tree.this]
        if len(tables) != 1:
            raise where.error("DROP MODEL drops one model at a time.")
        return DropModel(where, _model_ref(where, tables[0]), bool(tree.args.get("exists")))
    verb = where.tokens[0].text.upper()
    raise where.error(
        f"softquery does not run {verb} statements. It runs SELECT, CREATE MODEL, DROP MODEL, "
        "CREATE TABLE … AS SELECT, and MLSQL's load, select, train, register, predict and save; "
        "a source's own tables are changed only by softquery's writer.",
        extra={"statement": verb.lower()})
