"""Web page tests: the real app (API + pages) over fresh homes, in-process, no browser."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests import authkit
from tests.api.conftest import FakeExecutor  # the one recording executor of the tests

from softquery.config import Settings
from softquery.domain import RunKind, RunTrigger
from softquery.services.context import ServiceContext, open_context
from softquery.services.demo import create_demo
from softquery.services.home import init_home
from softquery.services.runs import execute_here, submit_run
from softquery.web import mount_web


def build_app(ctx: ServiceContext, executor: Any) -> FastAPI:
    """The API engineer's app factory; it mounts the pages (or we do, until it does)."""
    from softquery.server import create_app

    app = create_app(ctx, executor)
    if not any(getattr(route, "path", None) == "/sources" for route in app.routes):
        mount_web(app)
    return app


def open_home(path: Path, *, demo: bool) -> ServiceContext:
    settings = Settings(home=path)
    init_home(settings)
    ctx = open_context(settings)
    if demo:
        create_demo(ctx)
    return ctx


def train_now(ctx: ServiceContext, model: str) -> None:
    run = submit_run(ctx, model, RunKind.TRAIN, RunTrigger.CLI, None)
    done = execute_here(ctx, run.id)
    assert done.status.value == "succeeded", done.error_message


@pytest.fixture
def executor() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def empty_ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    ctx = open_home(tmp_path / "home", demo=False)
    yield ctx
    ctx.close()


@pytest.fixture
def demo_ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    ctx = open_home(tmp_path / "home", demo=True)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def trained_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceContext]:
    """The demo with house_quality trained twice and iris_species once (shared by a module: read only)."""
    ctx = open_home(tmp_path_factory.mktemp("trained") / "home", demo=True)
    for model in ("house_quality", "house_quality", "iris_species"):
        train_now(ctx, model)
    yield ctx
    ctx.close()


def client_for(ctx: ServiceContext, executor: Any, *, auth: bool = True) -> TestClient:
    """A client of the whole app; ``auth``: as an admin with a full-scope bearer token (no CSRF)."""
    client = TestClient(build_app(ctx, executor), raise_server_exceptions=False, follow_redirects=False)
    if auth:
        client.headers.update(authkit.bearer(ctx))
    return client


@pytest.fixture
def empty_client(empty_ctx: ServiceContext, executor: FakeExecutor) -> Iterator[TestClient]:
    with client_for(empty_ctx, executor) as client:
        yield client


@pytest.fixture
def demo_client(demo_ctx: ServiceContext, executor: FakeExecutor) -> Iterator[TestClient]:
    with client_for(demo_ctx, executor) as client:
        yield client


@pytest.fixture(scope="module")
def trained_client(trained_ctx: ServiceContext) -> Iterator[TestClient]:
    with client_for(trained_ctx, FakeExecutor()) as client:
        yield client


def follow_login_link(client: TestClient, secret: str, **params: str) -> httpx.Response:
    """What a person does with a one-time login link: open it (the page only asks "Log in as
    …?") and press the button, which POSTs the link's form from this site."""
    page = client.get("/login", params={"token": secret, **params})
    assert page.status_code == 200, page.text
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*data-testid="link-login-form">(.*?)</form>',
                     page.text, re.S)
    assert form is not None, page.text
    fields = {name: html.unescape(value) for name, value in
              re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2))}
    return client.post(html.unescape(form.group(1)), data=fields, headers={"Origin": "http://testserver"})
