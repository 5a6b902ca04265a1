"""Repository of users' SQL history (the scripts each one ran); read per user only."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import RowMapping

from softquery.clock import as_utc, utcnow
from softquery.domain.sql_history import SqlHistoryEntry
from softquery.store.database import write_tx
from softquery.store.tables import sql_history

KEEP_PER_USER = 500  # older entries of a user are dropped as new ones arrive


def _entry(row: RowMapping) -> SqlHistoryEntry:
    return SqlHistoryEntry(id=row["id"], user_id=row["user_id"], at=as_utc(row["at"]),  # type: ignore[arg-type]
                           source=row["source"], sql=row["sql"], statements=row["statements"],
                           error=row["error"], seconds=row["seconds"])


class SqlHistoryRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, user_id: int, sql: str, source: str | None, statements: int, error: str | None,
            seconds: float) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(insert(sql_history).values(
                user_id=user_id, at=utcnow(), source=source[:63] if source else None, sql=sql,
                statements=statements, error=error, seconds=seconds))
            kept = (select(sql_history.c.id).where(sql_history.c.user_id == user_id)
                    .order_by(sql_history.c.id.desc()).limit(KEEP_PER_USER))
            conn.execute(delete(sql_history).where(sql_history.c.user_id == user_id,
                                                   sql_history.c.id.not_in(kept.scalar_subquery())))

    def list_of(self, user_id: int, *, limit: int = 50) -> list[SqlHistoryEntry]:
        """The newest ``limit`` entries of ``user_id`` (and never anyone else's)."""
        query = (select(sql_history).where(sql_history.c.user_id == user_id)
                 .order_by(sql_history.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query).mappings().all()]
