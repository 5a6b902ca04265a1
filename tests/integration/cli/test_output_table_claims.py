"""A model writes only the table it created: claims on output tables (services/output_tables.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from tests.api.conftest import train_now

from softquery.config import Settings
from softquery.domain import OutputTableClaim, Run, RunKind, RunTrigger
from softquery.errors import ConflictError
from softquery.services import models as models_service
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
from softquery.store.database import MIGRATIONS_DIR, migrate

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


def test_the_default_table_is_reserved_at_creation_and_the_first_prediction_writes_it(ctx: ServiceContext) -> None:
    assert ctx.output_tables.get("demo", f"{MODEL}_prediction") == OutputTableClaim(
        "demo", f"{MODEL}_prediction", MODEL, written=False)
    assert predict(ctx).status.value == "succeeded"
    assert ctx.output_tables.get("demo", f"{MODEL}_prediction") == OutputTableClaim(
        "demo", f"{MODEL}_prediction", MODEL, written=True)
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
    claim = ctx.output_tables.get("demo", "houses")  # reserved when saved, never written
    assert claim is not None and claim.model == MODEL and not claim.written
    update_model(ctx, MODEL, ModelSpec(clear={"output_table"}))
    assert ctx.output_tables.get("demo", "houses") is None  # a reservation no longer used is dropped


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
    before = rows(ctx, f"{MODEL}_prediction")
    # as before output tables were claimed (0004): the table exists, nobody claimed it; then the upgrade
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = ctx.engine
    command.downgrade(config, "0004")
    migrate(ctx.engine)
    # the upgrade reserved every model's default table for it, so no one else may take it
    assert ctx.output_tables.get("demo", f"{MODEL}_prediction") == OutputTableClaim(
        "demo", f"{MODEL}_prediction", MODEL, written=False)
    with pytest.raises(ConflictError, match=f"is reserved as the output table of model {MODEL!r}"):
        update_model(ctx, "iris_species", ModelSpec(output_table=f"{MODEL}_prediction"))
    assert rows(ctx, f"{MODEL}_prediction") == before
    assert predict(ctx).status.value == "succeeded"  # its own earlier run wrote it
    assert ctx.output_tables.get("demo", f"{MODEL}_prediction") == OutputTableClaim(
        "demo", f"{MODEL}_prediction", MODEL, written=True)


def test_a_model_not_yet_predicted_keeps_its_default_table(ctx: ServiceContext) -> None:
    """The squat of issue 10: another model takes <model>_prediction before that model's first
    prediction. The claim is refused when saved, and the model's own prediction works."""
    train_now(ctx, "iris_species")
    squat = f"{MODEL}_prediction"
    with pytest.raises(ConflictError) as err:
        update_model(ctx, "iris_species", ModelSpec(output_table=squat))
    assert err.value.message == (
        f"Table {squat!r} in data source 'demo' is reserved as the output table of model {MODEL!r}; "
        "a model writes only its own table. Choose another output table.")
    assert err.value.details == {"table": squat, "source": "demo", "model": MODEL, "field": "output_table"}
    assert predict(ctx).status.value == "succeeded"


def test_a_new_model_whose_default_another_model_chose_is_refused(ctx: ServiceContext) -> None:
    update_model(ctx, "iris_species", ModelSpec(output_table="later_prediction"))
    spec = ModelSpec(source="demo", template="linear_regression", train_sql="select price, quality from houses",
                     predict_sql="select price from houses")
    with pytest.raises(ConflictError) as err:
        create_model(ctx, "later", spec)
    assert err.value.message == (
        "Model 'later' would write its predictions to 'later_prediction', its default output table, but "
        "that table in data source 'demo' is reserved as the output table of model 'iris_species'. Give "
        "model 'later' an output table of its own (output_table; --output-table on the command line) or "
        "another name.")
    assert "later" not in {m.name for m in ctx.models.list()}
    spec.output_table = "later_scores"
    create_model(ctx, "later", spec)  # with a table of its own
    assert ctx.output_tables.holder("demo", "later_scores") == "later"
    assert ctx.output_tables.holder("demo", "later_prediction") == "iris_species"


def test_reservations_follow_the_model(ctx: ServiceContext) -> None:
    update_model(ctx, "iris_species", ModelSpec(output_table="first_choice"))
    update_model(ctx, "iris_species", ModelSpec(output_table="second_choice"))
    assert ctx.output_tables.holder("demo", "first_choice") is None  # never written: free again
    assert ctx.output_tables.holder("demo", "iris_species_prediction") == "iris_species"  # its default stays
    update_model(ctx, "wine_cultivar", ModelSpec(output_table="first_choice"))
    delete_model(ctx, "iris_species")
    assert ctx.output_tables.holder("demo", "second_choice") is None
    assert ctx.output_tables.holder("demo", "iris_species_prediction") is None


def test_a_claim_taken_between_the_check_and_the_save_undoes_the_save(
        ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two saves racing for one table: the one that loses the reservation changes nothing."""
    monkeypatch.setattr(models_service, "check_target_free", lambda *_: None)  # both passed the check
    ctx.output_tables.claim("demo", "contested", ctx.models.id_of(MODEL), MODEL, written=False)
    spec = ModelSpec(source="demo", template="linear_regression", train_sql="select price, quality from houses",
                     predict_sql="select price from houses", output_table="contested")
    with pytest.raises(ConflictError):
        create_model(ctx, "loser", spec)
    assert "loser" not in {m.name for m in ctx.models.list()}
    with pytest.raises(ConflictError):
        update_model(ctx, "iris_species", ModelSpec(output_table="contested"))
    assert get_model(ctx, "iris_species").output_table is None
