"""Fixtures for end-to-end engine tests through the CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("SOFTQUERY_HOME", str(path))
    monkeypatch.delenv("SOFTQUERY_DATABASE_URL", raising=False)
    monkeypatch.delenv("SOFTQUERY_SECRET_KEY", raising=False)
    return path


@pytest.fixture
def sq(home: Path, capsys: pytest.CaptureFixture[str]) -> SoftqueryCLI:
    """The CLI on an initialised home."""
    cli = SoftqueryCLI(capsys, home)
    cli("init")
    return cli


@pytest.fixture
def shop(sq: SoftqueryCLI, tmp_path: Path) -> None:
    """A source `shop`: a SQLite file with houses(id, price, quality), 40 rows."""
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table houses (id integer, price real, quality real)")
        conn.executemany("insert into houses values (?, ?, ?)", [(i, 1.0 * i, 2.0 * i) for i in range(40)])
    conn.close()
    sq("source", "add", "shop", f"sqlite:///{db}")
