"""Repository of output-table claims: (source, table) -> the model whose predictions it holds.

A claim outlives its model (``model_id`` becomes NULL): the table stays reserved for a
model of the same name, so deleting and re-creating a model keeps its table.
"""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from softquery.store.clock import utcnow
from softquery.store.database import write_tx
from softquery.store.tables import output_tables


class OutputTableRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def holder(self, source: str, table: str) -> str | None:
        """The name of the model (live or deleted) that claimed ``table`` in ``source``."""
        query = select(output_tables.c.model_name).where(output_tables.c.source == source,
                                                         output_tables.c.table_name == table)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def claim(self, source: str, table: str, model_id: int, model_name: str) -> bool:
        """Claim ``table`` for the model; False when another model holds it."""
        where = (output_tables.c.source == source, output_tables.c.table_name == table)
        try:
            with write_tx(self.engine) as conn:
                row = conn.execute(select(output_tables.c.model_id, output_tables.c.model_name).where(*where)).first()
                if row is None:
                    conn.execute(insert(output_tables).values(source=source, table_name=table, model_id=model_id,
                                                              model_name=model_name, claimed_at=utcnow()))
                    return True
                if row.model_name != model_name:
                    return False
                if row.model_id != model_id:  # the model of this name was deleted and made again
                    conn.execute(update(output_tables).where(*where).values(model_id=model_id, claimed_at=utcnow()))
                return True
        except IntegrityError:
            return False
