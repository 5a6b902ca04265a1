"""Request formats, version pinning, classifier probabilities, MLSQL's /model/predict."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from tests.api.conftest import assert_envelope
from tests.predictions_equal import assert_predictions_equal
from tests.serving.conftest import lin_row

from softquery.services.context import ServiceContext

URL = "/api/v1/models/lin/predict"
SEED_SQL = "select pj(vec_dense(features)) as p1 "
SEED_DATA = '[{"features":[ 0.045, 8.8, 1.001, 45.0, 7.0, 170.0, 0.27, 0.45, 0.36, 3.0, 20.7 ]}]'


def test_every_format_gives_the_same_answer(client: TestClient) -> None:
    rows = [lin_row(1), lin_row(2), lin_row(3)]
    names = [f"f{i}" for i in range(10)]
    bodies = [
        {"rows": rows},
        {"dataframe_records": rows},
        {"dataframe_split": {"columns": names[::-1], "data": [[r[n] for n in names[::-1]] for r in rows]}},
        {"instances": rows},
        {"instances": [[r[n] for n in names] for r in rows]},
    ]
    answers = []
    for body in bodies:
        response = client.post(URL, json=body)
        assert response.status_code == 200, response.text
        assert response.headers["x-softquery-model-version"] == "2"
        answers.append(response.json())
    for answer in answers[1:]:
        assert_predictions_equal(answer, answers[0])
    assert answers[0]["model"] == "lin" and answers[0]["version"] == 2
    assert len(answers[0]["predictions"]) == 3 and "probabilities" not in answers[0]


def test_version_pinning(client: TestClient, ctx: ServiceContext) -> None:
    pinned = client.post(URL + "?version=1", json={"rows": [lin_row()]})
    active = client.post(URL, json={"rows": [lin_row()]})
    assert pinned.json()["version"] == 1 and pinned.headers["x-softquery-model-version"] == "1"
    assert active.json()["version"] == 2
    # activating through this server is seen by the very next request (no refresh wait)
    assert client.post("/api/v1/models/lin/versions/1/activate").status_code == 200
    again = client.post(URL, json={"rows": [lin_row()]})
    assert again.json()["version"] == 1
    assert_predictions_equal(again.json()["predictions"], pinned.json()["predictions"])


def test_binary_classifier_probability_of_the_positive_class(client: TestClient, ctx: ServiceContext) -> None:
    version = ctx.versions.get("cancer_diagnosis", 1)
    names = [f["name"] for f in version.manifest["data"]["features"]]
    classes = version.manifest["classes"]
    row = {n: 1.0 for n in names}
    body = client.post("/api/v1/models/cancer_diagnosis/predict", json={"rows": [row, row]}).json()
    assert body["positive_class"] == sorted(classes, key=str)[-1]
    # the batch table's column of the same numbers names the class (probability_malignant)
    assert body["probability_column"] == f"probability_{body['positive_class']}"
    assert len(body["probabilities"]) == 2 and all(0.0 <= p <= 1.0 for p in body["probabilities"])
    assert body["predictions"][0] in classes


def test_multiclass_probabilities_per_class(client: TestClient) -> None:
    row = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}
    body = client.post("/api/v1/models/iris_species/predict", json={"instances": [row]}).json()
    assert body["predictions"] == ["setosa"]
    (proba,) = body["probabilities"]
    assert set(proba) == {"setosa", "versicolor", "virginica"} and abs(sum(proba.values()) - 1) < 1e-9


def test_mlsql_seed_request(client: TestClient) -> None:
    """The exact request of the MLSQL seed (a form post), against model pj on wine-like data."""
    response = client.post("/model/predict", data={"sql": SEED_SQL, "data": SEED_DATA, "dataType": "row"})
    assert response.status_code == 200, response.text
    rows = response.json()
    assert len(rows) == 1 and set(rows[0]) == {"p1"} and isinstance(rows[0]["p1"], float)
    # the same model over the JSON API answers the same number
    direct = client.post("/api/v1/models/pj/predict", json={"rows": [{"features": json.loads(SEED_DATA)[0]["features"]}]})
    assert_predictions_equal(direct.json()["predictions"], [rows[0]["p1"]])
    assert response.headers["x-softquery-model-version"] == "pj=1"


def test_mlsql_several_items_and_default_names(client: TestClient) -> None:
    data = json.dumps([lin_row(1) | {"v": [0.05] * 11}, lin_row(2) | {"v": [0.06] * 11}])
    sql = "SELECT lin(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9), pj(VEC_DENSE(v)) AS wine;"
    response = client.post("/model/predict", data={"sql": sql, "data": data, "dataType": "row"})
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [set(r) for r in rows] == [{"lin(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9)", "wine"}] * 2
    # vec_dense as the only argument spreads over a model's numeric features, in order
    spread = client.post("/model/predict", data={
        "sql": "select lin(vec_dense(x)) as y", "data": json.dumps([{"x": list(lin_row(1).values())}])})
    # one row alone vs the same row in a two-row batch: equal to a relative 1e-12, not to the last bit
    assert_predictions_equal(spread.json()[0]["y"], rows[0]["lin(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9)"])


@pytest.mark.parametrize("sql,fragment", [
    ("select pj(vec_dense(features)) as p1 from wine", "no FROM"),
    ("delete from models", "expected SELECT"),
    ("select pj(features + 1) as p1", "expected ')'"),
    ("select pj(sqrt(features))", "only function allowed"),
    ("select pj(vec_dense(features)) as", "an alias after AS"),
    ("select 1", "a model call"),
    ("select pj(features) as a, pj(features) as a", "same name"),
    ("select pj(features); drop table x", "end of the statement"),
])
def test_mlsql_parser_refuses_anything_else(client: TestClient, sql: str, fragment: str) -> None:
    response = client.post("/model/predict", data={"sql": sql, "data": SEED_DATA, "dataType": "row"})
    error = assert_envelope(response, 422, "invalid_input")
    assert fragment in error["message"], error["message"]


def test_mlsql_bad_requests(client: TestClient) -> None:
    post = client.post
    assert_envelope(post("/model/predict", data={"sql": SEED_SQL, "data": SEED_DATA, "dataType": "vector"}),
                    422, "invalid_input")
    assert_envelope(post("/model/predict", data={"sql": SEED_SQL, "data": "{}", "dataType": "row"}),
                    422, "invalid_input")
    assert_envelope(post("/model/predict", data={"sql": SEED_SQL, "data": '[{"other": 1}]'}), 422, "invalid_input")
    assert_envelope(post("/model/predict", data={"sql": "select nope(x)", "data": SEED_DATA}), 404, "not_found")
    assert_envelope(post("/model/predict", data={"sql": "select pj(a, b)", "data": SEED_DATA}), 422, "invalid_input")
    assert_envelope(post("/model/predict", data={"data": SEED_DATA}), 422, "invalid_input")
