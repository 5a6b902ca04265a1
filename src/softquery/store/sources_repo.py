"""Repository of named data-source connections."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from softquery.domain import DataSource
from softquery.errors import AlreadyExistsError, NotFoundError
from softquery.store.clock import as_utc, utcnow
from softquery.store.database import write_tx
from softquery.store.tables import sources


def _entity(row: RowMapping) -> DataSource:
    return DataSource(name=row["name"], url=row["url"], created_at=as_utc(row["created_at"]))


class SourceRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, name: str, url: str) -> DataSource:
        try:
            with write_tx(self.engine) as conn:
                conn.execute(insert(sources).values(name=name, url=url, created_at=utcnow()))
        except IntegrityError as exc:
            raise AlreadyExistsError(
                f"A data source named {name!r} already exists; pick another name or remove it first.",
                details={"source": name},
            ) from exc
        return self.get(name)

    def get(self, name: str) -> DataSource:
        with self.engine.connect() as conn:
            row = conn.execute(select(sources).where(sources.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError(
                f"There is no data source named {name!r}. See `softquery source list`, "
                "or add one with `softquery source add NAME URL`.",
                details={"source": name},
            )
        return _entity(row)

    def list(self) -> list[DataSource]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(sources).order_by(sources.c.name)).mappings().all()
        return [_entity(r) for r in rows]

    def remove(self, name: str) -> None:
        self.get(name)
        with write_tx(self.engine) as conn:
            conn.execute(delete(sources).where(sources.c.name == name))
