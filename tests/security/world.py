"""A fresh home for the security tests: demo data, four users, models with owners, an app.

Users: ``admin`` (admin), ``ed`` and ``eve`` (editors), ``vic`` (viewer).
Models: the demo models (made like the CLI makes them: no owner), ``ed_model`` owned by
``ed`` and ``eve_model`` owned by ``eve`` (copies of ``house_quality``); ``spare`` is an
unused data source. ``trained`` trains ``house_quality``, ``ed_model`` and ``eve_model``
for real (version 1 each); ``run_id`` is a queued run of ``house_quality``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests import authkit
from tests.api.conftest import FakeExecutor, train_now

from softquery.config import Settings
from softquery.domain import RunKind, RunTrigger
from softquery.domain.accounts import Principal, Role, User, Via
from softquery.server import create_app
from softquery.services import models as models_svc
from softquery.services.context import ServiceContext, open_context
from softquery.services.demo import create_demo
from softquery.services.home import init_home
from softquery.services.runs import submit_run
from softquery.services.sources import add_source

USERS = {"admin": Role.ADMIN, "ed": Role.EDITOR, "eve": Role.EDITOR, "vic": Role.VIEWER}
CLI_MODEL = "house_quality"
OWNED = {"ed": "ed_model", "eve": "eve_model"}


def acting(ctx: ServiceContext, user: User) -> ServiceContext:
    return ctx.acting_as(Principal(username=user.username, role=user.role, via=Via.TOKEN,
                                   user_id=user.id))


@dataclass
class World:
    ctx: ServiceContext
    executor: FakeExecutor
    users: dict[str, User]
    run_id: str

    def app(self) -> FastAPI:
        return create_app(self.ctx, self.executor)

    @contextmanager
    def client(self) -> Iterator[TestClient]:
        """A client without credentials (redirects are not followed)."""
        with TestClient(self.app(), raise_server_exceptions=False, follow_redirects=False) as client:
            yield client

    def path_values(self) -> dict[str, str]:
        """Plausible values for path parameters (see ``routemap.fill_path``)."""
        return {
            "name": CLI_MODEL, "models.name": CLI_MODEL, "sources.name": "demo",
            "templates.name": "linear_regression", "users.name": "vic", "users.username": "vic",
            "username": "vic", "number": "1", "version": "1", "run_id": self.run_id,
            "token_id": "1", "tokens.id": "1", "id": "1",
        }

    def snapshot(self) -> dict[str, Any]:
        """What a refused or unauthenticated request must leave as it was."""
        ctx = self.ctx
        return {
            "models": sorted((m.name, m.description, m.active_version, m.updated_at, m.owner_id)
                             for m in ctx.models.list()),
            "runs": sorted((r.id, r.status.value) for r in ctx.runs.list(None, None, 1000)),
            "sources": sorted(s.name for s in ctx.sources.list()),
            "users": sorted((u.username, u.role.value, u.active) for u in ctx.users.list()),
            "tokens": sorted((t.id, t.revoked_at is None) for t in ctx.tokens.list(None)),
            "submitted": list(self.executor.submitted),
            "cancelled": list(self.executor.cancelled),
        }


def _settings(home: Path) -> Settings:
    return Settings(home=home, serving_workers=1)


def clone_world(template: World, tmp_path: Path) -> World:
    """A copy of ``template``'s home (same users, models, versions, secret key), so tests that
    change things can share one expensive setup. Data sources still point at the template's."""
    template.ctx.engine.dispose()  # checkpoint the SQLite WAL before copying the files
    home = tmp_path / "home"
    shutil.copytree(template.ctx.settings.home, home)
    return World(ctx=open_context(_settings(home)), executor=FakeExecutor(), users=dict(template.users),
                 run_id=template.run_id)


def build_world(tmp_path: Path, *, trained: bool = False) -> World:
    settings = _settings(tmp_path / "home")
    init_home(settings)
    ctx = open_context(settings)
    create_demo(ctx)
    users = {name: authkit.user(ctx, name, role) for name, role in USERS.items()}
    for owner, model in OWNED.items():
        models_svc.duplicate_model(acting(ctx, users[owner]), CLI_MODEL, model)
    add_source(ctx, "spare", f"sqlite:///{tmp_path / 'spare.db'}", test=False)
    if trained:
        for model in (CLI_MODEL, *OWNED.values()):
            train_now(ctx, model)
    run = submit_run(ctx, CLI_MODEL, RunKind.TRAIN, RunTrigger.CLI, None)
    return World(ctx=ctx, executor=FakeExecutor(), users=users, run_id=run.id)
