"""Metadata DBs (SQLite file or real PostgreSQL) that several contexts share, and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from tests.contexts import OpenCtx, context_opener
from tests.integration.cli.cli_harness import SoftqueryCLI

from softquery.config import Settings
from softquery.domain import Model
from softquery.services.context import ServiceContext
from softquery.services.home import init_home
from softquery.services.models import ModelSpec, create_model
from softquery.services.schedules import set_schedule


def _opener(tmp_path: Path, database_url: str | None) -> Iterator[OpenCtx]:
    settings = Settings(home=tmp_path / "home", database_url=database_url, secret_key=None)
    init_home(settings)
    yield from context_opener(settings)


@pytest.fixture
def sqlite_contexts(tmp_path: Path) -> Iterator[OpenCtx]:
    """Opens any number of independent contexts (own engine) on one SQLite metadata DB."""
    yield from _opener(tmp_path, None)


@pytest.fixture
def pg_contexts(tmp_path: Path, pg_database: str) -> Iterator[OpenCtx]:
    """Opens any number of independent contexts on one fresh PostgreSQL metadata DB."""
    yield from _opener(tmp_path, pg_database)


def add_scheduled_model(ctx: ServiceContext, name: str, schedule: str, *, since: datetime,
                        action: str = "train", timezone: str = "UTC") -> Model:
    try:
        ctx.sources.get("src")
    except Exception:
        ctx.sources.add("src", "sqlite:///unused.db")
    create_model(ctx, name, ModelSpec(source="src", template="linear_regression",
                                      train_sql="select 1 as x, 2 as y", predict_sql="select 1 as x"))
    return set_schedule(ctx, name, schedule, action=action, timezone=timezone, now=since)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli-home"
    monkeypatch.setenv("SOFTQUERY_HOME", str(path))
    monkeypatch.delenv("SOFTQUERY_DATABASE_URL", raising=False)
    monkeypatch.delenv("SOFTQUERY_SECRET_KEY", raising=False)
    return path


@pytest.fixture
def sq(home: Path, capsys: pytest.CaptureFixture[str], sqlite_url: str) -> SoftqueryCLI:
    """The CLI on an initialised home with source `s` (a houses table) and model `m`."""
    cli = SoftqueryCLI(capsys, home)
    cli("init")
    cli("source", "add", "s", sqlite_url)
    cli("model", "create", "m", "--source", "s", "--template", "linear_regression",
        "--train-sql", "select id, rooms, price from houses",
        "--predict-sql", "select id, rooms from houses")
    return cli
