"""Use case: a script sent by an entry point (CLI, POST /api/v1/sql, the SQL console).

``run_statements`` runs it with ``sql_scripts.run_script``, gives a failing statement's error
the statement's position when the error has none of its own (a database's refusal names no
line), and keeps the script in the user's history (``sql_history``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from softquery.errors import SoftqueryError
from softquery.services import sql_history
from softquery.services.context import ServiceContext
from softquery.services.sql_results import ScriptResult
from softquery.services.sql_scripts import run_script
from softquery.services.sql_session import MAX_RESULT_ROWS
from softquery.sql.script import MAX_SCRIPT_CHARS, split_script

__all__ = ["MAX_SCRIPT_CHARS", "run_statements"]


def run_statements(ctx: ServiceContext, sql: str, *, source: str | None = None,
                   params: Mapping[str, str] | None = None, wait: bool = False,
                   max_rows: int = MAX_RESULT_ROWS, remember: bool = True) -> ScriptResult:
    """Run ``sql`` (see ``sql_scripts.run_script``); a parse error raises ``SqlError``, nothing ran."""
    started = time.monotonic()
    try:
        result = run_script(ctx, sql, source=source, params=params, wait=wait, max_rows=max_rows)
    except SoftqueryError as exc:
        if remember:
            sql_history.remember(ctx, sql, source, statements=0, error=exc.message,
                                 seconds=time.monotonic() - started)
        raise
    if result.error is not None and result.failed_statement is not None:
        _place(result, sql, params)
    if remember:
        ran = len(result.results) + (1 if result.error is not None else 0)
        message = str(result.error.get("message")) if result.error is not None else None
        sql_history.remember(ctx, sql, source, statements=ran, error=message, seconds=result.seconds)
    return result


def _place(result: ScriptResult, sql: str, params: Mapping[str, str] | None) -> None:
    """The failing statement's line, column and excerpt in the error's details, where missing."""
    assert result.error is not None and result.failed_statement is not None
    details = result.error.setdefault("details", {})
    if not isinstance(details, dict) or ("line" in details and "excerpt" in details):
        return
    try:
        _, statements = split_script(sql, params)
    except SoftqueryError:
        return
    if not 1 <= result.failed_statement <= len(statements):
        return
    where = statements[result.failed_statement - 1].error("").details
    for key in ("line", "column", "excerpt"):
        details.setdefault(key, where[key])
