"""A model writes only the table it created: claims on output tables (services/output_tables.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from tests.api.conftest import train_now

from softquery.config import Settings
from softquery.domain import Run, RunKind, RunTrigger
from softquery.errors import ConflictError
from softquery.services.context import ServiceContext, open_context
from softquery.services.demo import create_demo
from softquery.services.home import init_home
from softquery.services.models import (
    ModelSpec,
    create_model,
    delete_model,
    duplicate_model,
    get_model,
    update_model,
)
from softquery.services.runs import execute_here, submit_run
from softquery.store.tables import output_tables

MODEL = "house_quality"


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    settings = Settings(home=tmp_path / "home")
    init_home(settings)
    context = open_context(settings)
    create_demo(context)
    train_now(context, MODEL)
    try:
        yield context
    finally:
        context.close()


def predict(ctx: ServiceContext, model: str = MODEL) -> Run:
    return execute_here(ctx, submit_run(ctx, model, RunKind.PREDICT, RunTrigger.CLI, None).id)


def rows(ctx: ServiceContext, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(ctx.settings.home / "demo.db") as conn:
        return conn.execute(f'select * from "{table}" order by 1').fetchall()  # noqa: S608


def test_the_first_prediction_claims_the_table_and_later_ones_reuse_it(ctx: ServiceContext) -> None:
    assert ctx.output_tables.holder("demo", f"{MODEL}_prediction") is None
    assert predict(ctx).status.value == "succeeded"
    assert ctx.output_tables.holder("demo", f"{MODEL}_prediction") == MODEL
    assert predict(ctx).status.value == "succeeded"


def test_a_model_may_not_take_another_models_table(ctx: ServiceContext) -> None:
    predict(ctx)
    taken = f"{MODEL}_prediction"
    with pytest.raises(ConflictError) as err:
        update_model(ctx, "iris_species", ModelSpec(output_table=taken))
    assert f"holds the predictions of model {MODEL!r}" in err.value.message
    assert "Choose another output table" in err.value.message
    assert get_model(ctx, "iris_species").output_table is None  # nothing changed
    spec = ModelSpec(source="demo", template="linear_regression", train_sql="select price, quality from houses",
                     predict_sql="select price from houses", output_table=taken)
    with pytest.raises(ConflictError):
        create_model(ctx, "thief", spec)


def test_a_source_table_is_never_written(ctx: ServiceContext) -> None:
    before = rows(ctx, "houses")
    update_model(ctx, MODEL, ModelSpec(output_table="houses"))
    run = predict(ctx)
    assert run.status.value == "failed" and run.error_code == "conflict"
    assert "softquery did not create it" in (run.error_message or "")
    assert rows(ctx, "houses") == before
    assert ctx.output_tables.holder("demo", "houses") is None


def test_a_model_made_again_under_its_name_gets_its_table_back(ctx: ServiceContext) -> None:
    predict(ctx)
    model = get_model(ctx, MODEL)
    duplicate_model(ctx, MODEL, "keeper")
    delete_model(ctx, MODEL)
    # the deleted model's table stays reserved for its name
    with pytest.raises(ConflictError):
        update_model(ctx, "keeper", ModelSpec(output_table=f"{MODEL}_prediction"))
    create_model(ctx, MODEL, ModelSpec(source=model.source, code=model.code, train_sql=model.train_sql,
                                       predict_sql=model.predict_sql))
    train_now(ctx, MODEL)
    assert predict(ctx).status.value == "succeeded"


def test_a_table_written_before_claims_existed_stays_writable_by_its_model_only(ctx: ServiceContext) -> None:
    predict(ctx)
    with ctx.engine.begin() as conn:  # as after an upgrade: the table exists, nobody claimed it
        conn.execute(delete(output_tables))
    update_model(ctx, "iris_species", ModelSpec(output_table=f"{MODEL}_prediction"))
    train_now(ctx, "iris_species")
    before = rows(ctx, f"{MODEL}_prediction")
    assert predict(ctx, "iris_species").status.value == "failed"
    assert rows(ctx, f"{MODEL}_prediction") == before
    assert predict(ctx).status.value == "succeeded"  # its own earlier run wrote it
    assert ctx.output_tables.holder("demo", f"{MODEL}_prediction") == MODEL
