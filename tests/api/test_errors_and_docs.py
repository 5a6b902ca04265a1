"""The error envelope (pinned), OpenAPI, offline /docs, and the one access dependency."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from softquery.http.authentication import require_access
from softquery.server import create_app
from softquery.services.context import ServiceContext

from .conftest import assert_envelope


def test_not_found_envelope_is_exact(client: TestClient) -> None:
    response = client.get("/api/v1/models/nope")
    assert response.status_code == 404
    assert response.json() == {"error": {
        "code": "not_found",
        "message": "There is no model named 'nope'. See `softquery model list`.",
        "details": {"model": "nope"},
    }}


def test_validation_error_envelope_is_exact(client: TestClient) -> None:
    response = client.post("/api/v1/code/check", json={})
    assert response.status_code == 422
    assert response.json() == {"error": {
        "code": "invalid_input",
        "message": "body.code: Field required",
        "details": {"problems": [{"field": "body.code", "message": "Field required"}]},
    }}


def test_conflict_envelope_is_exact(client: TestClient) -> None:
    response = client.post("/api/v1/models/house_quality/duplicate", json={"new_name": "iris_species"})
    assert response.status_code == 409
    assert response.json() == {"error": {
        "code": "already_exists",
        "message": "A model named 'iris_species' already exists; choose another name "
                   "or change the existing one with `softquery model update`.",
        "details": {"model": "iris_species"},
    }}


def test_unknown_route_and_method_use_the_envelope(client: TestClient) -> None:
    assert_envelope(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_envelope(client.put("/api/v1/models"), 405, "method_not_allowed")
    # Allow lists every method of the resource (RFC 9110), also where a literal path shadows a
    # parameter (/models/preview is not /models/{name})
    for method, path, allowed in (("PUT", "/api/v1/models", "GET, POST"),
                                  ("PUT", "/api/v1/models/house_quality", "DELETE, GET, PATCH"),
                                  ("OPTIONS", "/api/v1/models/preview", "POST"),
                                  ("DELETE", "/api/v1/users", "GET, POST")):
        response = client.request(method, path)
        error = assert_envelope(response, 405, "method_not_allowed")
        assert response.headers["Allow"] == allowed, (method, path)
        assert error["message"] == f"{method} is not allowed here; use {allowed.replace(', ', ' or ')}."


def test_health_is_open(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": response.json()["version"], "executor": "fake"}


EXPECTED_OPERATIONS = {
    ("get", "/api/v1/health"),
    ("get", "/api/v1/models"), ("post", "/api/v1/models"), ("get", "/api/v1/models/{name}"),
    ("patch", "/api/v1/models/{name}"), ("delete", "/api/v1/models/{name}"),
    ("post", "/api/v1/models/{name}/duplicate"), ("post", "/api/v1/models/preview"),
    ("get", "/api/v1/templates"), ("get", "/api/v1/templates/{name}"), ("post", "/api/v1/code/check"),
    ("post", "/api/v1/sources/{name}/preview"), ("get", "/api/v1/sources/{name}/tables"),  # editor (issue 12)
    ("get", "/api/v1/sources"), ("post", "/api/v1/sources"), ("post", "/api/v1/sources/{name}/test"),
    ("delete", "/api/v1/sources/{name}"),
    ("get", "/api/v1/runs"), ("get", "/api/v1/runs/{run_id}"), ("get", "/api/v1/runs/{run_id}/logs"),
    ("post", "/api/v1/runs/{run_id}/stop"),
    ("post", "/api/v1/models/{name}/runs"), ("get", "/api/v1/models/{name}/runs"),
    ("post", "/api/v1/models/{name}/train"), ("post", "/api/v1/models/{name}/batch-predict"),
    ("get", "/api/v1/models/{name}/versions"), ("get", "/api/v1/models/{name}/versions/{number}"),
    ("post", "/api/v1/models/{name}/versions/{number}/activate"),
    ("get", "/api/v1/models/{name}/export.json"),
    ("get", "/api/v1/models/{name}/versions/{number}/export.json"),
    ("get", "/api/v1/models/{name}/export/{fmt}"),
    ("get", "/api/v1/models/{name}/versions/{number}/export/{fmt}"),
    ("post", "/api/v1/models/{name}/predict"), ("get", "/api/v1/serving/workers"),  # online (issue 5)
    ("get", "/api/v1/me"), ("get", "/api/v1/tokens"), ("post", "/api/v1/tokens"),  # accounts (issue 6)
    ("delete", "/api/v1/tokens/{token_id}"), ("get", "/api/v1/users"), ("post", "/api/v1/users"),
    ("patch", "/api/v1/users/{username}"), ("post", "/api/v1/users/{username}/login-link"),
    ("get", "/api/v1/audit"),
    ("post", "/api/v1/sql"), ("get", "/api/v1/sql/history"), ("get", "/api/v1/sql/completions"),  # issue 13
    ("get", "/api/v1/files"), ("get", "/api/v1/files/{path}"), ("delete", "/api/v1/files/{path}"),  # files folder
}


def test_openapi_lists_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    listed = {(method, path) for path, ops in spec["paths"].items() for method in ops
              if path.startswith("/api/")}
    assert listed == EXPECTED_OPERATIONS
    app_routes = {(m.lower(), r.path.replace(":path}", "}")) for r in _api_routes(client.app) for m in r.methods}
    assert app_routes == EXPECTED_OPERATIONS
    # batch prediction is /runs (and /batch-predict); /predict is online prediction (issue 5),
    # and MLSQL's /model/predict sits outside /api/v1 behind the same access dependency
    assert "/model/predict" in spec["paths"]


def test_openapi_declares_bearer_auth_and_the_error_envelope(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["type"] == "http"
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    assert spec["components"]["schemas"]["ErrorEnvelope"]["required"] == ["error"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # our 422 is the envelope
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            label = f"{method} {path}"
            for status, response in responses.items():
                if status == "default" or status[0] in "45":
                    assert response["content"]["application/json"]["schema"] == envelope, (label, status)
            if path == "/api/v1/health":
                assert "security" not in operation and "401" not in responses
                continue
            assert operation["security"] == [{"bearer": []}], label
            assert {"401", "403"} <= set(responses), label
            assert "WWW-Authenticate" in responses["401"]["headers"], label
    # a token created through the API has the documented shape, the secret included once
    created = spec["components"]["schemas"]["TokenCreated"]["properties"]
    assert "token" in created and "token" not in spec["components"]["schemas"]["TokenPublic"]["properties"]
    assert "owner" in spec["components"]["schemas"]["ModelPublic"]["properties"]


def test_docs_are_served_from_local_files(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/vendor/swagger-ui/swagger-ui.css" in html
    assert "/openapi.json" in html
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    assert client.get("/redoc").status_code == 404
    # the files it references are served by this app (built by `make install` from npm)
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css"):
        assert client.get(asset).status_code == 200, f"{asset} missing: run scripts/build-assets.sh"


def _api_routes(app: Any) -> list[Any]:
    return [r for r in iter_route_contexts(app.routes) if (r.path or "").startswith("/api/v1")]


def _carries(route: Any) -> bool:
    return any(dep.call is require_access for dep in route.dependant.dependencies)


def test_every_api_route_except_health_requires_access(ctx: ServiceContext) -> None:
    app = create_app(ctx, None)
    api_routes = _api_routes(app)
    assert {(m.lower(), r.path.replace(":path}", "}")) for r in api_routes for m in r.methods} == EXPECTED_OPERATIONS
    unprotected = sorted(f"{sorted(r.methods)} {r.path}" for r in api_routes
                         if not _carries(r) and r.path != "/api/v1/health")
    assert unprotected == []
    health = next(r for r in api_routes if r.path == "/api/v1/health")
    assert not _carries(health)


def test_denying_access_closes_every_api_route_but_health(ctx: ServiceContext) -> None:
    """What issue 6 relies on: replacing the one dependency guards every route."""

    def deny() -> None:
        raise HTTPException(status_code=401, detail="Log in first.")

    app = create_app(ctx, None)
    app.dependency_overrides[require_access] = deny
    with TestClient(app, raise_server_exceptions=False) as client:
        for route in _api_routes(app):
            path = route.path.replace("{number}", "1").replace("{name}", "house_quality")
            path = path.replace("{run_id}", "x").replace("{token_id}", "1").replace("{username}", "admin")
            for method in route.methods:
                response = client.request(method, path)
                expected = 200 if route.path == "/api/v1/health" else 401
                assert response.status_code == expected, (method, path, response.text)
                if expected == 401:
                    assert_envelope(response, 401, "unauthorized")
