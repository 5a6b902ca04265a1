"""Sources (secrets never returned), templates, and the static code check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from softquery.api.schemas.code import CodeCheckPublic, TemplateDetailPublic, TemplatePublic
from softquery.api.schemas.sources import SourcePublic

from .conftest import assert_envelope

PASSWORD = "Sup3rS3cretPw"
PG_URL = f"postgresql://analyst:{PASSWORD}@127.0.0.1:1/shop"

SEED_TAB_ERROR = (
    "from sklearn.linear_model import LinearRegression\n"
    "\n"
    "class Model:\n"
    "    def __init__(self):\n"
    "        x = 1\n"
    "\tself.m = LinearRegression()\n"
    "    def train(self, X, y):\n"
    "        self.m.fit(X, y)\n"
    "    def predict(self, X):\n"
    "        return self.m.predict(X)\n"
)


def _sqlite(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table if not exists t (a integer)")
    conn.close()
    return f"sqlite:///{path}"


def test_sources_list_create_test_delete(client: TestClient, tmp_path: Path) -> None:
    listed = [SourcePublic.model_validate(s) for s in client.get("/api/v1/sources").json()]
    assert [s.name for s in listed] == ["demo"] and listed[0].dialect == "sqlite"
    created = client.post("/api/v1/sources", json={"name": "shop", "url": _sqlite(tmp_path)})
    assert created.status_code == 201 and created.json()["dialect"] == "sqlite"
    tested = client.post("/api/v1/sources/shop/test")
    assert tested.status_code == 200 and tested.json()["ok"] is True
    assert client.delete("/api/v1/sources/shop").status_code == 204
    assert [s["name"] for s in client.get("/api/v1/sources").json()] == ["demo"]


def test_source_errors(client: TestClient, tmp_path: Path) -> None:
    assert_envelope(client.post("/api/v1/sources", json={"name": "demo", "url": _sqlite(tmp_path)}), 409,
                    "already_exists")
    assert_envelope(client.post("/api/v1/sources", json={"name": "no good", "url": _sqlite(tmp_path)}), 422,
                    "invalid_input")
    assert_envelope(client.post("/api/v1/sources", json={"name": "x", "url": "not a url"}), 422,
                    "source_error")
    missing = client.post("/api/v1/sources", json={"name": "x", "url": f"sqlite:///{tmp_path}/none.db"})
    assert_envelope(missing, 422, "source_error")
    assert_envelope(client.post("/api/v1/sources/nope/test"), 404, "not_found")
    assert_envelope(client.delete("/api/v1/sources/nope"), 404, "not_found")
    in_use = assert_envelope(client.delete("/api/v1/sources/demo"), 409, "conflict")
    assert "house_quality" in in_use["details"]["models"]


def test_passwords_never_leave_the_server(client: TestClient) -> None:
    created = client.post("/api/v1/sources", json={"name": "shop", "url": PG_URL, "test": False})
    assert created.status_code == 201
    assert created.json()["url"] == "postgresql://analyst:***@127.0.0.1:1/shop"
    responses = [
        created,
        client.get("/api/v1/sources"),
        client.post("/api/v1/sources/shop/test"),  # connection refused: 422 with the driver's message
        client.post("/api/v1/sources", json={"name": "shop2", "url": PG_URL}),
        client.post("/api/v1/sources/shop/preview", json={"sql": "select 1"}),
        client.post("/api/v1/models/preview", json={"source": "shop", "train_sql": "select 1",
                                                   "predict_sql": "select 1"}),
        client.post("/api/v1/sources", json={"name": "shop3", "url": PG_URL.replace("127.0.0.1:1", "[bad")}),
    ]
    assert responses[2].status_code == 422 and responses[3].status_code == 422
    assert responses[4].status_code == 200 and responses[4].json()["error"]["code"] == "source_error"
    for response in responses:
        assert PASSWORD not in response.text, response.text
        assert response.status_code < 500


def test_templates(client: TestClient) -> None:
    response = client.get("/api/v1/templates")
    assert response.status_code == 200
    templates = [TemplatePublic.model_validate(t) for t in response.json()]
    names = {t.name for t in templates}
    assert {"linear_regression", "random_forest_classifier"} <= names
    # AutoML's `auto` reads its task from the label ("any"); every other template declares one
    assert all(t.title and t.task in ("regression", "classification", "clustering")
               or (t.name, t.task) == ("auto", "any") for t in templates)
    one = TemplateDetailPublic.model_validate(client.get("/api/v1/templates/linear_regression").json())
    assert "class Model" in one.code and one.task == "regression"
    error = assert_envelope(client.get("/api/v1/templates/nope"), 404, "not_found")
    assert "linear_regression" in error["details"]["available"]


def test_code_check_finds_the_seed_tab_error_at_its_line(client: TestClient) -> None:
    response = client.post("/api/v1/code/check", json={"code": SEED_TAB_ERROR})
    assert response.status_code == 200
    result = CodeCheckPublic.model_validate(response.json())
    assert result.ok is False
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.line == 6 and problem.severity == "error"
    assert "tabs and spaces" in problem.message


def test_code_check_ok_warnings_and_signatures(client: TestClient) -> None:
    good = client.post("/api/v1/code/check", json={"code": SEED_TAB_ERROR.replace("\t", "        ")})
    assert good.json() == {"ok": True, "problems": []}
    warned = client.post("/api/v1/code/check", json={"code": (
        "from sklearn.linear_model import LinearRegression\n"
        "class Model:\n    m = LinearRegression()\n"
        "    def train(self, X, y):\n        self.m.fit(X, y)\n"
        "    def predict(self, X):\n        return self.m.predict(X)\n")}).json()
    assert warned["ok"] is True and warned["problems"][0]["severity"] == "warning"
    assert warned["problems"][0]["line"] == 3
    signature = client.post("/api/v1/code/check", json={"code": (
        "class Model:\n    def train(self, X):\n        pass\n"
        "    def predict(self, X):\n        return X\n")}).json()
    assert signature["ok"] is False and signature["problems"][0]["line"] == 2
    empty = client.post("/api/v1/code/check", json={"code": ""}).json()
    assert empty["ok"] is False
    assert_envelope(client.post("/api/v1/code/check", json={"code": 5}), 422, "invalid_input")


def test_code_check_never_executes_code(client: TestClient, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = (f"open({str(marker)!r}, 'w').write('x')\n"
            "class Model:\n    def train(self, X, y):\n        pass\n    def predict(self, X):\n        return X\n")
    assert client.post("/api/v1/code/check", json={"code": code}).json()["ok"] is True
    assert not marker.exists()
