"""GET /api/v1/sources/{name}/tables: the editor's table browser, with a preview's permission."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests import authkit
from tests.api.conftest import assert_envelope

from softquery.domain.accounts import Role
from softquery.services.context import ServiceContext


def test_tables_columns_and_row_counts_of_the_demo(client: TestClient) -> None:
    body = client.get("/api/v1/sources/demo/tables").json()
    assert body["source"] == "demo" and body["dialect"] == "sqlite" and body["error"] is None
    houses = next(t for t in body["tables"] if t["name"] == "houses")
    assert (houses["kind"], houses["sql_name"], houses["rows"], houses["rows_are"]) == ("table", "houses", 200, "exact")
    assert [(c["name"], c["sql_name"], c["type"]) for c in houses["columns"]] == [
        ("id", "id", "integer"), ("price", "price", "real"), ("quality", "quality", "real")]


def test_same_permission_as_a_preview(client: TestClient, ctx: ServiceContext) -> None:
    viewer = authkit.bearer(ctx, "vi", Role.VIEWER)
    for path, call in (("/api/v1/sources/demo/tables", client.get),
                       ("/api/v1/sources/demo/preview", lambda p, **kw: client.post(p, json={"sql": "select 1"}, **kw))):
        assert_envelope(call(path, headers=viewer), 403, "forbidden")
    assert_envelope(client.get("/api/v1/sources/nope/tables"), 404, "not_found")
