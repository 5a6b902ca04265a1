"""MLSQL's statements (load, train, register, predict, save, set) in the one grammar."""

from __future__ import annotations

from softquery.sql.script import StatementText
from softquery.sql.statements import Statement


def parse_mlsql(where: StatementText) -> Statement:
    raise where.error(f"MLSQL's {where.tokens[0].text.lower()} statement is not supported yet.",
                      where.tokens[0])
