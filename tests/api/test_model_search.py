"""A model's hyperparameter search over the API: set, checked, cleared, and the version's trials."""

from __future__ import annotations

from fastapi.testclient import TestClient

from softquery.services.context import ServiceContext

from .conftest import NEW_MODEL as NEW
from .conftest import assert_envelope, train_now
from .conftest import create_model as _create


def test_a_search_is_set_checked_and_shown_with_the_version(client: TestClient, ctx: ServiceContext) -> None:
    search = {"method": "grid", "params": {"alpha": {"values": [0.1, 10]}}}
    body = _create(client, search=search, time_budget_seconds=120)
    assert body["search"] == search and body["time_budget_seconds"] == 120
    train_now(ctx, "price_guess")
    (version,) = client.get("/api/v1/models/price_guess/versions").json()
    selection = version["selection"]
    assert selection["kind"] == "search" and selection["method"] == "grid"
    assert [t["params"] for t in selection["trials"]] == [{"alpha": 0.1}, {"alpha": 10}]
    assert all({"number", "params", "cv_mean", "cv_std", "seconds"} <= set(t) for t in selection["trials"])
    assert selection["chosen"] in (1, 2) and selection["reason"]
    detail = client.get("/api/v1/models/price_guess/versions/1").json()
    assert detail["manifest"]["selection"] == selection
    cleared = client.patch("/api/v1/models/price_guess", json={"search": None})
    assert cleared.status_code == 200 and cleared.json()["search"] is None


def test_search_mistakes_are_422_with_a_clear_message(client: TestClient) -> None:
    unknown = client.post("/api/v1/models", json={**NEW, "search": {"params": {"alpah": {"values": [1]}}}})
    error = assert_envelope(unknown, 422, "invalid_input")
    assert "Did you mean alpha?" in error["message"] and error["details"]["field"] == "search"
    bad_range = client.post("/api/v1/models", json={**NEW, "search": {"method": "bayes",
                                                                      "params": {"alpha": {"low": 0, "high": 1,
                                                                                           "log": True}}}})
    assert "log range needs low above 0" in assert_envelope(bad_range, 422, "invalid_input")["message"]
    method = client.post("/api/v1/models", json={**NEW, "search": {"method": "exhaustive"}})
    assert method.status_code == 422


def test_a_search_that_no_longer_fits_the_code_is_refused(client: TestClient) -> None:
    _create(client, search={"params": {"alpha": {"values": [0.1, 1]}}})
    changed = client.patch("/api/v1/models/price_guess", json={"template": "random_forest_regressor"})
    error = assert_envelope(changed, 422, "invalid_input")
    assert "no search parameter 'alpha'" in error["message"] and "remove the search" in error["message"]
    assert "--" not in error["message"]  # the API's messages name no CLI flags
    both = client.patch("/api/v1/models/price_guess", json={"template": "random_forest_regressor", "search": None})
    assert both.status_code == 200 and both.json()["search"] is None


def test_search_messages_name_no_cli_flags_and_the_objective_fits_the_task(client: TestClient) -> None:
    grid = client.post("/api/v1/models", json={**NEW, "template": "random_forest_regressor", "search": {
        "method": "grid", "params": {"n_estimators": {"values": list(range(10, 30))},
                                     "max_depth": {"values": list(range(1, 12))}}}})
    message = assert_envelope(grid, 422, "invalid_input")["message"]
    assert "220 combinations" in message and "--" not in message, message
    accuracy = client.post("/api/v1/models", json={**NEW, "search": {"params": {"alpha": {}},
                                                                     "objective": "accuracy"}})
    message = assert_envelope(accuracy, 422, "invalid_input")["message"]
    assert "not measured for regression" in message and "r2, mae, rmse" in message
    typo = client.post("/api/v1/models", json={**NEW, "search": {"params": {"alpha": {}}, "objective": "r3"}})
    assert "Did you mean 'r2'?" in assert_envelope(typo, 422, "invalid_input")["message"]
