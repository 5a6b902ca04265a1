"""A small, strict parser for MLSQL's online predict SQL.

Grammar (keywords case-insensitive)::

    SELECT item ("," item)* [";"]
    item := model "(" arg ("," arg)* ")" [AS alias]
    arg  := column | VEC_DENSE "(" column ")"

``model``, ``column`` and ``alias`` are identifiers ``[A-Za-z_][A-Za-z0-9_]{0,62}``.
Anything else (FROM, WHERE, expressions, literals) is refused with the position
and what was expected. The rows come from the request's ``data`` field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from softquery.errors import InvalidInputError

# Whitespace is a token of its own (skipped): a leading ``\s*`` would rescan a long run of
# spaces from every position in it, quadratic time for one request.
_TOKEN = re.compile(r"(?P<space>\s+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(),;])|(?P<other>\S)")
_MAX_IDENT = 63


@dataclass(frozen=True)
class Arg:
    column: str
    vector: bool  # vec_dense(column)

    def text(self) -> str:
        return f"vec_dense({self.column})" if self.vector else self.column


@dataclass(frozen=True)
class Call:
    model: str
    args: tuple[Arg, ...]
    alias: str

    def text(self) -> str:
        return f"{self.model}({', '.join(a.text() for a in self.args)})"


class _Tokens:
    def __init__(self, sql: str):
        self.sql = sql
        self.items: list[tuple[str, str, int]] = []
        for match in _TOKEN.finditer(sql):
            kind = match.lastgroup or "other"
            if kind == "space":
                continue
            self.items.append((kind, match.group(kind), match.start(kind)))
        self.i = 0

    def error(self, what: str, pos: int | None = None) -> InvalidInputError:
        if pos is None:
            pos = self.items[self.i][2] if self.i < len(self.items) else len(self.sql)
        near = self.sql[pos:pos + 20] or "the end"
        return InvalidInputError(
            f"Cannot read the sql at character {pos + 1} (near {near!r}): expected {what}. "
            "The online SQL is `select model(column | vec_dense(column), ...) [as alias], ...`.",
            details={"sql": self.sql, "position": pos + 1, "expected": what})

    def peek(self) -> tuple[str, str, int] | None:
        return self.items[self.i] if self.i < len(self.items) else None

    def ident(self, what: str) -> str:
        token = self.peek()
        if token is None or token[0] != "ident":
            raise self.error(what)
        if len(token[1]) > _MAX_IDENT:
            raise self.error(f"{what} of at most {_MAX_IDENT} characters")
        self.i += 1
        return token[1]

    def punct(self, char: str) -> None:
        token = self.peek()
        if token is None or token[1] != char:
            raise self.error(repr(char))
        self.i += 1

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "ident" and token[1].lower() == word:
            self.i += 1
            return True
        return False


def _arg(tokens: _Tokens) -> Arg:
    name = tokens.ident("a column name or vec_dense(column)")
    if name.lower() == "vec_dense":
        tokens.punct("(")
        column = tokens.ident("the column holding the vector")
        tokens.punct(")")
        return Arg(column, True)
    token = tokens.peek()
    if token is not None and token[1] == "(":
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
        tokens.punct("(")
        args = [_arg(tokens)]
        while (token := tokens.peek()) is not None and token[1] == ",":
            tokens.i += 1
            args.append(_arg(tokens))
        tokens.punct(")")
        call = Call(model, tuple(args), "")
        alias = tokens.ident("an alias after AS") if tokens.keyword("as") else call.text()
        calls.append(Call(model, tuple(args), alias))
        token = tokens.peek()
        if token is not None and token[1] == ",":
            tokens.i += 1
            continue
        break
    if (token := tokens.peek()) is not None and token[1] == ";":
        tokens.i += 1
    if (token := tokens.peek()) is not None:
        if token[0] == "ident" and token[1].lower() == "from":
            raise tokens.error("the end of the statement (no FROM: the rows come from the data field)")
        raise tokens.error("',' or the end of the statement")
    aliases = [c.alias for c in calls]
    if len(set(aliases)) != len(aliases):
        raise InvalidInputError("Two select items have the same name; give each its own alias with AS.",
                                details={"sql": sql, "aliases": aliases})
    return calls
