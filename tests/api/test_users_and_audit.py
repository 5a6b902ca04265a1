"""Users and the audit log over the API (admins only), 401/403/429 answers, and model owners."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from tests import authkit

from softquery.domain.accounts import Role
from softquery.errors import AuthenticationError
from softquery.services import accounts
from softquery.services.context import ServiceContext

from .conftest import assert_envelope
from .test_me_and_tokens import bearer, wait_for_status

ADMIN_ONLY = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"username": "zed", "role": "viewer"}),
    ("PATCH", "/api/v1/users/admin", {"role": "viewer"}),
    ("POST", "/api/v1/users/admin/login-link", None),
    ("GET", "/api/v1/audit", None),
]


def _link_secret(url: str) -> str:
    parts = urlsplit(url)
    assert parts.path == "/login"
    return parse_qs(parts.query)["token"][0]


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_admin_only_endpoints_refuse_editors_and_viewers(client: TestClient, ctx: ServiceContext,
                                                         role: Role) -> None:
    headers = authkit.bearer(ctx, f"u_{role.value}", role)
    before = len(ctx.audit.list(limit=1000))
    for method, path, body in ADMIN_ONLY:
        error = assert_envelope(client.request(method, path, json=body, headers=headers), 403, "forbidden")
        assert f"Your role ({role.value})" in error["message"] and "admin" in error["message"], (method, path)
        assert error["details"] == {"action": "admin"}
    assert len(ctx.audit.list(limit=1000)) == before  # nothing happened
    assert ctx.users.get("admin").role is Role.ADMIN


def test_add_user_with_a_password(client: TestClient, ctx: ServiceContext) -> None:
    response = client.post("/api/v1/users", json={"username": "ada", "role": "editor",
                                                  "password": authkit.PASSWORD})
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["username"] == "ada" and user["role"] == "editor" and user["active"] is True
    assert user["has_password"] is True and user["login_url"] is None and user["last_login_at"] is None
    assert authkit.PASSWORD not in response.text
    assert accounts.login_with_password(ctx, "ada", authkit.PASSWORD, "1.2.3.4").user.username == "ada"
    listed = client.get("/api/v1/users")
    assert {u["username"]: u["role"] for u in listed.json()} == {"admin": "admin", "ada": "editor"}
    assert authkit.PASSWORD not in listed.text and "argon2" not in listed.text
    assert all(set(u) == {"username", "role", "active", "has_password", "created_at", "disabled_at",
                          "last_login_at"} for u in listed.json())
    assert_envelope(client.post("/api/v1/users", json={"username": "ada"}), 409, "already_exists")
    weak = assert_envelope(client.post("/api/v1/users", json={"username": "bob", "password": "short"}),
                           422, "invalid_input")
    assert "at least 10 characters" in weak["message"]
    assert_envelope(client.post("/api/v1/users", json={"username": "no spaces allowed"}), 422, "invalid_input")
    assert_envelope(client.post("/api/v1/users", json={"username": "carl", "role": "owner"}), 422, "invalid_input")


def test_add_user_without_a_password_answers_a_one_time_link(client: TestClient, ctx: ServiceContext) -> None:
    response = client.post("/api/v1/users", json={"username": "bea"})
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["role"] == "viewer" and user["has_password"] is False
    assert user["login_url"].startswith("http://testserver/login?token=")
    session = accounts.login_with_link(ctx, _link_secret(user["login_url"]))
    assert session.user.username == "bea"
    with pytest.raises(AuthenticationError):  # once only
        accounts.login_with_link(ctx, _link_secret(user["login_url"]))
    assert "login_url" not in client.get("/api/v1/users").text


def test_new_login_link(client: TestClient, ctx: ServiceContext) -> None:
    authkit.user(ctx, "cy", Role.VIEWER)
    response = client.post("/api/v1/users/cy/login-link")
    assert response.status_code == 201, response.text
    link = response.json()
    assert link["username"] == "cy" and link["expires_at"]
    assert accounts.login_with_link(ctx, _link_secret(link["login_url"])).user.username == "cy"
    assert_envelope(client.post("/api/v1/users/nobody/login-link"), 404, "not_found")
    client.patch("/api/v1/users/cy", json={"disabled": True})
    error = assert_envelope(client.post("/api/v1/users/cy/login-link"), 409, "conflict")
    assert "enable the user first" in error["message"]


def test_patch_user_role_and_disabled(client: TestClient, ctx: ServiceContext) -> None:
    dee = authkit.bearer(ctx, "dee", Role.VIEWER)
    assert client.get("/api/v1/me", headers=dee).json()["role"] == "viewer"
    changed = client.patch("/api/v1/users/dee", json={"role": "editor"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "editor" and changed.json()["active"] is True
    disabled = client.patch("/api/v1/users/dee", json={"disabled": True}).json()
    assert disabled["active"] is False and disabled["disabled_at"] is not None
    wait_for_status(client, "/api/v1/me", dee, 401)  # a disabled user's tokens stop working
    enabled = client.patch("/api/v1/users/dee", json={"disabled": False}).json()
    assert enabled["active"] is True and enabled["role"] == "editor"
    wait_for_status(client, "/api/v1/me", dee, 200)
    assert client.patch("/api/v1/users/dee", json={}).json()["role"] == "editor"  # nothing given: no change
    assert_envelope(client.patch("/api/v1/users/nobody", json={"role": "viewer"}), 404, "not_found")
    assert_envelope(client.patch("/api/v1/users/dee", json={"password": "x"}), 422, "invalid_input")
    # the only admin can be neither demoted nor disabled
    for body in ({"role": "viewer"}, {"disabled": True}):
        error = assert_envelope(client.patch("/api/v1/users/admin", json=body), 409, "conflict")
        assert "only active admin" in error["message"]
    assert ctx.users.get("admin").role is Role.ADMIN and ctx.users.get("admin").active


def test_audit_log_newest_first_with_filters(client: TestClient, ctx: ServiceContext) -> None:
    editor = authkit.bearer(ctx, "ed", Role.EDITOR)  # user.add + token.create by the local operator
    made = client.post("/api/v1/tokens", json={"name": "audited"}).json()
    client.post("/api/v1/users", json={"username": "fay"})
    client.patch("/api/v1/users/fay", json={"role": "editor"})
    client.post("/api/v1/models/house_quality/duplicate", json={"new_name": "hq_copy"}, headers=editor)
    events = client.get("/api/v1/audit").json()
    ids = [e["id"] for e in events]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))
    assert set(events[0]) == {"id", "at", "actor", "action", "target_type", "target", "details", "ip"}
    assert events[0]["action"] == "model.duplicate" and events[0]["actor"] == "ed"
    assert events[0]["ip"] == "testclient"
    by_ed = client.get("/api/v1/audit", params={"actor": "ed"}).json()
    assert by_ed and all(e["actor"] == "ed" for e in by_ed)
    fay = client.get("/api/v1/audit", params={"target": "fay"}).json()
    assert [e["action"] for e in fay] == ["user.set_role", "user.login_link", "user.add"]
    assert all(e["actor"] == "admin" for e in fay)
    assert fay[0]["details"] == {"from": "viewer", "to": "editor"}
    adds = client.get("/api/v1/audit", params={"action": "user.add"}).json()
    assert {e["target"] for e in adds} >= {"admin", "ed", "fay"} and all(e["action"] == "user.add" for e in adds)
    both = client.get("/api/v1/audit", params={"action": "user.add", "actor": "admin"}).json()
    assert [e["target"] for e in both] == ["fay"]
    assert client.get("/api/v1/audit", params={"limit": 2}).json() == events[:2]
    assert client.get("/api/v1/audit", params={"limit": 2, "offset": 1}).json() == events[1:3]
    assert client.get("/api/v1/audit", params={"actor": "nobody"}).json() == []
    assert_envelope(client.get("/api/v1/audit", params={"limit": 0}), 422, "invalid_input")
    assert_envelope(client.get("/api/v1/audit", params={"offset": -1}), 422, "invalid_input")
    # secrets never reach the log: only a token's public prefix does
    everything = client.get("/api/v1/audit", params={"limit": 1000}).text
    assert made["token"] not in everything and editor["Authorization"][len("Bearer "):] not in everything
    assert f"{made['id']} ({made['prefix']})" in everything


def test_401_envelope_and_www_authenticate(anon: TestClient) -> None:
    for headers in ({}, bearer("sq_not-a-real-token"), {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        response = anon.get("/api/v1/me", headers=headers)
        error = assert_envelope(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="softquery"', headers
        assert "Bearer" in error["message"]
    assert anon.get("/api/v1/health").status_code == 200


def test_403_envelope(client: TestClient, ctx: ServiceContext) -> None:
    viewer = authkit.bearer(ctx, "vi", Role.VIEWER)
    response = client.delete("/api/v1/models/house_quality", headers=viewer)
    error = assert_envelope(response, 403, "forbidden")
    assert "WWW-Authenticate" not in response.headers
    assert error["details"] == {"action": "change_model"}
    assert client.get("/api/v1/models/house_quality").status_code == 200


def test_too_many_logins_answer_429_with_retry_after(anon: TestClient, ctx: ServiceContext) -> None:
    authkit.user(ctx, "gus", Role.VIEWER)
    for _ in range(ctx.settings.login_max_failures):
        with pytest.raises(AuthenticationError):
            accounts.login_with_password(ctx, "gus", "wrong password!", "198.51.100.7")
    response = anon.post("/login", data={"username": "gus", "password": authkit.PASSWORD},
                         follow_redirects=False)
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60 + 1
    assert "Too many failed logins" in response.text


def test_models_show_their_owner(client: TestClient, ctx: ServiceContext) -> None:
    editor = authkit.bearer(ctx, "ed", Role.EDITOR)
    made = client.post("/api/v1/models/house_quality/duplicate", json={"new_name": "eds_copy"}, headers=editor)
    assert made.status_code == 201, made.text
    assert made.json()["owner"] == "ed"
    owners = {m["name"]: m["owner"] for m in client.get("/api/v1/models").json()}
    assert owners["eds_copy"] == "ed"
    assert owners["house_quality"] is None  # made by the CLI (the demo): admins change it
    assert client.get("/api/v1/models/eds_copy").json()["owner"] == "ed"
