"""A source's "no such function/table/column" as a positioned error with the nearest known name.

The names a user can mean: the models they can see (and the script's registered functions)
for a function, the source's tables and columns (``source_catalog``) for the others."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pyarrow as pa

from softquery.errors import QueryError
from softquery.services.sql_rows import source_of
from softquery.services.sql_session import Session
from softquery.sql.statement_errors import sql_error
from softquery.sql.statements import Statement


def named_errors(session: Session, statement: Statement, run: Callable[[], pa.Table],
                 also: Callable[[], Iterable[str]] = tuple) -> pa.Table:
    """A source's "no such function/table/column" as a positioned error with the nearest name;
    ``also``: more names that may be meant (the columns of the statement's own tables)."""
    try:
        result: pa.Table = run()
        return result
    except QueryError as exc:
        raise _explained(session, statement, exc, also) from None


def _explained(session: Session, statement: Statement, exc: QueryError,
               also: Callable[[], Iterable[str]]) -> Exception:
    message = str(exc.details.get("database_message") or exc.message)
    patterns = [(r"no such function: (\w+)|function (\w+)\(.*\) does not exist|Scalar Function with name "
                 r"(\w+) does not exist", "function"),
                (r"no such table: (?:\w+\.)?(\w+)|relation \"(\w+)\" does not exist|Table with name (\w+) does "
                 r"not exist|Referenced table \"?(\w+)\"? not found", "table"),
                (r"no such column: (?:\w+\.)?(\w+)|column \"?(\w+)\"? does not exist|Referenced column "
                 r"\"?(\w+)\"? not found", "column")]
    for pattern, what in patterns:
        match = re.search(pattern, message, re.IGNORECASE)
        if match is None:
            continue
        name = next(g for g in match.groups() if g)
        known = _known_names(session, statement, what) + (list(also()) if what == "column" else [])
        offset = _offset_of_name(statement, name)
        hint = " A model is called by its name: m(col, …)." if what == "function" else ""
        if what == "column":
            hint = _elsewhere(session, statement, name)
            if hint:  # the name itself exists, in a table the query does not read: no near name
                known = []
        return sql_error(f"There is no {what} named {name!r} here.{hint}", statement.where.script, offset,
                         name=name, known=known, what="model" if what == "function" else what,
                         extra={"database_message": message[:1000]})
    return exc


def _elsewhere(session: Session, statement: Statement, name: str) -> str:
    """Where a column the query names but cannot see lives: " There is a column x in table t,
    which this query does not read." (or "" when no table of the source has it)."""
    try:
        from softquery.services.source_catalog import describe_source

        catalog = describe_source(session.ctx, source_of(session, statement), count_budget=0.0)
    except Exception:  # noqa: BLE001 - the hint is a help, not a must
        return ""
    holders = [(t.name, c.name) for t in catalog.tables for c in t.columns if c.name.lower() == name.lower()]
    if not holders:
        return ""
    tables = ", ".join(t for t, _ in holders[:5])
    if len(holders) == 1:
        return f" There is a column {holders[0][1]} in table {tables}, which this query does not read."
    return f" There is a column {holders[0][1]} in tables {tables}, which this query does not read."


def _known_names(session: Session, statement: Statement, what: str) -> list[str]:
    if what == "function":
        return [m.name for m in session.ctx.models.list()] + list(session.functions)
    try:
        from softquery.services.source_catalog import describe_source

        catalog = describe_source(session.ctx, source_of(session, statement), count_budget=0.0)
    except Exception:  # noqa: BLE001 - the suggestion is a help, not a must
        return []
    if what == "table":
        return [t.name for t in catalog.tables]
    return sorted({c.name for t in catalog.tables for c in t.columns})


def _offset_of_name(statement: Statement, name: str) -> int:
    for token in statement.where.tokens:
        if token.text.strip('"`').lower() == name.lower():
            return int(token.start)
    return statement.where.offset
