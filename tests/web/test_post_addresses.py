"""No page address is POST-only: reloading or bookmarking the address a form was sent to
shows its form or the page it belongs to, never the API's JSON 405 (issue 12).

The walk reads the app's routes, so a page route added later is checked too."""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from tests.web.html import has_testid

from softquery.services.context import ServiceContext


def _page_post_routes(client: TestClient) -> list[str]:
    """The path of every route that takes POST outside the API (pages, login, logout)."""
    contexts = iter_route_contexts(client.app.routes)  # type: ignore[attr-defined]
    return sorted({c.path for c in contexts
                   if c.path and c.methods and "POST" in c.methods and not c.path.startswith("/api/")})


def _values(ctx: ServiceContext) -> dict[str, str]:
    """A value for every path parameter a page route has (the walk fails on a new one)."""
    run = ctx.runs.list("house_quality", None, 1)[0]
    return {"name": "house_quality", "number": "1", "run_id": run.id, "token_id": "1", "username": "admin"}


def _is_html(response: object) -> bool:
    return "text/html" in getattr(response, "headers", {}).get("content-type", "")


def test_every_page_post_address_answers_get_with_a_page(trained_client: TestClient,
                                                         trained_ctx: ServiceContext) -> None:
    values = _values(trained_ctx)
    routes = _page_post_routes(trained_client)
    assert len(routes) >= 20, routes  # the walk sees the page routes
    for route in routes:
        params = re.findall(r"{(\w+)", route)
        missing = sorted(set(params) - set(values))
        assert not missing, f"give the walk a value for {missing} (route {route})"
        url = re.sub(r"{(\w+)[^}]*}", lambda m: values[m.group(1)], route)
        response = trained_client.get(url)
        assert response.status_code != 405, f"GET {url} answers 405: {response.text[:200]}"
        assert not response.headers.get("content-type", "").startswith("application/json"), f"GET {url} is JSON"
        if response.status_code in (302, 303, 307):
            target = response.headers["location"]
            assert not target.startswith("/api/"), (url, target)
            response = trained_client.get(target)
            url = f"{url} -> {target}"
        assert response.status_code == 200 and _is_html(response), f"GET {url}: {response.status_code}"


def test_forms_have_pages_of_their_own(trained_client: TestClient) -> None:
    duplicate = trained_client.get("/models/house_quality/duplicate")
    assert duplicate.status_code == 200 and has_testid(duplicate.text, "duplicate-form")
    train = trained_client.get("/models/house_quality/train")
    assert train.status_code == 200 and has_testid(train.text, "run-start")
    stop = trained_client.get("/models/house_quality/stop")
    assert stop.status_code == 303 and stop.headers["location"] == "/models/house_quality"
    revoke = trained_client.get("/account/tokens/3/revoke")
    assert revoke.headers["location"] == "/account"
    role = trained_client.get("/admin/users/admin/role")
    assert role.headers["location"] == "/admin/users"


def test_other_methods_get_an_html_405_on_pages_and_json_on_the_api(trained_client: TestClient) -> None:
    page = trained_client.put("/models/house_quality/duplicate")
    assert page.status_code == 405 and _is_html(page) and has_testid(page.text, "error-page")
    assert "GET" in page.headers["allow"] and "POST" in page.headers["allow"]
    api = trained_client.put("/api/v1/models/house_quality/duplicate")
    assert api.status_code == 405 and api.headers["content-type"].startswith("application/json")
    assert api.json()["error"]["code"] == "method_not_allowed"
