"""Repository of MLSQL's registered functions: name -> model (``register … as fn``)."""

from __future__ import annotations

from sqlalchemy import Engine, delete, insert, select, update

from softquery.clock import utcnow
from softquery.store.database import write_tx
from softquery.store.tables import sql_functions


class SqlFunctionRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def get(self, name: str) -> str | None:
        """The model ``name`` calls, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(sql_functions.c.model_name)
                               .where(sql_functions.c.name == name.lower())).first()
        return None if row is None else str(row.model_name)

    def owner(self, name: str) -> tuple[bool, int | None]:
        """(registered?, the user who registered ``name``)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(sql_functions.c.owner_id).where(sql_functions.c.name == name.lower())).first()
        return (False, None) if row is None else (True, row.owner_id)

    def all(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(sql_functions.c.name, sql_functions.c.model_name)).all()
        return {str(r.name): str(r.model_name) for r in rows}

    def put(self, name: str, model: str, owner_id: int | None) -> str | None:
        """Point ``name`` at ``model``; the model it called before, if any."""
        key = name.lower()
        with write_tx(self.engine) as conn:
            row = conn.execute(select(sql_functions.c.model_name).where(sql_functions.c.name == key)).first()
            if row is None:
                conn.execute(insert(sql_functions).values(name=key, model_name=model, owner_id=owner_id,
                                                          created_at=utcnow()))
                return None
            conn.execute(update(sql_functions).where(sql_functions.c.name == key)
                         .values(model_name=model, owner_id=owner_id, created_at=utcnow()))
            return str(row.model_name)

    def remove(self, name: str) -> None:
        with write_tx(self.engine) as conn:
            conn.execute(delete(sql_functions).where(sql_functions.c.name == name.lower()))

    def remove_for_model(self, model: str) -> list[str]:
        """Forget the functions that call ``model`` (it was deleted); their names."""
        with write_tx(self.engine) as conn:
            names = list(conn.execute(select(sql_functions.c.name)
                                      .where(sql_functions.c.model_name == model)).scalars())
            conn.execute(delete(sql_functions).where(sql_functions.c.model_name == model))
        return [str(n) for n in names]
