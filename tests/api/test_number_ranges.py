"""Numbers in paths and queries that the metadata DB cannot hold are a 422, never a 500.

The metadata DB keeps version numbers and ids in INTEGER columns: int64 on SQLite
(larger values overflowed the driver), int4 on PostgreSQL ("integer out of range").
Every route is tried on both metadata DBs, with a number just past int4, past int64
and far past both; the largest int4 is a valid number that is simply not found.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.api.conftest import FakeExecutor, assert_envelope
from tests.web.conftest import client_for

from softquery.config import Settings
from softquery.errors import InvalidInputError
from softquery.services import tokens, versions
from softquery.services.context import ServiceContext, open_context
from softquery.services.demo import create_demo
from softquery.services.home import init_home

TOO_LARGE = [2**31, 2**63, 10**20]
ROUTES = [
    ("GET", "/api/v1/models/house_quality/versions/{n}"),
    ("POST", "/api/v1/models/house_quality/versions/{n}/activate"),
    ("GET", "/api/v1/models/house_quality/versions/{n}/export.json"),
    ("POST", "/api/v1/models/house_quality/predict?version={n}"),
    ("DELETE", "/api/v1/tokens/{n}"),
    ("POST", "/models/house_quality/versions/{n}/activate"),  # web page action
    ("POST", "/account/tokens/{n}/revoke"),  # web page action
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], scope="module")
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServiceContext, TestClient]]:
    database_url = None
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        database_url = server.create_database(f"ranges_{Path(tmp_path_factory.mktemp('db')).name.lower()}")
    settings = Settings(home=tmp_path_factory.mktemp("ranges") / "home", database_url=database_url)
    init_home(settings)
    ctx: ServiceContext = open_context(settings)
    create_demo(ctx)
    try:
        with client_for(ctx, FakeExecutor()) as test_client:
            yield ctx, test_client
    finally:
        ctx.close()


@pytest.mark.parametrize("method,template", ROUTES)
def test_numbers_past_the_database_range_are_422(world: tuple[ServiceContext, TestClient], method: str,
                                                  template: str) -> None:
    client = world[1]
    body = {"json": {"rows": [{"price": 1.0}]}} if "predict" in template else {}
    for number in TOO_LARGE:
        response = client.request(method, template.format(n=number), **body)  # type: ignore[arg-type]
        assert response.status_code == 422, (number, response.text)
        if template.startswith("/api/"):
            error = assert_envelope(response, 422, "invalid_input")
            assert "2147483647" in error["message"], error["message"]
    largest = client.request(method, template.format(n=2**31 - 1), **body)  # type: ignore[arg-type]
    assert largest.status_code == 404, largest.text


def test_the_use_cases_refuse_them_whatever_the_entry_point(world: tuple[ServiceContext, TestClient]) -> None:
    """The CLI and the scheduler call the same use cases: the check is there, not only in the routes."""
    ctx = world[0]
    for number in [0, *TOO_LARGE]:
        with pytest.raises(InvalidInputError, match="go from 1 to 2147483647"):
            versions.get_version(ctx, "house_quality", number)
        with pytest.raises(InvalidInputError, match="go from 1 to 2147483647"):
            versions.activate_version(ctx, "house_quality", number)
        with pytest.raises(InvalidInputError, match="go from 1 to 2147483647"):
            tokens.revoke_token(ctx, number)
