"""MLSQL's online predict SQL (``POST /model/predict``), read with the one grammar's tokenizer.

Grammar (keywords case-insensitive)::

    SELECT item ("," item)* [";"]
    item := fn "(" arg ("," arg)* ")" [AS alias]
    arg  := column | VEC_DENSE "(" column ")"

``fn`` (a model, or a function made with ``register … as fn``), ``column`` and ``alias``
are identifiers ``[A-Za-z_][A-Za-z0-9_]{0,62}``. Anything else (FROM, WHERE, expressions,
literals) is refused with the position and what was expected: the rows come from the
request's ``data`` field. The tokens are sqlglot's, as for every statement (``script.py``),
so quoting and comments mean what they mean in a script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from softquery.errors import InvalidInputError

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_IDENT = 63


@dataclass(frozen=True)
class Arg:
    column: str
    vector: bool  # vec_dense(column)

    def text(self) -> str:
        return f"vec_dense({self.column})" if self.vector else self.column


@dataclass(frozen=True)
class Call:
    model: str  # the name called: a model or a registered function (the service resolves it)
    args: tuple[Arg, ...]
    alias: str

    def text(self) -> str:
        return f"{self.model}({', '.join(a.text() for a in self.args)})"


class _Tokens:
    def __init__(self, sql: str):
        from softquery.sql.dialect import Softquery

        self.sql = sql
        try:
            self.items: list[Token] = list(Softquery().tokenize(sql))
        except TokenError:
            quote = min((i for i in (sql.find(q) for q in "'\"`") if i >= 0), default=len(sql))
            raise self.error("a closed string or name (a quote is not closed)", quote) from None
        self.i = 0

    def error(self, what: str, pos: int | None = None) -> InvalidInputError:
        if pos is None:
            pos = self.items[self.i].start if self.i < len(self.items) else len(self.sql)
        near = self.sql[pos:pos + 20] or "the end"
        return InvalidInputError(
            f"Cannot read the sql at character {pos + 1} (near {near!r}): expected {what}. "
            "The online SQL is `select model(column | vec_dense(column), ...) [as alias], ...`.",
            details={"sql": self.sql, "position": pos + 1, "expected": what})

    def peek(self) -> Token | None:
        return self.items[self.i] if self.i < len(self.items) else None

    def ident(self, what: str) -> str:
        token = self.peek()
        if token is None or token.token_type in (TokenType.STRING, TokenType.NUMBER) \
                or not _IDENT.match(token.text):
            raise self.error(what)
        if len(token.text) > _MAX_IDENT:
            raise self.error(f"{what} of at most {_MAX_IDENT} characters")
        self.i += 1
        return token.text

    def punct(self, kind: TokenType, char: str) -> None:
        token = self.peek()
        if token is None or token.token_type is not kind:
            raise self.error(repr(char))
        self.i += 1

    def at(self, kind: TokenType) -> bool:
        token = self.peek()
        return token is not None and token.token_type is kind

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.token_type not in (TokenType.STRING, TokenType.IDENTIFIER) \
                and token.text.lower() == word:
            self.i += 1
            return True
        return False


def _arg(tokens: _Tokens) -> Arg:
    name = tokens.ident("a column name or vec_dense(column)")
    if name.lower() == "vec_dense":
        tokens.punct(TokenType.L_PAREN, "(")
        column = tokens.ident("the column holding the vector")
        tokens.punct(TokenType.R_PAREN, ")")
        return Arg(column, True)
    if tokens.at(TokenType.L_PAREN):
        raise tokens.error("a column name (the only function allowed in arguments is vec_dense)")
    return Arg(name, False)


def parse_select(sql: str) -> list[Call]:
    """The model calls of ``sql``; ``InvalidInputError`` (422) says where it went wrong."""
    tokens = _Tokens(sql)
    if not tokens.keyword("select"):
        raise tokens.error("SELECT")
    calls: list[Call] = []
    while True:
        model = tokens.ident("a model call such as my_model(features)")
        tokens.punct(TokenType.L_PAREN, "(")
        args = [_arg(tokens)]
        while tokens.at(TokenType.COMMA):
            tokens.i += 1
            args.append(_arg(tokens))
        tokens.punct(TokenType.R_PAREN, ")")
        call = Call(model, tuple(args), "")
        alias = tokens.ident("an alias after AS") if tokens.keyword("as") else call.text()
        calls.append(Call(model, tuple(args), alias))
        if tokens.at(TokenType.COMMA):
            tokens.i += 1
            continue
        break
    if tokens.at(TokenType.SEMICOLON):
        tokens.i += 1
    if (token := tokens.peek()) is not None:
        if token.text.lower() == "from":
            raise tokens.error("the end of the statement (no FROM: the rows come from the data field)")
        raise tokens.error("',' or the end of the statement")
    aliases = [c.alias for c in calls]
    if len(set(aliases)) != len(aliases):
        raise InvalidInputError("Two select items have the same name; give each its own alias with AS.",
                                details={"sql": sql, "aliases": aliases})
    return calls
