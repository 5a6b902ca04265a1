"""Each user's SQL history, on SQLite and PostgreSQL: only one's own, newest first, bounded."""

from __future__ import annotations

import pytest

from softquery.domain.accounts import Principal, Role, Via
from softquery.services import accounts, sql_history
from softquery.services.context import ServiceContext
from softquery.store import sql_history_repo


def _as(ctx: ServiceContext, username: str, role: Role) -> ServiceContext:
    user = accounts.add_user(ctx, username, role, "a long enough password")
    return ctx.acting_as(Principal(username=username, role=role, via=Via.SESSION, user_id=user.id))


def test_history_is_per_user_newest_first_and_bounded(ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_history_repo, "KEEP_PER_USER", 3)
    vic, eve = _as(ctx, "vic", Role.VIEWER), _as(ctx, "eve", Role.ADMIN)
    for n in range(5):
        sql_history.remember(vic, f"select {n}", "demo", statements=1, error=None, seconds=0.1)
    sql_history.remember(eve, "select 'eve'", None, statements=0, error="Line 1: no", seconds=0.0)
    sql_history.remember(vic, "   ", "demo", statements=0, error=None, seconds=0.0)  # nothing typed: not kept
    assert [e.sql for e in sql_history.my_history(vic)] == ["select 4", "select 3", "select 2"]
    [theirs] = sql_history.my_history(eve)  # an admin's history is their own too
    assert (theirs.sql, theirs.source, theirs.error, theirs.statements) == ("select 'eve'", None, "Line 1: no", 0)
    assert sql_history.my_history(ctx) == []  # the CLI's local operator has no account and no history
    sql_history.remember(ctx, "select 'cli'", None, statements=1, error=None, seconds=0.0)
    assert sql_history.my_history(ctx) == [] and len(sql_history.my_history(vic, limit=1)) == 1
