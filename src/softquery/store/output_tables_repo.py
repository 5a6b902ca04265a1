"""Repository of output-table claims: (source, table) -> the model whose table it is.

A claim is made when a model is saved (a reservation: ``written`` False) and marked
``written`` by the model's first batch prediction into it. A written claim outlives its
model (``model_id`` becomes NULL): the table stays reserved for a model of the same name, so
deleting and re-creating a model keeps its table. Reservations never written go with their
model.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, and_, delete, false, insert, not_, or_, select, update
from sqlalchemy.exc import IntegrityError

from softquery.clock import utcnow
from softquery.domain import OutputTableClaim
from softquery.store.database import write_tx
from softquery.store.tables import output_tables

COLUMNS = (output_tables.c.source, output_tables.c.table_name, output_tables.c.model_name,
           output_tables.c.written)


class OutputTableRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, source: str, table: str) -> OutputTableClaim | None:
        """The claim on ``table`` in ``source`` (its model live or deleted), if any."""
        query = select(*COLUMNS).where(output_tables.c.source == source, output_tables.c.table_name == table)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else OutputTableClaim(row.source, row.table_name, row.model_name,
                                                         bool(row.written))

    def holder(self, source: str, table: str) -> str | None:
        """The name of the model (live or deleted) that claimed ``table`` in ``source``."""
        claim = self.get(source, table)
        return None if claim is None else claim.model

    def claim(self, source: str, table: str, model_id: int, model_name: str, *, written: bool = True) -> bool:
        """Claim ``table`` for the model (``written``: a prediction is about to write it, else a
        reservation); False when another model holds it. Never turns a written claim back."""
        where = (output_tables.c.source == source, output_tables.c.table_name == table)
        try:
            with write_tx(self.engine) as conn:
                row = conn.execute(select(output_tables.c.model_id, output_tables.c.model_name,
                                          output_tables.c.written).where(*where)).first()
                if row is None:
                    conn.execute(insert(output_tables).values(source=source, table_name=table, model_id=model_id,
                                                              model_name=model_name, claimed_at=utcnow(),
                                                              written=written))
                    return True
                if row.model_name != model_name:
                    return False
                if row.model_id != model_id or (written and not row.written):
                    # the model of this name was deleted and made again, or writes it now
                    conn.execute(update(output_tables).where(*where).values(
                        model_id=model_id, written=bool(row.written) or written, claimed_at=utcnow()))
                return True
        except IntegrityError:
            return False

    def release_unwritten(self, model_name: str, keep: Iterable[tuple[str, str]] = ()) -> None:
        """Drop the model's reservations that no prediction wrote, but those in ``keep``
        (``(source, table)`` pairs)."""
        kept = [and_(output_tables.c.source == s, output_tables.c.table_name == t) for s, t in keep]
        query = delete(output_tables).where(output_tables.c.model_name == model_name,
                                            output_tables.c.written == false())
        if kept:
            query = query.where(not_(or_(*kept)))
        with write_tx(self.engine) as conn:
            conn.execute(query)
