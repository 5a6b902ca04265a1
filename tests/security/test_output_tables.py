"""An editor's model writes only its own output table: not a source table, not another
model's predictions (a batch prediction in ``replace`` mode drops its target first)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests import authkit
from tests.api.conftest import assert_envelope, train_now
from tests.security.world import OWNED, World, build_world

from softquery.domain import RunKind, RunTrigger
from softquery.domain.accounts import Role
from softquery.services.runs import execute_here, submit_run


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = build_world(tmp_path)
    for model in OWNED.values():
        train_now(built.ctx, model)
    try:
        yield built
    finally:
        built.ctx.close()


def _table(world: World, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    conn = sqlite3.connect(str(world.ctx.settings.home / "demo.db"))
    try:
        cursor = conn.execute(f'select * from "{name}" order by 1')
        return [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        conn.close()


def _point_and_predict(world: World, table: str) -> None:
    """As ``ed``: point ed_model's output at ``table`` (API), then run a batch prediction."""
    with world.client() as client:
        client.headers.update(authkit.bearer(world.ctx, "ed", Role.EDITOR))
        response = client.patch(f"/api/v1/models/{OWNED['ed']}", json={"output_table": table})
        if response.status_code != 200:
            assert response.status_code in (409, 422), response.text  # refused up front: fine
            return
        queued = client.post(f"/api/v1/models/{OWNED['ed']}/batch-predict")
        assert queued.status_code in (202, 409, 422), queued.text
        if queued.status_code != 202:
            return
    execute_here(world.ctx, queued.json()["id"])


def test_an_editor_cannot_overwrite_a_source_table(world: World) -> None:
    before = _table(world, "houses")  # the table every demo house model trains on
    _point_and_predict(world, "houses")
    assert _table(world, "houses") == before


def test_an_editor_cannot_overwrite_another_models_predictions(world: World) -> None:
    run = submit_run(world.ctx, OWNED["eve"], RunKind.PREDICT, RunTrigger.CLI, None)
    assert execute_here(world.ctx, run.id).status.value == "succeeded"
    theirs = f"{OWNED['eve']}_prediction"
    before = _table(world, theirs)
    _point_and_predict(world, theirs)
    assert _table(world, theirs) == before


NEW_MODEL = {"source": "demo", "template": "linear_regression", "train_sql": "select price, quality from houses",
             "predict_sql": "select id, price from houses"}


def test_an_editor_cannot_squat_the_table_a_model_not_yet_predicted_will_write(world: World) -> None:
    """ed claims eve_model's default table before eve's first batch prediction: refused when
    saved (not at the prediction), naming the holder; eve's prediction then writes it."""
    theirs = f"{OWNED['eve']}_prediction"
    with world.client() as client:
        client.headers.update(authkit.bearer(world.ctx, "ed", Role.EDITOR))
        patched = client.patch(f"/api/v1/models/{OWNED['ed']}", json={"output_table": theirs})
        error = assert_envelope(patched, 409, "conflict")
        assert f"is reserved as the output table of model {OWNED['eve']!r}" in error["message"]
        assert error["details"] == {"table": theirs, "source": "demo", "model": OWNED["eve"], "field": "output_table"}
        created = client.post("/api/v1/models", json={**NEW_MODEL, "name": "squatter", "output_table": theirs})
        assert_envelope(created, 409, "conflict")
        assert client.get("/api/v1/models/squatter").status_code == 404
        client.headers.update(authkit.bearer(world.ctx, "eve", Role.EDITOR))
        queued = client.post(f"/api/v1/models/{OWNED['eve']}/batch-predict")
        assert queued.status_code == 202, queued.text
    run = execute_here(world.ctx, queued.json()["id"])
    assert run.status.value == "succeeded", run.error_message
    assert _table(world, theirs)[1]


def test_a_new_model_whose_default_table_another_model_chose_gets_a_clear_409(world: World) -> None:
    with world.client() as client:
        client.headers.update(authkit.bearer(world.ctx, "ed", Role.EDITOR))
        chosen = client.patch(f"/api/v1/models/{OWNED['ed']}", json={"output_table": "forecast_prediction"})
        assert chosen.status_code == 200, chosen.text
        client.headers.update(authkit.bearer(world.ctx, "eve", Role.EDITOR))
        refused = client.post("/api/v1/models", json={**NEW_MODEL, "name": "forecast"})
        error = assert_envelope(refused, 409, "conflict")
        assert error["message"].startswith("Model 'forecast' would write its predictions to 'forecast_prediction', "
                                           "its default output table,")
        assert f"reserved as the output table of model {OWNED['ed']!r}" in error["message"]
        assert "Give model 'forecast' an output table of its own" in error["message"]
        made = client.post("/api/v1/models", json={**NEW_MODEL, "name": "forecast", "output_table": "forecast_rows"})
        assert made.status_code == 201, made.text
        assert made.json()["target_table"] == "forecast_rows"
