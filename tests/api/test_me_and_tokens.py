"""GET /me and API tokens over the API: shown once, listed without secrets, revoked, expired, scoped."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from tests import authkit

from softquery.clock import utcnow
from softquery.domain.accounts import Role, TokenScope
from softquery.services import tokens
from softquery.services.context import ServiceContext
from softquery.store.tables import api_tokens

from .conftest import assert_envelope


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_status(client: TestClient, path: str, headers: dict[str, str], status: int,
                    timeout: float = 5.0) -> None:
    """Poll until ``path`` answers ``status`` (the server caches token lookups briefly)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(path, headers=headers)
        if response.status_code == status:
            return
        assert time.monotonic() < deadline, f"still {response.status_code} after {timeout} s: {response.text}"
        time.sleep(0.02)


def test_me_with_a_token(client: TestClient) -> None:
    me = client.get("/api/v1/me").json()
    assert me == {"username": "admin", "role": "admin", "authenticated_by": "token", "scope": "full",
                  "models": None, "token_id": me["token_id"], "csrf_token": None}
    assert isinstance(me["token_id"], int)


def test_me_with_a_session_gives_the_csrf_token(anon: TestClient, ctx: ServiceContext) -> None:
    csrf = authkit.session(anon, ctx, "ed", Role.EDITOR)
    me = anon.get("/api/v1/me").json()
    assert me == {"username": "ed", "role": "editor", "authenticated_by": "session", "scope": "full",
                  "models": None, "token_id": None, "csrf_token": csrf}
    # a cookie session changes things only with the CSRF token
    refused = assert_envelope(anon.post("/api/v1/tokens", json={"name": "x"}), 403, "csrf_failed")
    assert "Reload the page" in refused["message"]
    created = anon.post("/api/v1/tokens", json={"name": "x"}, headers=authkit.csrf_headers(me["csrf_token"]))
    assert created.status_code == 201, created.text
    assert created.json()["user"] == "ed"


def test_a_token_is_shown_once_and_never_listed(client: TestClient) -> None:
    response = client.post("/api/v1/tokens", json={"name": "nightly scoring", "days": 7})
    assert response.status_code == 201, response.text
    created = response.json()
    secret = created.pop("token")
    assert secret.startswith("sq_") and secret.startswith(created["prefix"]) and len(secret) > len(created["prefix"])
    assert created["user"] == "admin" and created["name"] == "nightly scoring"
    assert created["scope"] == "full" and created["models"] is None and created["active"] is True
    assert created["revoked_at"] is None
    lifetime = _parse(created["expires_at"]) - _parse(created["created_at"])
    assert timedelta(days=7) - timedelta(seconds=5) < lifetime <= timedelta(days=7)
    listed = client.get("/api/v1/tokens")
    assert listed.status_code == 200
    assert secret not in listed.text
    mine = {t["id"]: t for t in listed.json()}
    assert mine[created["id"]] == created  # the same public info, without the secret
    assert all("token" not in t for t in mine.values())
    # the token works, as itself
    me = client.get("/api/v1/me", headers=bearer(secret)).json()
    assert me["token_id"] == created["id"] and me["username"] == "admin"


def _parse(value: str) -> object:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_token_create_errors(client: TestClient, ctx: ServiceContext) -> None:
    assert_envelope(client.post("/api/v1/tokens", json={"days": 0}), 422, "invalid_input")
    assert_envelope(client.post("/api/v1/tokens", json={"days": 100000}), 422, "invalid_input")
    assert_envelope(client.post("/api/v1/tokens", json={"scope": "root"}), 422, "invalid_input")
    assert_envelope(client.post("/api/v1/tokens", json={"secret": "x"}), 422, "invalid_input")
    error = assert_envelope(client.post("/api/v1/tokens", json={"scope": "full", "models": ["iris_species"]}),
                            422, "invalid_input")
    assert "predict" in error["message"]
    assert_envelope(client.post("/api/v1/tokens", json={"scope": "predict", "models": ["no such; model"]}),
                    422, "invalid_input")
    assert_envelope(client.post("/api/v1/tokens", json={"user": "nobody"}), 404, "not_found")


def test_a_token_for_a_model_that_does_not_exist_is_refused(client: TestClient, ctx: ServiceContext) -> None:
    before = client.get("/api/v1/tokens").json()
    error = assert_envelope(client.post("/api/v1/tokens", json={"scope": "predict",
                                                                "models": ["iris_species", "no_such_model"]}),
                            404, "not_found")
    assert "'no_such_model'" in error["message"] and "iris_species" not in error["message"]
    assert error["details"] == {"field": "models", "models": ["no_such_model"]}
    assert client.get("/api/v1/tokens").json() == before  # nothing created


def test_who_may_list_and_create_whose_tokens(client: TestClient, ctx: ServiceContext) -> None:
    editor = authkit.bearer(ctx, "ed", Role.EDITOR)
    authkit.token(ctx, "vi", Role.VIEWER)
    # everyone lists their own
    own = client.get("/api/v1/tokens", headers=editor).json()
    assert {t["user"] for t in own} == {"ed"}
    assert client.get("/api/v1/tokens?user=ed", headers=editor).json() == own
    # only admins look at others' or everyone's
    for query in ("?user=admin", "?all=true"):
        error = assert_envelope(client.get("/api/v1/tokens" + query, headers=editor), 403, "forbidden")
        assert "Only an admin" in error["message"]
    assert {t["user"] for t in client.get("/api/v1/tokens?all=true").json()} == {"admin", "ed", "vi"}
    assert {t["user"] for t in client.get("/api/v1/tokens?user=vi").json()} == {"vi"}
    assert {t["user"] for t in client.get("/api/v1/tokens").json()} == {"admin"}
    assert_envelope(client.get("/api/v1/tokens?user=nobody"), 404, "not_found")
    assert {t["user"] for t in client.get("/api/v1/tokens?user=vi&all=true").json()} == {"admin", "ed", "vi"}
    # an admin creates a token for someone else; an editor may not
    made = client.post("/api/v1/tokens", json={"user": "vi", "scope": "predict"})
    assert made.status_code == 201 and made.json()["user"] == "vi"
    assert client.get("/api/v1/me", headers=bearer(made.json()["token"])).status_code == 403  # predict scope
    assert_envelope(client.post("/api/v1/tokens", json={"user": "admin"}, headers=editor), 403, "forbidden")
    mine = client.post("/api/v1/tokens", json={"user": "ed"}, headers=editor)
    assert mine.status_code == 201 and mine.json()["user"] == "ed"
    # viewers manage their own tokens too
    viewer = authkit.bearer(ctx, "vi", Role.VIEWER)
    assert client.post("/api/v1/tokens", json={}, headers=viewer).status_code == 201


def test_revoked_token_stops_working(client: TestClient, ctx: ServiceContext) -> None:
    created = client.post("/api/v1/tokens", json={"name": "to revoke"}).json()
    own = bearer(created["token"])
    assert client.get("/api/v1/models", headers=own).status_code == 200  # now cached by the server
    assert client.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    wait_for_status(client, "/api/v1/models", own, 401)
    error = assert_envelope(client.get("/api/v1/models", headers=own), 401, "unauthenticated")
    assert "revoked" in error["message"]
    listed = {t["id"]: t for t in client.get("/api/v1/tokens").json()}
    assert listed[created["id"]]["active"] is False and listed[created["id"]]["revoked_at"] is not None


def test_who_may_revoke_which_token(client: TestClient, ctx: ServiceContext) -> None:
    editor = authkit.bearer(ctx, "ed", Role.EDITOR)
    admins = tokens.create_token(ctx, "admin")
    eds = tokens.create_token(ctx, "ed")
    # someone else's token is not there for an editor (no hint that it exists)
    assert_envelope(client.delete(f"/api/v1/tokens/{admins.info.id}", headers=editor), 404, "not_found")
    assert ctx.tokens.get(admins.info.id).revoked_at is None
    assert client.delete(f"/api/v1/tokens/{eds.info.id}", headers=editor).status_code == 204
    other = tokens.create_token(ctx, "ed")
    assert client.delete(f"/api/v1/tokens/{other.info.id}").status_code == 204  # admins revoke any
    assert ctx.tokens.get(other.info.id).revoked_at is not None
    assert_envelope(client.delete("/api/v1/tokens/999999"), 404, "not_found")
    assert_envelope(client.delete("/api/v1/tokens/99999999999999999999999"), 422, "invalid_input")
    assert_envelope(client.delete("/api/v1/tokens/abc"), 422, "invalid_input")


def test_expired_token_gets_401(client: TestClient, ctx: ServiceContext) -> None:
    expired = tokens.create_token(ctx, "admin", days=1)
    with ctx.engine.begin() as conn:
        conn.execute(update(api_tokens).where(api_tokens.c.id == expired.info.id)
                     .values(expires_at=utcnow() - timedelta(seconds=1)))
    response = client.get("/api/v1/models", headers=bearer(expired.token))
    error = assert_envelope(response, 401, "unauthenticated")
    assert "expired" in error["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    listed = {t["id"]: t for t in client.get("/api/v1/tokens").json()}
    assert listed[expired.info.id]["active"] is False


def test_predict_scope_token(client: TestClient, ctx: ServiceContext) -> None:
    """Online prediction of its named models only; everything else 403."""
    only = bearer(client.post("/api/v1/tokens", json={"scope": "predict", "models": ["house_quality"]})
                  .json()["token"])
    # allowed through to the model (which has no version yet: 409, not 403)
    assert_envelope(client.post("/api/v1/models/house_quality/predict", json={"rows": [{"x": 1}]}, headers=only),
                    409, "no_version")
    error = assert_envelope(client.post("/api/v1/models/iris_species/predict", json={"rows": [{"x": 1}]},
                                        headers=only), 403, "forbidden")
    assert "house_quality" in error["message"]
    for method, path in (("GET", "/api/v1/models"), ("GET", "/api/v1/me"), ("GET", "/api/v1/tokens"),
                         ("POST", "/api/v1/models/house_quality/train"), ("GET", "/api/v1/models/house_quality")):
        error = assert_envelope(client.request(method, path, headers=only), 403, "forbidden")
        assert "predict" in error["message"], (method, path)
    any_model = authkit.bearer(ctx, "vi", Role.VIEWER, scope=TokenScope.PREDICT)
    assert_envelope(client.post("/api/v1/models/iris_species/predict", json={"rows": [{"x": 1}]},
                                headers=any_model), 409, "no_version")


def test_a_token_made_with_a_token_never_outlives_or_outlasts_it(client: TestClient, ctx: ServiceContext) -> None:
    parent = tokens.create_token(ctx, "admin", days=1)
    child = client.post("/api/v1/tokens", json={"name": "child", "days": 3000},
                        headers=bearer(parent.token)).json()
    made = next(t for t in tokens.list_tokens(ctx, "admin") if t.id == child["id"])
    assert made.expires_at <= parent.info.expires_at and made.parent_id == parent.info.id
    grandchild = client.post("/api/v1/tokens", json={"name": "grandchild"}, headers=bearer(child["token"])).json()
    for token in (child["token"], grandchild["token"]):
        assert client.get("/api/v1/models", headers=bearer(token)).status_code == 200
    tokens.revoke_token(ctx, parent.info.id)  # the parent goes: so do the tokens it made, and theirs
    for token in (child["token"], grandchild["token"]):
        wait_for_status(client, "/api/v1/models", bearer(token), 401)
    # a token made from a session or the CLI has no parent and lives its own life
    assert tokens.create_token(ctx, "admin").info.parent_id is None
