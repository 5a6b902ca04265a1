"""Models: list, create, get, PATCH, delete, duplicate — happy paths and error statuses."""

from __future__ import annotations

from fastapi.testclient import TestClient

from softquery.api.schemas.models import ModelPublic

from .conftest import NEW_MODEL as NEW
from .conftest import assert_envelope
from .conftest import create_model as _create


def test_list_models_shows_the_demo(client: TestClient) -> None:
    response = client.get("/api/v1/models")
    assert response.status_code == 200
    models = [ModelPublic.model_validate(m) for m in response.json()]
    assert "house_quality" in {m.name for m in models}
    house = next(m for m in models if m.name == "house_quality")
    assert house.active_version is None and house.active_metric is None and house.last_run is None
    assert house.target_table == "house_quality_prediction" and house.label == "quality"


def test_create_get_and_defaults(client: TestClient) -> None:
    created = ModelPublic.model_validate(_create(client))
    assert created.template == "ridge_regression" and "class Model" in created.code
    assert created.write_mode == "replace" and created.deploy == "most_recent"
    assert created.schedule is None and created.next_run_at is None
    fetched = client.get("/api/v1/models/price_guess")
    assert fetched.status_code == 200
    assert fetched.json() == created.model_dump(mode="json")


def test_create_with_own_code_and_schedule(client: TestClient) -> None:
    code = ("class Model:\n    def __init__(self):\n        self.m = None\n"
            "    def train(self, X, y):\n        self.m = 1\n    def predict(self, X):\n        return [1] * len(X)\n")
    body = _create(client, template=None, code=code, schedule="daily", schedule_timezone="Europe/Berlin",
                   time_limit_seconds=60)
    assert body["template"] is None and body["code"] == code
    assert body["schedule"] == "daily" and body["schedule_action"] == "train"
    assert body["schedule_timezone"] == "Europe/Berlin" and body["next_run_at"] is not None
    assert body["time_limit_seconds"] == 60


def test_create_errors(client: TestClient) -> None:
    assert_envelope(client.post("/api/v1/models", json={**NEW, "name": "bad name!"}), 422, "invalid_input")
    assert_envelope(client.post("/api/v1/models", json={**NEW, "name": "house_quality"}), 409, "already_exists")
    assert_envelope(client.post("/api/v1/models", json={**NEW, "source": "nope"}), 404, "not_found")
    assert_envelope(client.post("/api/v1/models", json={**NEW, "template": "nope"}), 404, "not_found")
    assert_envelope(client.post("/api/v1/models", json={**NEW, "write_mode": "merge"}), 422, "invalid_input")
    assert_envelope(client.post("/api/v1/models", json={**NEW, "schedule": "every tuesday"}), 422,
                    "invalid_input")
    assert_envelope(client.post("/api/v1/models", json={**NEW, "unknown": 1}), 422, "invalid_input")
    missing = {k: v for k, v in NEW.items() if k != "train_sql"}
    assert_envelope(client.post("/api/v1/models", json=missing), 422, "invalid_input")
    both = client.post("/api/v1/models", json={**NEW, "code": "class Model: pass"})
    assert_envelope(both, 422, "invalid_input")


def test_create_with_broken_code_reports_the_line(client: TestClient) -> None:
    code = "class Model:\n    def train(self, X, y)\n        pass\n"
    error = assert_envelope(client.post("/api/v1/models", json={**NEW, "template": None, "code": code}),
                            422, "model_code_error")
    assert "Line 2" in error["message"]
    assert error["details"]["problems"][0]["line"] == 2
    assert client.get("/api/v1/models/price_guess").status_code == 404


def test_patch_changes_only_given_fields(client: TestClient) -> None:
    before = _create(client, label="quality", id_columns=["id"], schedule="hourly", memory_limit_mb=512)
    response = client.patch("/api/v1/models/price_guess", json={"description": "Changed."})
    assert response.status_code == 200
    after = response.json()
    assert after["description"] == "Changed."
    for key in ("code", "train_sql", "predict_sql", "label", "id_columns", "schedule", "memory_limit_mb"):
        assert after[key] == before[key], key


def test_patch_null_resets_clearable_fields(client: TestClient) -> None:
    _create(client, label="quality", id_columns=["id"], output_table="guesses", schedule="hourly",
            schedule_action="train_then_predict", time_limit_seconds=60)
    response = client.patch("/api/v1/models/price_guess", json={
        "label": None, "id_columns": None, "output_table": None, "schedule": None,
        "time_limit_seconds": None, "description": None})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["label"] is None and body["id_columns"] is None and body["output_table"] is None
    assert body["target_table"] == "price_guess_prediction"
    assert body["schedule"] is None and body["schedule_action"] is None and body["next_run_at"] is None
    assert body["time_limit_seconds"] is None
    assert body["description"] == "A test model."  # null on a required field: unchanged


def test_patch_schedule_and_template(client: TestClient) -> None:
    _create(client)
    body = client.patch("/api/v1/models/price_guess", json={
        "schedule": "30 6 * * 1-5", "schedule_action": "predict", "template": "linear_regression"}).json()
    assert body["schedule"] == "30 6 * * 1-5" and body["schedule_action"] == "predict"
    assert body["schedule_timezone"] == "UTC" and body["next_run_at"] is not None
    assert body["template"] == "linear_regression"


def test_patch_errors(client: TestClient) -> None:
    assert_envelope(client.patch("/api/v1/models/nope", json={"description": "x"}), 404, "not_found")
    assert_envelope(client.patch("/api/v1/models/house_quality", json={"label": "bad label"}), 422,
                    "invalid_input")
    assert_envelope(client.patch("/api/v1/models/house_quality", json={"schedule_action": "predict"}),
                    422, "invalid_input")  # no schedule to act on
    assert_envelope(client.patch("/api/v1/models/house_quality", json={"memory_limit_mb": 0}), 422,
                    "invalid_input")
    assert_envelope(client.patch("/api/v1/models/house_quality", json={"source": "nope"}), 404, "not_found")
    bad = client.patch("/api/v1/models/house_quality", json={"code": "class Model:\n\tdef x(self):\n  pass\n"})
    assert_envelope(bad, 422, "model_code_error")


def test_delete(client: TestClient) -> None:
    _create(client)
    response = client.delete("/api/v1/models/price_guess")
    assert response.status_code == 204 and response.content == b""
    assert_envelope(client.get("/api/v1/models/price_guess"), 404, "not_found")
    assert_envelope(client.delete("/api/v1/models/price_guess"), 404, "not_found")


def test_duplicate(client: TestClient) -> None:
    response = client.post("/api/v1/models/house_quality/duplicate", json={"new_name": "house_quality_2"})
    assert response.status_code == 201
    copy = ModelPublic.model_validate(response.json())
    original = client.get("/api/v1/models/house_quality").json()
    assert copy.name == "house_quality_2" and copy.code == original["code"]
    assert copy.active_version is None
    assert_envelope(client.post("/api/v1/models/nope/duplicate", json={"new_name": "x"}), 404, "not_found")
    assert_envelope(client.post("/api/v1/models/house_quality/duplicate", json={"new_name": "1bad"}), 422,
                    "invalid_input")
    assert_envelope(client.post("/api/v1/models/house_quality/duplicate", json={}), 422, "invalid_input")


def test_cross_validation_settings_are_set_checked_and_reset(client: TestClient) -> None:
    created = _create(client, cv_folds=3, order_column="id")
    assert (created["cv_folds"], created["order_column"]) == (3, "id")
    for bad in ({"cv_folds": 1}, {"cv_folds": 21}, {"order_column": "sold on"}):
        error = assert_envelope(client.patch("/api/v1/models/price_guess", json=bad), 422, "invalid_input")
        assert error["details"]["field"] in ("cv_folds", "order column"), error
    reset = client.patch("/api/v1/models/price_guess", json={"cv_folds": None, "order_column": None}).json()
    assert (reset["cv_folds"], reset["order_column"]) == (None, None)
