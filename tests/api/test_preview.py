"""Query previews: rows and Arrow types, JSON-safe values, the database's message for bad SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from softquery.api.schemas.preview import ModelPreviewPublic, QueryPreviewPublic

from .conftest import assert_envelope

TRAIN = "select id, price, quality from houses where quality is not null"
PREDICT = "select id, price from houses where quality is null"


def test_query_preview_rows_and_types(client: TestClient) -> None:
    response = client.post("/api/v1/sources/demo/preview", json={"sql": TRAIN + ";", "limit": 3})
    assert response.status_code == 200
    preview = QueryPreviewPublic.model_validate(response.json())
    assert preview.error is None
    assert [(c.name, c.type) for c in preview.columns] == [("id", "int64"), ("price", "double"),
                                                           ("quality", "double")]
    assert len(preview.rows) == 3 and preview.truncated is True and preview.limit == 3
    assert all(len(row) == 3 for row in preview.rows)


def test_query_preview_json_safe_values(client: TestClient, tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table odd (b blob, f real, d text)")
        conn.execute("insert into odd values (x'00ff', 1.5, '2024-01-02')")
    conn.close()
    assert client.post("/api/v1/sources", json={"name": "odd", "url": f"sqlite:///{path}"}).status_code == 201
    body = client.post("/api/v1/sources/odd/preview", json={
        "sql": "select b, f, date(d) as d, 1e999 - 1e999 as nan_value from odd"}).json()
    assert body["error"] is None and body["truncated"] is False
    assert body["rows"] == [["00ff", 1.5, "2024-01-02", None]]


def test_bad_sql_returns_the_database_message(client: TestClient) -> None:
    response = client.post("/api/v1/sources/demo/preview", json={"sql": "select nope from houses"})
    assert response.status_code == 200
    preview = QueryPreviewPublic.model_validate(response.json())
    assert preview.columns == [] and preview.rows == []
    assert preview.error is not None and preview.error.code == "query_error"
    assert preview.error.details["database_message"] == "no such column: nope"
    assert "no such column: nope" in preview.error.message
    assert "_sq_preview" not in response.text  # the wrapper is not the analyst's SQL


def test_query_preview_errors(client: TestClient) -> None:
    assert_envelope(client.post("/api/v1/sources/nope/preview", json={"sql": "select 1"}), 404, "not_found")
    assert_envelope(client.post("/api/v1/sources/demo/preview", json={"sql": "select 1", "limit": 5000}),
                    422, "invalid_input")
    assert_envelope(client.post("/api/v1/sources/demo/preview", json={"sql": "select 1", "limit": 0}),
                    422, "invalid_input")
    empty = client.post("/api/v1/sources/demo/preview", json={"sql": "  "}).json()
    assert empty["error"]["code"] == "invalid_input"


def test_model_preview_detects_label_ids_and_features(client: TestClient) -> None:
    response = client.post("/api/v1/models/preview", json={
        "source": "demo", "train_sql": TRAIN, "predict_sql": PREDICT, "limit": 2})
    assert response.status_code == 200
    preview = ModelPreviewPublic.model_validate(response.json())
    assert preview.label == "quality" and preview.id_columns == ["id"] and preview.features == ["price"]
    assert preview.problems == []
    assert len(preview.train.rows) == 2 and len(preview.predict.rows) == 2


def test_model_preview_explicit_label_and_ids(client: TestClient) -> None:
    body = client.post("/api/v1/models/preview", json={
        "source": "demo", "train_sql": TRAIN, "predict_sql": TRAIN, "label": "quality",
        "id_columns": ["price"]}).json()
    assert body["label"] == "quality" and body["id_columns"] == ["price"]
    assert body["features"] == ["id"] and body["problems"] == []


def test_model_preview_problems_in_words(client: TestClient) -> None:
    same = client.post("/api/v1/models/preview", json={
        "source": "demo", "train_sql": TRAIN, "predict_sql": TRAIN}).json()
    assert same["label"] is None
    assert same["problems"][0].startswith("label could not be detected: ")
    broken = client.post("/api/v1/models/preview", json={
        "source": "demo", "train_sql": TRAIN, "predict_sql": "select price from nowhere"}).json()
    assert broken["predict"]["error"]["code"] == "query_error"
    assert any("no such table: nowhere" in p for p in broken["problems"])
    wrong = client.post("/api/v1/models/preview", json={
        "source": "demo", "train_sql": TRAIN, "predict_sql": PREDICT, "label": "colour",
        "id_columns": ["house_id"]}).json()
    assert len(wrong["problems"]) == 2 and "colour" in wrong["problems"][0]
    assert "house_id" in wrong["problems"][1]
    assert_envelope(client.post("/api/v1/models/preview", json={
        "source": "nope", "train_sql": TRAIN, "predict_sql": PREDICT}), 404, "not_found")
    assert_envelope(client.post("/api/v1/models/preview", json={"source": "demo"}), 422, "invalid_input")
