"""Alembic environment: runs migrations on the engine softquery hands over."""

from __future__ import annotations

from alembic import context

from softquery.store.database import write_tx
from softquery.store.tables import metadata

engine = context.config.attributes["engine"]

with write_tx(engine) as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
