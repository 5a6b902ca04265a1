"""MLSQL's statements (load, train, register, predict, save, set) in the one grammar.

They are read from the same sqlglot tokens as every other statement (``script.py``), so
strings ('…', "…", '''…'''), backtick names and comments mean the same everywhere::

    load FORMAT.`PATH` [where k="v" and …] as t
    load SOURCE.`table` as t
    train t as ALG.`NAME` [where k="v" and …]
    register ALG.`NAME` as fn [where|options k="v" and …]
    predict t as ALG.`NAME` [as out]
    save [overwrite|append|errorIfExists|ignore] t as FORMAT.`TARGET` [where …]
    set name = "value"

An option's name is a word, a dotted name (``fitParam.0.alpha``, ``systemParam.envs``) or a
backtick name (```kafkaParam.bootstrap.servers```); its value a string, a number, true/false.

``select … from t as out`` (MLSQL's way to name a result) is recognised by
``select_output``: see its docstring for the rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp
from sqlglot.tokenizer_core import Token, TokenType

from softquery.sql.script import StatementText
from softquery.sql.statements import (
    Load,
    Option,
    OptionValue,
    Predict,
    Register,
    Save,
    SetVariable,
    Statement,
    Train,
)

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
SAVE_MODES = ("overwrite", "append", "errorifexists", "ignore")
_MODE_NAMES = {"overwrite": "overwrite", "append": "append", "errorifexists": "errorIfExists", "ignore": "ignore"}
VERBS = ("load", "train", "register", "predict", "save", "set")


class _Cursor:
    def __init__(self, where: StatementText) -> None:
        self.where = where
        self.tokens = where.tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def fail(self, expected: str) -> Exception:
        token = self.peek()
        if token is None:
            last = self.tokens[-1]
            return self.where.error(f"The statement ends too early: expected {expected} after {last.text!r}.", last)
        return self.where.error(f"Expected {expected}, not {token.text!r}.", token)

    def is_word(self, token: Token | None) -> bool:
        return (token is not None and token.token_type not in (TokenType.STRING, TokenType.NUMBER)
                and bool(_WORD.match(token.text)))

    def word(self, expected: str) -> Token:
        token = self.peek()
        if not self.is_word(token) or token is None or token.token_type is TokenType.IDENTIFIER:
            raise self.fail(expected)
        self.i += 1
        return token

    def name(self, expected: str) -> Token:
        """A word or a backtick name."""
        token = self.peek()
        if token is not None and (token.token_type is TokenType.IDENTIFIER or self.is_word(token)):
            self.i += 1
            return token
        raise self.fail(expected)

    def keyword(self, *words: str) -> Token | None:
        token = self.peek()
        if token is not None and token.token_type is not TokenType.IDENTIFIER and token.text.lower() in words:
            self.i += 1
            return token
        return None

    def expect(self, word: str) -> Token:
        token = self.keyword(word)
        if token is None:
            raise self.fail(word.upper())
        return token

    def punct(self, kind: TokenType, text: str) -> Token:
        token = self.peek()
        if token is None or token.token_type is not kind:
            raise self.fail(repr(text))
        self.i += 1
        return token

    def end(self) -> None:
        if self.peek() is not None:
            raise self.fail("the end of the statement (;)")

    def qualified(self, what: str) -> tuple[str, str]:
        """``KIND.`PATH``` (or ``KIND.name``): (KIND, PATH)."""
        kind = self.word(what)
        self.punct(TokenType.DOT, ".")
        target = self.name(f"a backtick name after {kind.text}. (such as {kind.text}.`name`)")
        return kind.text, target.text

    def options(self, *intro: str) -> dict[str, Option]:
        """``where k="v" and …`` (or ``options …``), or nothing."""
        options: dict[str, Option] = {}
        if self.keyword(*intro) is None:
            return options
        while True:
            first, key = self._option_name()
            self.punct(TokenType.EQ, "=")
            value = self._value()
            if key in options:
                raise self.where.error(f"The option {key} is given twice; keep one.", first)
            options[key] = Option(value, first.start)
            if self.keyword("and") is None:
                return options

    def _option_name(self) -> tuple[Token, str]:
        first = self.peek()
        if first is None or first.token_type is TokenType.STRING or first.token_type is TokenType.EQ:
            raise self.fail('an option such as name="value"')
        if first.token_type is TokenType.IDENTIFIER:
            self.i += 1
            return first, first.text
        parts = [self.word('an option such as name="value"')]
        while (token := self.peek()) is not None and token.start == parts[-1].end + 1 \
                and token.token_type is not TokenType.EQ:
            parts.append(token)
            self.i += 1
        text = self.where.script[first.start:parts[-1].end + 1]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", text):
            raise self.where.error(f"{text!r} is not an option name; write names such as fitParam.0.alpha.", first)
        return first, text

    def _value(self) -> OptionValue:
        token = self.peek()
        if token is None:
            raise self.fail("a value")
        self.i += 1
        if token.token_type is TokenType.STRING:
            return token.text
        if token.token_type is TokenType.NUMBER:
            number = float(token.text)
            return int(number) if re.fullmatch(r"\d+", token.text) else number
        if token.token_type is TokenType.DASH and (nxt := self.peek()) is not None \
                and nxt.token_type is TokenType.NUMBER:
            self.i += 1
            number = -float(nxt.text)
            return int(number) if re.fullmatch(r"\d+", nxt.text) else number
        if token.text.lower() in ("true", "false"):
            return token.text.lower() == "true"
        if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER):
            return token.text
        self.i -= 1
        raise self.fail('a value: a "string", a number or true/false')


def _load(c: _Cursor) -> Statement:
    kind, path = c.qualified('a format and a path, such as csv.`data/file.csv` or a source\'s table, demo.`houses`')
    options = c.options("where", "options")
    c.expect("as")
    table = c.word("the name of the table the script keeps the data under")
    c.end()
    return Load(c.where, kind, path, options, table.text)


def _train(c: _Cursor) -> Statement:
    table = c.word("the name of a table of the script")
    c.expect("as")
    algorithm, model = c.qualified("an algorithm and a model name, such as PythonAlg.`my_model`")
    options = c.options("where", "options")
    c.end()
    return Train(c.where, table.text, algorithm, model, options)


def _register(c: _Cursor) -> Statement:
    algorithm, model = c.qualified("an algorithm and a model name, such as PythonAlg.`my_model`")
    c.expect("as")
    function = c.word("the function's name")
    options = c.options("where", "options")
    c.end()
    return Register(c.where, algorithm, model, function.text, options)


def _predict(c: _Cursor) -> Statement:
    table = c.word("the name of a table of the script")
    c.expect("as")
    algorithm, model = c.qualified("an algorithm and a model name, such as PythonAlg.`my_model`")
    output = c.word("the name of the table for the predictions").text if c.keyword("as") else None
    c.end()
    return Predict(c.where, table.text, algorithm, model, output)


def _save(c: _Cursor) -> Statement:
    mode = c.keyword(*SAVE_MODES)
    table = c.word("the name of a table of the script")
    c.expect("as")
    kind, target = c.qualified("a format and a target, such as csv.`out/file.csv` or table.`source.name`")
    options = c.options("where", "options")
    c.end()
    return Save(c.where, _MODE_NAMES[mode.text.lower()] if mode else "errorIfExists", table.text,
                kind.lower(), target, options)


def _set(c: _Cursor) -> Statement:
    name = c.word("a variable name")
    c.punct(TokenType.EQ, "=")
    token = c.peek()
    if token is None or token.token_type not in (TokenType.STRING, TokenType.NUMBER):
        raise c.fail('a value in quotes: set name = "value"')
    c.i += 1
    c.options("where", "options")  # MLSQL's ``where type="text"``: the only kind here
    c.end()
    return SetVariable(c.where, name.text, token.text)


_FORMS: dict[str, Callable[[_Cursor], Statement]] = {
    "load": _load, "train": _train, "register": _register, "predict": _predict, "save": _save, "set": _set}


def parse_mlsql(where: StatementText) -> Statement:
    cursor = _Cursor(where)
    verb = where.tokens[0]
    form = _FORMS.get(verb.text.lower())
    if form is None:
        raise where.error(f"MLSQL's {verb.text.lower()} statement is not supported here; softquery runs "
                          f"MLSQL's {', '.join(VERBS)} and select.", verb, name=verb.text, known=VERBS,
                          what="statement")
    cursor.i = 1
    return form(cursor)


def set_variables(script: str) -> dict[str, str]:
    """MLSQL's ``set name = "value"`` statements of ``script``, read before ``${name}`` is
    substituted so the script's own ``${name}`` find them (values given with ``--set`` /
    ``params`` win; a value of a later ``set`` wins over an earlier one)."""
    from softquery.sql.script import MAX_SCRIPT_CHARS, tokenize

    if len(script) > MAX_SCRIPT_CHARS:
        return {}  # split_script says so
    try:
        tokens = tokenize(script)
    except Exception:  # noqa: BLE001 - split_script reports the text's own error
        return {}
    found: dict[str, str] = {}
    starts = [0] + [i + 1 for i, t in enumerate(tokens) if t.token_type is TokenType.SEMICOLON]
    for i in starts:
        part = tokens[i:i + 4]
        if len(part) == 4 and part[0].token_type is TokenType.SET and _WORD.match(part[1].text) \
                and part[2].token_type is TokenType.EQ and part[3].token_type is TokenType.STRING \
                and "${" not in part[3].text:
            found[part[1].text] = part[3].text
    return found


def select_output(where: StatementText, parse: Callable[[list[Token]], exp.Expr]) -> tuple[exp.Expr, str] | None:
    """MLSQL's ``select … from t [where …] as out``: (the query without ``as out``, ``out``).

    The rule: the statement is a SELECT (or WITH) that has a top-level FROM, its last two
    tokens are ``as NAME``, and either

    - the whole text is not a query (``… where x > 1 as out``, ``… order by a as out``:
      no SQL dialect allows an alias there), but without ``as NAME`` it is; or
    - ``as NAME`` is the alias of the last FROM item, a plain table name (``t``, not
      ``src.t``, a subquery or a table function such as ML.EVALUATE(…)), and NAME
      qualifies no column anywhere in the query (``select a from t as out``: in BigQuery
      an alias nothing uses, which changes no result).

    A column's alias (``select a as b``, ``select (select …) as x``), a table alias the
    query uses (``from t as x where x.a > 1``) and the alias of a subquery or of a table
    function (``from ML.EVALUATE(MODEL m) as e``) are BigQuery's and stay so."""
    tokens = list(where.tokens)
    if len(tokens) < 4 or tokens[0].token_type not in (TokenType.SELECT, TokenType.WITH):
        return None
    as_token, name = tokens[-2], tokens[-1]
    if as_token.token_type is not TokenType.ALIAS or not (
            name.token_type is TokenType.IDENTIFIER or _WORD.match(name.text)):
        return None
    if tokens[-3].token_type is TokenType.R_PAREN and not _after_from(tokens[:-2]):
        return None
    if not any(t.token_type is TokenType.FROM for t in tokens):
        return None
    try:
        stripped = parse(tokens[:-2])
    except Exception:  # noqa: BLE001 - not a query without it either: the caller reports the full error
        return None
    if not isinstance(stripped, exp.Query):
        return None
    try:
        full = parse(tokens)
    except Exception:  # noqa: BLE001 - only MLSQL's reading makes it a query
        return stripped, name.text
    select = full if isinstance(full, exp.Select) else None
    if select is None:
        return None
    items = [select.args.get("from_") or select.args.get("from"), *(select.args.get("joins") or [])]
    last = items[-1] if items and items[-1] is not None else None
    target = last.this if isinstance(last, exp.From | exp.Join) else None
    if not isinstance(target, exp.Table) or not isinstance(target.this, exp.Identifier) or target.db \
            or target.alias != name.text:
        return None  # a subquery's, a function's or a source table's alias is BigQuery's
    used = any(col.table == name.text for col in full.find_all(exp.Column))
    return None if used else (stripped, name.text)


def _after_from(tokens: list[Token]) -> bool:
    """Whether the last ``)`` closes a subquery of the top-level FROM (``from (select …)``)."""
    depth = 0
    for token in reversed(tokens):
        if token.token_type is TokenType.R_PAREN:
            depth += 1
        elif token.token_type is TokenType.L_PAREN:
            depth -= 1
        elif depth == 0 and token.token_type is TokenType.FROM:
            return True
        elif depth == 0 and token.token_type in (TokenType.SELECT, TokenType.COMMA):
            return False
    return False
