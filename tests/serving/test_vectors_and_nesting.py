"""Deeply nested JSON and vectors of the wrong length or type: a clear 422, online and MLSQL.

Model ``pj`` was trained on ``features``: JSON text arrays of 11 numbers. A 10-number
vector used to be padded with the training mean (and a 12-number one cut short) by the
model's preprocessing, and a vector of text was told it "expects a list of numbers
(trained as string)". JSON nested past Python's recursion limit answered 500.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.api.conftest import assert_envelope

PJ = "/api/v1/models/pj/predict"
DEEP = 100_000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def mlsql(client: TestClient, data: Any, sql: str = "select pj(vec_dense(v)) as p") -> Any:
    text = data if isinstance(data, str) else json.dumps(data)
    return client.post("/model/predict", data={"sql": sql, "data": text, "dataType": "row"})


def test_deeply_nested_json_is_422(client: TestClient) -> None:
    bodies = [nested(DEEP), '{"rows": [{"features": ' + nested(DEEP) + "}]}"]
    for body in bodies:
        response = client.post(PJ, content=body.encode(), headers={"content-type": "application/json"})
        error = assert_envelope(response, 422, "invalid_input")
        assert "nested too deeply" in error["message"], error["message"]
    error = assert_envelope(mlsql(client, '[{"v": ' + nested(DEEP) + "}]"), 422, "invalid_input")
    assert error["message"].startswith("The data field is nested too deeply"), error["message"]
    # nested JSON *text* in a value: refused as not a list of numbers, online and in vec_dense
    text_value = [{"features": nested(DEEP)}]
    error = assert_envelope(client.post(PJ, json={"rows": text_value}), 422, "schema_mismatch")
    assert "column 'features' expects a list of 11 numbers" in error["message"], error["message"]
    error = assert_envelope(mlsql(client, [{"v": nested(DEEP)}]), 422, "invalid_input")
    assert "not a JSON list of numbers" in error["message"], error["message"]
    # nesting the parser can read, where a number or a vector belongs
    error = assert_envelope(client.post(PJ, json={"rows": [{"features": json.loads(nested(500))}]}),
                            422, "schema_mismatch")
    assert "hold a list holding a list" in error["message"], error["message"]


@pytest.mark.parametrize("length", [10, 12, 0])
def test_a_vector_of_another_length_is_422(client: TestClient, length: int) -> None:
    vector = [0.05] * length
    for value in (vector, json.dumps(vector)):  # a list, or JSON text as the database holds it
        error = assert_envelope(client.post(PJ, json={"rows": [{"features": [0.05] * 11}, {"features": value}]}),
                                422, "schema_mismatch")
        assert (f"column 'features' expects a list of 11 numbers (the length every training row had) "
                f"but row(s) 1 hold {length}") in error["message"], error["message"]
        (problem,) = error["details"]["problems"]
        assert problem | {"message": ""} == {"column": "features", "problem": "wrong_length", "rows": [1],
                                             "expected": 11, "got": [length], "message": ""}
    error = assert_envelope(mlsql(client, [{"v": vector}]), 422, "schema_mismatch")
    assert error["message"].startswith("pj(vec_dense(v)): The rows do not match"), error["message"]
    assert "expects a list of 11 numbers" in error["message"] and f"hold {length}" in error["message"]


def test_the_trained_length_still_answers(client: TestClient) -> None:
    response = client.post(PJ, json={"rows": [{"features": [0.05] * 11}, {"features": None}]})
    assert response.status_code == 200, response.text
    assert mlsql(client, [{"v": [0.05] * 11}]).status_code == 200


def test_a_vector_of_text_says_what_was_trained_and_what_was_sent(client: TestClient) -> None:
    for body, sent in (({"features": ["a"] * 11}, "a list holding text"),
                       ({"features": "[\"a\", \"b\"]"}, "text"),
                       ({"features": [0.1] * 10 + [None]}, "a list holding null")):
        error = assert_envelope(client.post(PJ, json={"rows": [body]}), 422, "schema_mismatch")
        assert ("column 'features' expects a list of 11 numbers (trained on JSON text arrays of 11 numbers) "
                f"but row(s) 0 hold {sent}") in error["message"], error["message"]
        assert "trained as string" not in error["message"]
    error = assert_envelope(mlsql(client, [{"v": ["a"] * 11}]), 422, "schema_mismatch")
    assert "hold a list holding text" in error["message"], error["message"]
