"""An app over a fresh home with the demo loaded, a fake executor, and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests import authkit

from softquery.config import Settings
from softquery.domain import RunKind, RunTrigger
from softquery.server import create_app
from softquery.services.context import ServiceContext, open_context
from softquery.services.demo import create_demo
from softquery.services.home import init_home
from softquery.services.runs import execute_here, submit_run


class FakeExecutor:
    """Records run ids instead of executing them (execution is tested in tests/integration/jobs)."""

    name = "fake"

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.cancelled: list[str] = []

    def submit(self, run_id: str) -> None:
        self.submitted.append(run_id)

    def cancel(self, run_id: str) -> None:
        self.cancelled.append(run_id)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    context = open_context(settings)
    create_demo(context)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def executor() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def client(ctx: ServiceContext, executor: FakeExecutor) -> Iterator[TestClient]:
    """A client holding a full-scope API token of the admin ``admin``."""
    with TestClient(create_app(ctx, executor), raise_server_exceptions=False) as test_client:
        test_client.headers.update(authkit.bearer(ctx))
        yield test_client


@pytest.fixture
def anon(ctx: ServiceContext, executor: FakeExecutor) -> Iterator[TestClient]:
    """A client without credentials."""
    with TestClient(create_app(ctx, executor), raise_server_exceptions=False) as test_client:
        yield test_client


def train_now(ctx: ServiceContext, model: str) -> None:
    """Train ``model`` for real (sandboxed child) so versions exist."""
    run = submit_run(ctx, model, RunKind.TRAIN, RunTrigger.CLI, None)
    done = execute_here(ctx, run.id)
    assert done.status.value == "succeeded", done.error_message


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    """The one error shape: exactly {"error": {"code", "message", "details"}}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return dict(body["error"])


# a model the API tests create (``create_model(client, **changes)`` overrides its fields)
NEW_MODEL = {
    "name": "price_guess",
    "source": "demo",
    "template": "ridge_regression",
    "train_sql": "select id, price, quality from houses where quality is not null",
    "predict_sql": "select id, price from houses where quality is null",
    "description": "A test model.",
}


def create_model(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/models", json={**NEW_MODEL, **changes})
    assert response.status_code == 201, response.text
    return dict(response.json())
