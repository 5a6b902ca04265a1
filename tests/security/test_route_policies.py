"""Every route of the app makes exactly one explicit permission decision.

The routes are enumerated from the app itself (included routers, pages, mounts), so a
route added later is checked without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends, FastAPI
from starlette.routing import Mount
from tests.security.routemap import RouteInfo, app_routes, dependency_calls, describe
from tests.security.world import World, build_world

from softquery.auth.policy import Action
from softquery.http.authentication import require_access
from softquery.http.route_policies import Allow, Public, allow, public

# The only routes anyone may call without logging in: liveness, and logging in itself
# (the form, its POST, the one-time link's page `GET /login?token=`, which only asks, and its
# button's `POST /login/link`, which uses the link). Adding one here must be a deliberate decision.
EXPECTED_PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/login/link"),
}
ALWAYS_PUBLIC = {("GET", "/api/v1/health")}
ALLOWED_MOUNTS = {"/static"}  # static assets (CSS, JS, Swagger UI files, favicon): no data


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("policies"))
    try:
        yield built
    finally:
        built.ctx.close()


@pytest.fixture(scope="module")
def app(world: World) -> FastAPI:
    return world.app()


@pytest.fixture(scope="module")
def routes(app: FastAPI) -> list[RouteInfo]:
    return app_routes(app)[0]


def test_the_walk_finds_api_routes_pages_and_the_app_level_routes(routes: list[RouteInfo]) -> None:
    """Guards the enumeration itself: it must see into included routers and pages."""
    labels = {r.label for r in routes}
    for expected in ("GET /api/v1/models", "POST /api/v1/models/{name}/predict", "POST /model/predict",
                     "GET /openapi.json", "GET /docs", "GET /", "GET /models/{name}", "POST /sources"):
        assert expected in labels, f"{expected} not found; the route walk missed it:\n{describe(routes)}"
    assert any(r.page for r in routes) and any(not r.page for r in routes)
    assert len(routes) >= 60, describe(routes)


def test_the_check_catches_a_route_without_a_policy() -> None:
    """The enumeration sees a bare route, a doubly-guarded one, and router-level policies."""
    app = FastAPI()
    inner = APIRouter(prefix="/inner", dependencies=[Depends(require_access)])
    inner.add_api_route("/bare", lambda: None)
    inner.add_api_route("/twice", lambda: None, dependencies=[allow(Action.READ), public()])
    outer = APIRouter(prefix="/outer")
    outer.include_router(inner)
    app.include_router(outer, dependencies=[allow(Action.ADMIN)])
    app.add_api_route("/alone", lambda: None)
    found = {r.path: len(r.policies) for r in app_routes(app)[0]}
    assert found == {"/outer/inner/bare": 1, "/outer/inner/twice": 3, "/alone": 0}


def test_every_route_declares_exactly_one_policy(routes: list[RouteInfo]) -> None:
    missing = [r for r in routes if not r.policies]
    several = [r for r in routes if len(r.policies) > 1]
    assert not missing, ("These routes make no permission decision; add "
                         "`dependencies=[allow(Action.…)]` (or `public()`):\n" + describe(missing))
    assert not several, ("These routes carry more than one policy (exactly one, please):\n"
                         + describe(several))
    for route in routes:
        assert isinstance(route.policy, Allow | Public), route.label


def test_protected_routes_require_access(routes: list[RouteInfo]) -> None:
    """``Allow`` itself depends on ``require_access``; check the tree really has it."""
    for route in routes:
        if route.public:
            continue
        assert require_access in dependency_calls(route.dependant), \
            f"{route.label} does not depend on require_access"


def test_public_routes_are_exactly_the_expected_few(routes: list[RouteInfo]) -> None:
    public = {(m, r.path) for r in routes if r.public for m in r.methods}
    present = {(m, r.path) for r in routes for m in r.methods}
    unexpected = public - EXPECTED_PUBLIC
    assert not unexpected, (f"New public routes (no login needed): {sorted(unexpected)}. If this is "
                            "deliberate, add them to EXPECTED_PUBLIC with a reason.")
    should_be_public = EXPECTED_PUBLIC & present
    assert public == should_be_public, f"not public but must be: {sorted(should_be_public - public)}"
    assert ALWAYS_PUBLIC <= public


def test_only_the_static_mount_exists(app: FastAPI) -> None:
    others = app_routes(app)[1]
    bad = [o for o in others if not (isinstance(o, Mount) and o.path in ALLOWED_MOUNTS)]
    assert not bad, ("Only /static may be mounted (a mounted app bypasses the per-route policies): "
                     + ", ".join(f"{type(o).__name__} {getattr(o, 'path', '?')}" for o in bad))
    static = [o for o in others if isinstance(o, Mount)]
    assert len(static) == 1


def test_static_serves_files_only(tmp_path: Path, world: World) -> None:
    """The one public mount gives out assets, not the home folder or the database."""
    with world.client() as client:
        assert client.get("/static/favicon.svg").status_code == 200
        for path in ("/static/../secret.key", "/static/%2e%2e/%2e%2e/home/secret.key",
                     "/static/..%2f..%2fsoftquery.db"):
            response = client.get(path)
            assert response.status_code in (400, 404), (path, response.status_code)
            assert b"SQLite format" not in response.content
