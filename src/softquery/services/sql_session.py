"""One SQL script's state while it runs, and what every statement handler may ask of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from softquery.auth.policy import Action, decide
from softquery.errors import PermissionDeniedError
from softquery.services import audit
from softquery.services.context import ServiceContext
from softquery.services.sql_results import StatementResult
from softquery.sql.statements import Statement

MAX_RESULT_ROWS = 1000  # rows of a table result sent back; row_count says how many there were


@dataclass
class Session:
    """One script's state while it runs."""

    ctx: ServiceContext
    source: str | None  # the default source (``--source``); statements may name another
    wait: bool = False  # await the runs statements start (``wait=true``) rather than answer with their ids
    max_rows: int = MAX_RESULT_ROWS
    # script-local state: MLSQL tables (name -> pyarrow.Table), registered functions (name -> model)
    tables: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    # the planner's rows of an ML function's input ((SELECT …) or TABLE t, a sqlglot node) as a
    # pyarrow.Table: set by ``sql_queries`` before a table function runs, so ML.EVALUATE and the
    # others read their input the way ML.PREDICT does without importing the planner
    input_rows: Callable[[Statement, Any], Any] | None = None

    def require(self, statement: Statement, action: Action, *, model: str | None = None,
                owner_id: int | None = None) -> None:
        """The permission policy's decision for this statement (403 naming the statement)."""
        decision = decide(self.ctx.actor, action, model=model, owner_id=owner_id)
        if not decision.allowed:
            where = statement.where.error("")
            tokens = statement.where.tokens
            count = 4 if len(tokens) > 3 and tokens[1].text.upper() == "OR" else 2  # CREATE OR REPLACE MODEL
            words = " ".join(t.text for t in tokens[:count if tokens[0].text.upper() in ("CREATE", "DROP") else 1])
            raise PermissionDeniedError(
                f"Line {where.details['line']} ({words.upper()}): {decision.reason}",
                details={"line": where.details["line"], "column": where.details["column"],
                         "excerpt": where.details["excerpt"]})

    def audit(self, statement: Statement, action: str, target_type: str, target: str,
              details: dict[str, Any] | None = None) -> None:
        """Record a statement that changed something, with its text."""
        audit.record(self.ctx, action, target_type, target,
                     {**(details or {}), "sql": statement.where.text[:10_000], "via": "sql"})


Handler = Callable[[Session, Statement], StatementResult]
