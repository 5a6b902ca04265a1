"""Alembic migrations build exactly the schema that store/tables.py describes."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from softquery.store.database import is_current, make_engine, migrate
from softquery.store.tables import metadata


def test_migrations_match_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    assert not is_current(engine)
    migrate(engine)
    assert is_current(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []
