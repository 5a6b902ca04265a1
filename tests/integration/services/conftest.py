"""One accounts suite, run on a SQLite metadata DB and on a real PostgreSQL one.

``ctx`` is a service context on a fresh, initialised home (acting as the local operator,
like a ``softquery`` command); ``open_ctx`` opens more independent contexts (own engine)
on the same metadata DB, for races between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.contexts import OpenCtx, context_opener

from softquery.config import Settings
from softquery.services.context import ServiceContext
from softquery.services.home import init_home


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    database_url = request.getfixturevalue("pg_database") if request.param == "postgresql" else None
    settings = Settings(home=tmp_path / "home", database_url=database_url, secret_key=None,
                        login_max_failures=3)
    init_home(settings)
    return settings


@pytest.fixture
def open_ctx(settings: Settings) -> Iterator[OpenCtx]:
    yield from context_opener(settings)


@pytest.fixture
def ctx(open_ctx: OpenCtx) -> ServiceContext:
    """A context acting as the local operator (the CLI), like ``softquery`` commands."""
    return open_ctx()
