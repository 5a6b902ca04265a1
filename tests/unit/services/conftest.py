"""A migrated SQLite metadata DB with models to schedule."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from softquery.config import Settings
from softquery.domain import Model
from softquery.services.context import ServiceContext, open_context
from softquery.services.home import init_home
from softquery.services.models import ModelSpec, create_model
from softquery.services.schedules import set_schedule

AddModel = Callable[..., Model]


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    settings = Settings(home=tmp_path / "home", database_url=None, secret_key=None)
    init_home(settings)
    context = open_context(settings)
    context.sources.add("src", f"sqlite:///{tmp_path / 'data.db'}")
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def add_model(ctx: ServiceContext) -> AddModel:
    def add(name: str, schedule: str, *, since: datetime, action: str = "train",
            timezone: str = "UTC") -> Model:
        create_model(ctx, name, ModelSpec(source="src", template="linear_regression",
                                          train_sql="select 1 as x, 2 as y", predict_sql="select 1 as x"))
        return set_schedule(ctx, name, schedule, action=action, timezone=timezone, now=since)

    return add
