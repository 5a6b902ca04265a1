"""Helpers of the accounts suite: act as a user, move time by writing timestamps."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Table, update

from softquery.clock import utcnow
from softquery.domain.accounts import Principal, Via
from softquery.services.context import ServiceContext
from softquery.store.database import write_tx

PASSWORD = "correct horse battery staple"


def as_user(ctx: ServiceContext, username: str, ip: str | None = None) -> ServiceContext:
    """``ctx`` acting for ``username`` as a web session would (current role from the DB)."""
    user = ctx.users.get(username)
    return ctx.acting_as(Principal(username=user.username, role=user.role, via=Via.SESSION,
                                   user_id=user.id), ip)


def set_column(ctx: ServiceContext, table: Table, column: str, value: object) -> None:
    """Write ``value`` into ``column`` of every row of ``table`` (to move time, not sleep)."""
    with write_tx(ctx.engine) as conn:
        conn.execute(update(table).values({column: value}))


def past(**delta: float) -> datetime:
    return utcnow() - timedelta(**delta)

