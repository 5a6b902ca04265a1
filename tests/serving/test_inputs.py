"""Every bad input gets its own status and a message per problem, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.api.conftest import assert_envelope
from tests.predictions_equal import assert_predictions_equal
from tests.serving.conftest import lin_row

from softquery.config import Settings
from softquery.server import create_app
from softquery.services.context import ServiceContext, open_context

URL = "/api/v1/models/lin/predict"


def problems(response: Any) -> list[dict[str, Any]]:
    error = assert_envelope(response, 422, "schema_mismatch")
    found: list[dict[str, Any]] = error["details"]["problems"]
    assert all(p["message"] for p in found)
    return found


def test_missing_column(client: TestClient) -> None:
    row = lin_row()
    del row["f3"]
    found = problems(client.post(URL, json={"rows": [lin_row(), row]}))
    assert found == [{"column": "f3", "row": 1, "problem": "missing", "message": "row 1 lacks column 'f3'"}]


def test_extra_column(client: TestClient) -> None:
    found = problems(client.post(URL, json={"rows": [lin_row() | {"colour": "red", "y": 1.0}]}))
    assert {(p["column"], p["problem"]) for p in found} == {("colour", "extra"), ("y", "extra")}


def test_id_columns_are_accepted_and_ignored(client: TestClient) -> None:
    with_id = client.post(URL, json={"rows": [lin_row() | {"id": 17}]})
    without = client.post(URL, json={"rows": [lin_row()]})
    assert with_id.status_code == 200, with_id.text
    assert_predictions_equal(with_id.json()["predictions"], without.json()["predictions"])


def test_wrong_types_one_problem_per_column(client: TestClient) -> None:
    bad = lin_row() | {"f0": "high", "f1": [1, 2]}
    response = client.post(URL, json={"rows": [lin_row(), bad, bad]})
    found = problems(response)
    assert [(p["column"], p["problem"], p["rows"]) for p in found] == [
        ("f0", "wrong_type", [1, 2]), ("f1", "wrong_type", [1, 2])]
    assert "column 'f0' expects a number" in response.json()["error"]["message"]
    assert "row(s) 1, 2 hold text" in found[0]["message"]


def test_null_is_allowed_like_in_batch(client: TestClient) -> None:
    response = client.post(URL, json={"rows": [lin_row() | {"f4": None}]})
    assert response.status_code == 200, response.text


def test_array_and_text_columns(client: TestClient) -> None:
    found = problems(client.post("/api/v1/models/pj/predict", json={"rows": [{"features": "not a list"}]}))
    assert found[0]["column"] == "features" and "a list of 11 numbers" in found[0]["message"]
    # JSON text arrays, as the database holds them, are accepted like lists
    as_list = client.post("/api/v1/models/pj/predict", json={"rows": [{"features": [0.05] * 11}]})
    as_text = client.post("/api/v1/models/pj/predict", json={"rows": [{"features": "[" + ", ".join(["0.05"] * 11) + "]"}]})
    assert as_list.status_code == as_text.status_code == 200
    assert_predictions_equal(as_list.json()["predictions"], as_text.json()["predictions"])


@pytest.mark.parametrize("body,fragment", [
    (b"{not json", "not valid JSON"),
    (b'{"rows": [], "instances": []}', "exactly one of the keys"),
    (b'{"data": [[1]]}', "exactly one of the keys"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"rows": {"f0": 1}}', "must be a list of rows"),
    (b'{"rows": []}', "no rows"),
    (b'{"rows": [1, 2]}', "not an object"),
    (b'{"dataframe_split": {"columns": ["f0"]}}', '"dataframe_split" must be an object'),
])
def test_malformed_bodies(client: TestClient, body: bytes, fragment: str) -> None:
    response = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert fragment in response.json()["error"]["message"]


def test_unknown_model_version_and_untrained(client: TestClient) -> None:
    assert_envelope(client.post("/api/v1/models/nope/predict", json={"rows": [lin_row()]}), 404, "not_found")
    assert_envelope(client.post(URL + "?version=9", json={"rows": [lin_row()]}), 404, "not_found")
    assert_envelope(client.post(URL + "?version=zero", json={"rows": [lin_row()]}), 422, "invalid_input")
    error = assert_envelope(client.post("/api/v1/models/house_quality/predict", json={"rows": [{"price": 1.0}]}),
                            409, "no_version")
    assert "Train it first" in error["message"]


@pytest.fixture
def small_client(home: Any) -> Iterator[TestClient]:
    ctx: ServiceContext = open_context(Settings(home=home, serving_workers=1, serving_max_rows=5,
                                                serving_max_body_bytes=2048))
    try:
        with TestClient(create_app(ctx, None), raise_server_exceptions=False) as client:
            client.headers.update(authkit.bearer(ctx))
            yield client
    finally:
        ctx.close()


def test_limits_give_413(small_client: TestClient) -> None:
    error = assert_envelope(small_client.post(URL, json={"rows": [lin_row()] * 6}), 413, "payload_too_large")
    assert "at most 5" in error["message"]
    big = {"rows": [lin_row(i) for i in range(5)] + [{"f0": "x" * 2000}]}
    error = assert_envelope(small_client.post(URL, json=big), 413, "payload_too_large")
    assert "larger than 2,048 bytes" in error["message"]
    # a chunked body without Content-Length is cut off too
    chunks = iter([b'{"rows": [', b" " * 3000, b"]}"])
    assert_envelope(small_client.post(URL, content=chunks, headers={"content-type": "application/json"}),
                    413, "payload_too_large")
    assert small_client.post(URL, json={"rows": [lin_row()] * 5}).status_code == 200
