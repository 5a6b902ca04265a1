"""Without valid credentials every route but health and login answers 401 and changes nothing.

The routes come from the app itself (``routemap.app_routes``); path parameters are filled
with things that exist (a model, a run, version 1), so a 401 is not a 404 in disguise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.security.routemap import RouteInfo, app_routes, fill_path, json_body
from tests.security.world import World, build_world

from softquery.http.authentication import SESSION_COOKIE

BAD_AUTHORIZATION = [
    "Bearer sq_garbage",
    "Bearer sq_" + "A" * 40,
    "Bearer not-even-a-token",
    "Bearer ",
    "Basic YWRtaW46Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==",  # admin:PASSWORD
    "Token sq_garbage",
    "bearer",
]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = build_world(tmp_path)
    try:
        yield built
    finally:
        built.ctx.close()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with world.client() as test_client:
        yield test_client


def _protected(client: TestClient) -> list[RouteInfo]:
    routes = [r for r in app_routes(client.app)[0] if not r.public]  # type: ignore[arg-type]
    assert len(routes) > 50
    return routes


def _assert_refused(route: RouteInfo, method: str, response: object, *, why: str) -> None:
    label = f"{method} {route.path} ({why})"
    status = response.status_code  # type: ignore[attr-defined]
    assert status == 401, f"{label}: {status} {response.text[:300]}"  # type: ignore[attr-defined]
    if route.page:
        assert "text/html" in response.headers["content-type"], label  # type: ignore[attr-defined]
        if why == "no credentials":
            text = response.text.lower()  # type: ignore[attr-defined]
            assert "log in" in text, f"{label}: the page does not say to log in"
        return
    body = json_body(response)
    assert isinstance(body, dict) and set(body) == {"error"}, f"{label}: {body}"
    assert body["error"]["code"] == "unauthenticated", f"{label}: {body}"
    assert "/login" in body["error"]["message"] or "Bearer" in body["error"]["message"], label
    challenge = response.headers.get("www-authenticate", "")  # type: ignore[attr-defined]
    assert challenge.startswith("Bearer"), f"{label}: WWW-Authenticate is {challenge!r}"


def test_every_protected_route_says_401_without_credentials(world: World, client: TestClient) -> None:
    before = world.snapshot()
    values = world.path_values()
    for route in _protected(client):
        for method, path in route.requests():
            response = client.request(method, fill_path(path, values))
            _assert_refused(route, method, response, why="no credentials")
    assert world.snapshot() == before


def test_htmx_page_requests_get_401_too(world: World, client: TestClient) -> None:
    """htmx gets a real 401 (and a way to the login page), not a 200 with an error fragment."""
    values = world.path_values()
    for route in _protected(client):
        if not route.page:
            continue
        for method, path in route.requests():
            response = client.request(method, fill_path(path, values), headers={"HX-Request": "true"})
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
            redirect = response.headers.get("hx-redirect")
            assert redirect is None or redirect.startswith("/login"), (path, redirect)


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATION)
def test_bad_authorization_headers_get_401(world: World, client: TestClient, authorization: str) -> None:
    before = world.snapshot()
    values = world.path_values()
    for route in _protected(client):
        for method, path in route.requests():
            response = client.request(method, fill_path(path, values),
                                      headers={"Authorization": authorization})
            _assert_refused(route, method, response, why=authorization)
    assert world.snapshot() == before


def test_unknown_session_cookie_gets_401(world: World, client: TestClient) -> None:
    before = world.snapshot()
    values = world.path_values()
    client.cookies.set(SESSION_COOKIE, "not-a-session")
    for route in _protected(client):
        for method, path in route.requests():
            response = client.request(method, fill_path(path, values))
            _assert_refused(route, method, response, why="unknown session cookie")
    assert world.snapshot() == before


def test_revoked_and_expired_tokens_get_401(world: World, client: TestClient) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from softquery.clock import utcnow
    from softquery.services import tokens
    from softquery.store.tables import api_tokens

    revoked = tokens.create_token(world.ctx, "admin")
    tokens.revoke_token(world.ctx, revoked.info.id)
    expired = tokens.create_token(world.ctx, "admin")
    with world.ctx.engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == expired.info.id)
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    for secret in (revoked.token, expired.token):
        response = client.get("/api/v1/models", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] == "unauthenticated"


def test_a_token_in_the_query_string_is_never_accepted(world: World, client: TestClient) -> None:
    """Tokens in URLs end up in logs and browser history: refused on every route, even valid ones."""
    secret = authkit.token(world.ctx, "admin")
    before = world.snapshot()
    values = world.path_values()
    for route in _protected(client):
        for method, path in route.requests():
            url = fill_path(path, values)
            for params in ({"access_token": secret}, {"api_key": secret}, {"token": secret},
                           {"whatever": secret}):
                response = client.request(method, url, params=params)
                assert response.status_code in (401, 422), (method, url, params, response.status_code)
    assert world.snapshot() == before


def test_a_token_in_the_query_string_is_refused_even_beside_a_valid_header(
        world: World, client: TestClient) -> None:
    secret = authkit.token(world.ctx, "admin")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/models", headers=headers).status_code == 200
    response = client.get("/api/v1/models", params={"access_token": secret}, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "Authorization: Bearer" in error["message"]
    assert secret not in response.text  # the error does not echo the secret back


def test_public_routes_answer_without_credentials(client: TestClient) -> None:
    health = client.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    public = [r for r in app_routes(client.app)[0] if r.public]  # type: ignore[arg-type]
    for route in public:
        for method, path in route.requests():
            if method == "GET":
                response = client.get(path)
                assert response.status_code < 400, (path, response.status_code)


def test_unknown_paths_need_no_login_but_leak_nothing(client: TestClient) -> None:
    api = client.get("/api/v1/nope")
    assert api.status_code in (401, 404)
    page = client.get("/no-such-page")
    assert page.status_code in (401, 404)
    for response in (api, page):
        assert "house_quality" not in response.text
