"""Queries that cannot write: the statement check shared by every backend.

A train, predict or preview query must be ONE statement that reads
(``select``, ``with``, ``values``, ``table``, DuckDB's ``from``). This check
runs before a query reaches the database; each backend then enforces
read-only itself as well (see ``softquery.data.native``):

* PostgreSQL: every query runs in a ``READ ONLY`` transaction with a local
  ``statement_timeout`` (and the session defaults to read-only);
* SQLite: the file is opened ``mode=ro`` with ``pragma query_only``, and every
  query is first compiled by a guard connection whose authorizer allows only
  reads;
* DuckDB: a ``read_only`` connection, queries wrapped in ``select * from (…)``.
"""

from __future__ import annotations

import re
from typing import Any

from softquery.errors import QueryError

READ_KEYWORDS = frozenset({"select", "with", "values", "table", "from"})
_WORD = re.compile(r"[A-Za-z_]+")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")

# Driver messages that mean "this statement tried to write".
_WRITE_MESSAGES = (
    "read-only transaction",      # PostgreSQL 25006
    "readonly database",          # SQLite mode=ro
    "query_only",                 # SQLite pragma query_only
    "not authorized",             # SQLite guard authorizer
    "read-only mode",             # DuckDB read_only connection
    "attached in read-only",      # DuckDB
    "data-modifying statement",   # PostgreSQL: a DELETE … RETURNING in a subquery
)


def split_statements(sql: str) -> list[str]:
    """Split on ``;`` outside strings, quoted names, comments and dollar quotes.

    Empty statements are dropped; each statement is stripped.
    """
    parts: list[str] = []
    start = i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"', "`"):
            escape = ch == "'" and i > 0 and sql[i - 1] in "eE" and (i < 2 or not (sql[i - 2].isalnum() or sql[i - 2] == "_"))
            i += 1
            while i < n:
                if escape and sql[i] == "\\":
                    i += 2
                    continue
                if sql[i] == ch:
                    if i + 1 < n and sql[i + 1] == ch:  # doubled quote
                        i += 2
                        continue
                    break
                i += 1
            i += 1
        elif ch == "[":  # SQLite/SQL Server bracket name
            end = sql.find("]", i + 1)
            i = n if end < 0 else end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch == "$" and (match := _DOLLAR.match(sql, i)) and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            tag = match.group(0)
            end = sql.find(tag, match.end())
            i = n if end < 0 else end + len(tag)
        elif ch == ";":
            parts.append(sql[start:i])
            i += 1
            start = i
        else:
            i += 1
    parts.append(sql[start:])
    return [p.strip() for p in parts if _strip_comments(p).strip()]


def _strip_comments(text: str) -> str:
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def first_keyword(statement: str) -> str:
    """The statement's first word in lower case ('(' for a parenthesised query)."""
    body = _strip_comments(statement).lstrip()
    if body.startswith("("):
        return "("
    match = _WORD.match(body)
    return match.group(0).lower() if match else ""


def is_read_statement(statement: str) -> bool:
    word = first_keyword(statement)
    return word == "(" or word in READ_KEYWORDS


def write_refused(what: str, sql: str, reason: str, **details: Any) -> QueryError:
    return QueryError(
        f"The {what} tried to change the database; queries in softquery can only read. {reason}".strip(),
        details={"query": what, "sql": sql, "reason": "read_only", **details},
    )


def check_read_only(sql: str, what: str) -> str:
    """Return the one reading statement of ``sql`` (trailing ``;`` dropped), else a ``QueryError``."""
    statements = split_statements(sql)
    if not statements:
        raise QueryError(f"The {what} is empty: write a SELECT statement.", details={"query": what, "sql": sql})
    writes = [s for s in statements if not is_read_statement(s)]
    if writes:
        word = first_keyword(writes[0]).upper() or "?"
        raise write_refused(what, sql, f"It contains a {word} statement: write a single SELECT.",
                            statement=writes[0][:200])
    if len(statements) > 1:
        raise QueryError(
            f"The {what} has {len(statements)} statements; write a single SELECT (queries in softquery "
            "can only read, one statement at a time).",
            details={"query": what, "sql": sql, "reason": "multiple_statements"},
        )
    return statements[0]


def is_write_refusal(message: str, sqlstate: str | None = None) -> bool:
    """True when a driver error says the statement was refused because it writes."""
    if sqlstate == "25006":
        return True
    low = message.lower()
    return any(text in low for text in _WRITE_MESSAGES)


def timeout_error(what: str, sql: str, seconds: float) -> QueryError:
    shown = f"{seconds:g}"
    return QueryError(
        f"The {what} ran longer than the statement time limit of {shown} seconds and was stopped. "
        "Make it faster (filter rows, add an index, avoid runaway recursive queries) or raise "
        "SOFTQUERY_STATEMENT_TIMEOUT_SECONDS.",
        details={"query": what, "sql": sql, "reason": "statement_timeout", "timeout_seconds": seconds},
    )
