"""What every sandbox of an installation hides from model code."""

from __future__ import annotations

from pathlib import Path

from softquery.config import Settings
from softquery.services.sandbox_policy import isolation_for


def test_hides_the_home_a_metadata_db_elsewhere_and_file_sources(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'meta' / 'softquery.db'}")
    isolation = isolation_for(settings, [
        f"sqlite:///{tmp_path / 'shop.db'}", f"duckdb:///{tmp_path / 'lake.duckdb'}",
        "postgresql://analyst:***@db.internal/warehouse", "sqlite://",
    ])
    assert isolation.enabled
    assert isolation.hide[0] == str(tmp_path / "home")
    for path in ("meta/softquery.db", "meta/softquery.db-wal", "shop.db", "shop.db-journal", "lake.duckdb",
                 "lake.duckdb.wal"):
        assert str(tmp_path / path) in isolation.hide
    assert not any("warehouse" in p or "internal" in p for p in isolation.hide)
    assert len(isolation.hide) == len(set(isolation.hide))


def test_a_postgresql_metadata_db_adds_nothing_and_the_setting_turns_it_off(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url="postgresql://sq@127.0.0.1/meta", isolation=False)
    isolation = isolation_for(settings)
    assert isolation.hide == (str(tmp_path / "home"),)
    assert not isolation.enabled
