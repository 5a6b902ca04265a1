"""Predictions over HTTP equal a batch prediction run through the real job path: the same
labels, numbers within a relative 1e-12 (tests/predictions_equal.py, README Online predictions)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.predictions_equal import assert_predictions_equal

from softquery.data.source_urls import dialect_of
from softquery.domain import RunKind, RunTrigger
from softquery.services.context import ServiceContext
from softquery.services.runs import execute_here, submit_run


def _batch(ctx: ServiceContext, model: str) -> tuple[Path, str]:
    run = execute_here(ctx, submit_run(ctx, model, RunKind.PREDICT, RunTrigger.CLI, None).id)
    assert run.status.value == "succeeded", run.error_message
    m = ctx.models.get(model)
    url = ctx.sources.get(m.source).url
    assert dialect_of(url) == "sqlite"
    return Path(url.removeprefix("sqlite:///")), m.target_table


def _rows(path: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def test_linear_model_http_equals_batch(client: TestClient, ctx: ServiceContext) -> None:
    path, table = _batch(ctx, "lin")
    batch = {r["id"]: r for r in _rows(path, f"select id, prediction, model_version from {table}")}
    rows = _rows(path, ctx.models.get("lin").predict_sql)
    response = client.post("/api/v1/models/lin/predict", json={"rows": rows})  # id columns are accepted
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2 and {r["model_version"] for r in batch.values()} == {2}
    assert_predictions_equal(body["predictions"], [batch[r["id"]]["prediction"] for r in rows])
    # each row alone (a 1-row matrix) vs the batch's chunks: BLAS sums in another order for
    # another shape, so the last bit may differ; the answer is still equal
    alone = [client.post("/api/v1/models/lin/predict", json={"rows": [r]}).json()["predictions"][0]
             for r in rows[:40]]
    assert_predictions_equal(alone, [batch[r["id"]]["prediction"] for r in rows[:40]])


def test_array_feature_http_equals_batch(client: TestClient, ctx: ServiceContext) -> None:
    """pj reads a JSON-text array column; the HTTP rows send the same text."""
    path, table = _batch(ctx, "pj")
    batch = {r["id"]: r["prediction"] for r in _rows(path, f"select id, prediction from {table}")}
    rows = _rows(path, ctx.models.get("pj").predict_sql)[:200]
    body = client.post("/api/v1/models/pj/predict", json={"dataframe_records": rows}).json()
    assert_predictions_equal(body["predictions"], [batch[r["id"]] for r in rows])


def test_classifier_http_equals_batch(client: TestClient, ctx: ServiceContext) -> None:
    path, table = _batch(ctx, "iris_species")
    out = {r["id"]: r for r in _rows(path, f"select * from {table}")}
    rows = _rows(path, ctx.models.get("iris_species").predict_sql)
    assert rows
    body = client.post("/api/v1/models/iris_species/predict", json={"rows": rows}).json()
    assert body["predictions"] == [out[r["id"]]["prediction"] for r in rows]
    for row, proba in zip(rows, body["probabilities"], strict=True):
        assert_predictions_equal(proba, {c: out[row["id"]][f"probability_{c}"] for c in proba})

