"""Stored texts have a length limit and a model's run limits a server maximum (a clear 422 each)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.api.conftest import assert_envelope

from softquery.config import Settings
from softquery.errors import NotFoundError
from softquery.server import create_app
from softquery.services.context import ServiceContext, open_context
from softquery.services.demo import create_demo
from softquery.services.home import init_home

NEW = {"name": "m", "source": "demo", "template": "linear_regression",
       "train_sql": "select id, price, quality from houses where quality is not null",
       "predict_sql": "select id, price from houses where quality is null"}
CODE = "class Model:\n    def train(self, X, y):\n        pass\n    def predict(self, X):\n        return [0] * len(X)\n"


def assert_not_created(ctx: ServiceContext) -> None:
    with pytest.raises(NotFoundError):
        ctx.models.get("m")


@pytest.mark.parametrize(("field", "value", "what", "most"), [
    ("description", "d" * 10_001, "description", "10,000"),
    ("code", CODE + "#" * 200_000, "model code", "200,000"),
    ("train_sql", NEW["train_sql"] + " " * 100_000, "train query", "100,000"),
    ("predict_sql", NEW["predict_sql"] + " " * 100_000, "predict query", "100,000"),
    ("schedule", "0 " + ",".join(str(h) for h in range(24)) * 5 + " * * *", "schedule", "100"),
])
def test_a_long_text_is_refused_naming_the_field_and_the_limit(client: TestClient, ctx: ServiceContext,
                                                                field: str, value: str, what: str, most: str) -> None:
    body: dict[str, Any] = {**NEW, field: value}
    if field == "code":
        del body["template"]
    error = assert_envelope(client.post("/api/v1/models", json=body), 422, "invalid_input")
    assert error["message"].startswith(f"The {what} is {len(value):,} characters long; at most {most} ")
    assert error["details"]["field"] == field
    assert_not_created(ctx)
    # the same on a change of an existing model, which keeps its old text
    if field != "code":
        before = getattr(ctx.models.get("house_quality"), field)
        error = assert_envelope(client.patch("/api/v1/models/house_quality", json={field: value}), 422,
                                "invalid_input")
        assert error["details"] == {"field": field, "chars": len(value), "max_chars": int(most.replace(",", ""))}
        assert getattr(ctx.models.get("house_quality"), field) == before


def test_texts_at_the_limit_are_kept_whole(client: TestClient, ctx: ServiceContext) -> None:
    body = {**NEW, "description": "d" * 10_000, "train_sql": NEW["train_sql"].ljust(100_000)}
    assert client.post("/api/v1/models", json=body).status_code == 201
    model = ctx.models.get("m")
    assert len(model.description) == 10_000 and len(model.train_sql) == 100_000


def test_a_long_source_url_is_refused(client: TestClient, ctx: ServiceContext) -> None:
    url = "sqlite:////tmp/" + "x" * 4_000 + ".db"
    error = assert_envelope(client.post("/api/v1/sources", json={"name": "big", "url": url, "test": False}),
                            422, "invalid_input")
    assert "source URL" in error["message"] and "at most 4,000" in error["message"]
    assert "big" not in ctx.sources.masked_urls()


@pytest.mark.parametrize(("field", "value", "most", "setting"), [
    ("memory_limit_mb", 100_000_000, "4,096", "SOFTQUERY_MAX_MEMORY_LIMIT_MB"),
    ("time_limit_seconds", 2_000_000_000, "3,600", "SOFTQUERY_MAX_TIME_LIMIT_SECONDS"),
])
def test_run_limits_above_the_maximum_are_refused(client: TestClient, ctx: ServiceContext, field: str,
                                                  value: int, most: str, setting: str) -> None:
    error = assert_envelope(client.post("/api/v1/models", json={**NEW, field: value}), 422, "invalid_input")
    assert f"above this server's maximum of {most}" in error["message"] and setting in error["message"]
    assert error["details"]["field"] == field and error["details"]["setting"] == setting
    assert_not_created(ctx)
    error = assert_envelope(client.patch("/api/v1/models/house_quality", json={field: value}), 422,
                            "invalid_input")
    assert setting in error["message"]
    assert getattr(ctx.models.get("house_quality"), field) is None
    # the maximum itself is fine
    limit = int(most.replace(",", ""))
    assert client.patch("/api/v1/models/house_quality", json={field: limit}).status_code == 200
    assert getattr(ctx.models.get("house_quality"), field) == limit


@pytest.fixture
def generous(tmp_path: Path) -> Iterator[tuple[TestClient, ServiceContext]]:
    """A server whose admin raised both maxima."""
    settings = Settings(home=tmp_path / "home", max_memory_limit_mb=65_536, max_time_limit_seconds=86_400)
    init_home(settings)
    context = open_context(settings)
    create_demo(context)
    try:
        with TestClient(create_app(context, None), raise_server_exceptions=False) as test_client:
            test_client.headers.update(authkit.bearer(context))
            yield test_client, context
    finally:
        context.close()


def test_an_admins_higher_maximum_accepts_more(generous: tuple[TestClient, ServiceContext]) -> None:
    client, ctx = generous
    response = client.post("/api/v1/models", json={**NEW, "memory_limit_mb": 65_536, "time_limit_seconds": 86_400})
    assert response.status_code == 201, response.text
    model = ctx.models.get("m")
    assert (model.memory_limit_mb, model.time_limit_seconds) == (65_536, 86_400)
    error = assert_envelope(client.patch("/api/v1/models/m", json={"memory_limit_mb": 65_537}), 422,
                            "invalid_input")
    assert "maximum of 65,536 MB" in error["message"]
