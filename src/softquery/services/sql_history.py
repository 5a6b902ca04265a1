"""Use cases: each user's own SQL history (the scripts they ran in the console or over the API).

History belongs to one user: ``my_history`` reads only the acting user's entries, whatever
their role, and a principal without an account (the CLI's local operator) has none.
"""

from __future__ import annotations

from softquery.domain.sql_history import SqlHistoryEntry
from softquery.services.context import ServiceContext
from softquery.store.sql_history_repo import SqlHistoryRepository

MAX_HISTORY = 200


def remember(ctx: ServiceContext, sql: str, source: str | None, *, statements: int, error: str | None,
             seconds: float) -> None:
    """Add a script to the acting user's history (nothing for a principal without an account)."""
    user_id = ctx.actor.user_id
    if user_id is None or not sql.strip():
        return
    SqlHistoryRepository(ctx.engine).add(user_id, sql, source, statements, error, seconds)


def my_history(ctx: ServiceContext, limit: int = 50) -> list[SqlHistoryEntry]:
    """The acting user's newest scripts, newest first (never another user's)."""
    user_id = ctx.actor.user_id
    if user_id is None:
        return []
    return SqlHistoryRepository(ctx.engine).list_of(user_id, limit=max(1, min(limit, MAX_HISTORY)))
