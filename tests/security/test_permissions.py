"""Per role and per token scope: what is allowed and what gets 403 (and a 403 changes nothing).

``ed`` (editor) owns ``ed_model``; ``eve`` (editor) owns ``eve_model``; ``house_quality``
was made like the CLI makes models (no owner: admins only). Each principal gets a fresh
home (see ``world.py``) with the three models trained and a queued run each, and walks
the whole table below in order (deletions last). Rows whose route does not exist in this
build are reported by ``test_every_row_has_its_route``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.security.routemap import app_routes, json_body
from tests.security.world import CLI_MODEL, World, build_world, clone_world

from softquery.domain import RunKind, RunTrigger
from softquery.domain.accounts import Role, TokenScope
from softquery.services import accounts, sql_scripts
from softquery.services.runs import submit_run
from softquery.sql.statements import CreateModel
from softquery.web.forms import EditorForm

ADMIN, EDITOR, VIEWER = Role.ADMIN, Role.EDITOR, Role.VIEWER
EVERYONE = frozenset({ADMIN, EDITOR, VIEWER})
WRITERS = frozenset({ADMIN, EDITOR})
ADMINS = frozenset({ADMIN})
OWN, OTHER, CLI = "ed_model", "eve_model", CLI_MODEL  # from ed's point of view


@dataclass(frozen=True)
class Who:
    id: str
    username: str
    role: Role
    session: bool = False
    scope: TokenScope = TokenScope.FULL
    models: tuple[str, ...] | None = None


WHO = [
    Who("admin-token", "admin", ADMIN),
    Who("editor-token", "ed", EDITOR),
    Who("viewer-token", "vic", VIEWER),
    Who("admin-session", "admin", ADMIN, session=True),
    Who("editor-session", "ed", EDITOR, session=True),
    Who("viewer-session", "vic", VIEWER, session=True),
    Who("predict-token", "admin", ADMIN, scope=TokenScope.PREDICT),
    Who("predict-token-one-model", "admin", ADMIN, scope=TokenScope.PREDICT, models=(CLI,)),
]


@dataclass(frozen=True)
class Row:
    what: str
    method: str
    path: str  # the route's template, formatted with ``args``
    roles: frozenset[Role]  # full-scope principals allowed (others: 403)
    ok: frozenset[int]  # statuses that mean "allowed and done"
    args: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: Callable[[World], dict[str, str]] | None = None
    online: str | None = None  # online prediction of this model: predict tokens may call it
    check: Callable[[World], None] | None = None  # after an allowed request: the effect happened

    @property
    def url(self) -> str:
        return self.path.format(**self.args)


def _edit_form(model: str, description: str) -> Callable[[World], dict[str, str]]:
    def build(world: World) -> dict[str, str]:
        form = EditorForm.of(world.ctx.models.get(model)).model_dump()
        form["description"] = description
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return build


def _described(model: str, description: str) -> Callable[[World], None]:
    def check(world: World) -> None:
        assert world.ctx.models.get(model).description == description
    return check


def _new_model_form(name: str) -> Callable[[World], dict[str, str]]:
    def build(world: World) -> dict[str, str]:
        form = _edit_form(CLI, "made on the web")(world)
        form.update(name=name)
        return form
    return build


def _gone(model: str) -> Callable[[World], None]:
    def check(world: World) -> None:
        assert model not in {m.name for m in world.ctx.models.list()}
    return check


def _model_body(name: str) -> dict[str, Any]:
    return {"name": name, "source": "demo", "template": "linear_regression",
            "train_sql": "select id, price, quality from houses where quality is not null",
            "predict_sql": "select id, price from houses where quality is null", "label": "quality"}


ROWS_BEFORE_DELETES: list[Row] = [
    # reading
    Row("list models", "GET", "/api/v1/models", EVERYONE, frozenset({200})),
    Row("show a model", "GET", "/api/v1/models/{m}", EVERYONE, frozenset({200}), {"m": OTHER}),
    Row("list runs", "GET", "/api/v1/runs", EVERYONE, frozenset({200})),
    Row("list versions", "GET", "/api/v1/models/{m}/versions", EVERYONE, frozenset({200}), {"m": CLI}),
    Row("show a version", "GET", "/api/v1/models/{m}/versions/1", EVERYONE, frozenset({200}), {"m": CLI}),
    Row("list sources", "GET", "/api/v1/sources", EVERYONE, frozenset({200})),
    Row("list templates", "GET", "/api/v1/templates", EVERYONE, frozenset({200})),
    Row("serving workers", "GET", "/api/v1/serving/workers", EVERYONE, frozenset({200})),
    Row("openapi document", "GET", "/openapi.json", EVERYONE, frozenset({200})),
    Row("front page", "GET", "/", EVERYONE, frozenset({200})),
    Row("model page", "GET", "/models/{m}", EVERYONE, frozenset({200}), {"m": OTHER}),
    Row("version page", "GET", "/models/{m}/versions/1", EVERYONE, frozenset({200}), {"m": CLI}),
    Row("runs page", "GET", "/runs", EVERYONE, frozenset({200})),
    Row("sources page", "GET", "/sources", EVERYONE, frozenset({200})),
    Row("a SELECT in SQL", "POST", "/api/v1/sql", EVERYONE, frozenset({200}),
        json={"source": "demo", "sql": "select count(*) as n from houses"}),
    Row("my SQL history", "GET", "/api/v1/sql/history", EVERYONE, frozenset({200})),
    Row("SQL completions", "GET", "/api/v1/sql/completions?source=demo", EVERYONE, frozenset({200})),
    Row("SQL console page", "GET", "/sql", EVERYONE, frozenset({200})),
    Row("files page", "GET", "/files", EVERYONE, frozenset({200})),
    Row("list the files folder", "GET", "/api/v1/files", EVERYONE, frozenset({200})),
    # online prediction (the only thing a predict token may do)
    Row("predict CLI model online", "POST", "/api/v1/models/{m}/predict", EVERYONE, frozenset({200}),
        {"m": CLI}, json={"rows": [{"price": 120.0}]}, online=CLI),
    Row("predict other's model online", "POST", "/api/v1/models/{m}/predict", EVERYONE, frozenset({200}),
        {"m": OTHER}, json={"rows": [{"price": 120.0}]}, online=OTHER),
    # editor tools that change nothing
    Row("code check", "POST", "/api/v1/code/check", WRITERS, frozenset({200}), json={"code": "x = 1\n"}),
    Row("preview a query", "POST", "/api/v1/sources/demo/preview", WRITERS, frozenset({200}),
        json={"sql": "select 1 as one"}),
    Row("preview a model", "POST", "/api/v1/models/preview", WRITERS, frozenset({200}),
        json={"source": "demo", "train_sql": "select id, price, quality from houses",
              "predict_sql": "select id, price from houses"}),
    Row("editor page: new", "GET", "/new", WRITERS, frozenset({200})),
    # creating
    Row("create a model", "POST", "/api/v1/models", WRITERS, frozenset({201}), json=_model_body("made_api")),
    Row("duplicate a model", "POST", "/api/v1/models/{m}/duplicate", WRITERS, frozenset({201}),
        {"m": OTHER}, json={"new_name": "copied_api"}),
    Row("create on the web", "POST", "/new", WRITERS, frozenset({303}), form=_new_model_form("made_web")),
    Row("duplicate on the web", "POST", "/models/{m}/duplicate", WRITERS, frozenset({303}), {"m": CLI},
        form=lambda _w: {"new_name": "copied_web"}),
    # a statement is decided like its REST equivalent (the route itself only asks READ)
    *([Row("CREATE MODEL in SQL", "POST", "/api/v1/sql", WRITERS, frozenset({200}),
           json={"source": "demo", "sql": "create model made_sql options(model_type='linear_reg', "
                 "input_label_cols=['quality']) as select price, quality from houses where quality is not null"})]
      if CreateModel in sql_scripts.HANDLERS else []),
]

for _target, _roles in ((OWN, WRITERS), (OTHER, ADMINS), (CLI, ADMINS)):
    _who = {OWN: "own", OTHER: "other's", CLI: "CLI-made"}[_target]
    ROWS_BEFORE_DELETES += [
        Row(f"update {_who} model", "PATCH", "/api/v1/models/{m}", _roles, frozenset({200}), {"m": _target},
            json={"description": f"changed by api {_target}"},
            check=_described(_target, f"changed by api {_target}")),
        Row(f"train {_who} model", "POST", "/api/v1/models/{m}/train", _roles, frozenset({202}), {"m": _target}),
        Row(f"start a run of {_who} model", "POST", "/api/v1/models/{m}/runs", _roles, frozenset({202}),
            {"m": _target}, json={"kind": "train"}),
        Row(f"batch-predict {_who} model", "POST", "/api/v1/models/{m}/batch-predict", _roles,
            frozenset({202}), {"m": _target}),
        Row(f"activate {_who} model's version", "POST", "/api/v1/models/{m}/versions/1/activate", _roles,
            frozenset({200}), {"m": _target}),
        Row(f"edit page of {_who} model", "GET", "/models/{m}/edit", _roles, frozenset({200}), {"m": _target}),
        Row(f"save {_who} model on the web", "POST", "/models/{m}/edit", _roles, frozenset({303}),
            {"m": _target}, form=_edit_form(_target, f"changed on the web {_target}"),
            check=_described(_target, f"changed on the web {_target}")),
        Row(f"train {_who} model on the web", "POST", "/models/{m}/train", _roles, frozenset({303}),
            {"m": _target}),
        Row(f"batch-predict {_who} model on the web", "POST", "/models/{m}/predict", _roles,
            frozenset({303}), {"m": _target}),
        Row(f"activate {_who} model on the web", "POST", "/models/{m}/versions/1/activate", _roles,
            frozenset({303}), {"m": _target}),
        Row(f"stop {_who} model's runs on the web", "POST", "/models/{m}/stop", _roles, frozenset({303}),
            {"m": _target}),
    ]

ROWS_BEFORE_DELETES += [
    # data sources: admins only
    Row("add a source", "POST", "/api/v1/sources", ADMINS, frozenset({201}),
        json={"name": "added", "url": "sqlite:///:memory:", "test": False}),
    Row("test a source", "POST", "/api/v1/sources/demo/test", ADMINS, frozenset({200})),
    Row("add a source on the web", "POST", "/sources", ADMINS, frozenset({303}),
        form=lambda _w: {"name": "added_web", "url": "sqlite:///:memory:", "skip_test": "1"}),
    Row("load the demo on the web", "POST", "/demo", ADMINS, frozenset({409})),  # it exists already
    # accounts (issue 6 routes; skipped when absent)
    Row("who am I", "GET", "/api/v1/me", EVERYONE, frozenset({200})),
    Row("my tokens", "GET", "/api/v1/tokens", EVERYONE, frozenset({200})),
    Row("everyone's tokens", "GET", "/api/v1/tokens?all=true", ADMINS, frozenset({200})),
    Row("eve's tokens", "GET", "/api/v1/tokens?user=eve", ADMINS, frozenset({200})),
    Row("a token for myself", "POST", "/api/v1/tokens", EVERYONE, frozenset({201}),
        json={"scope": "predict", "models": [CLI]}),
    Row("a predict token on the model page", "POST", "/models/{m}/predict-token", EVERYONE, frozenset({200}),
        {"m": OTHER}),
    Row("a token for eve", "POST", "/api/v1/tokens", ADMINS, frozenset({201}),
        json={"user": "eve", "scope": "full"}),
    Row("list users", "GET", "/api/v1/users", ADMINS, frozenset({200})),
    Row("add a user", "POST", "/api/v1/users", ADMINS, frozenset({201}),
        json={"username": "newbie", "role": "editor"}),
    Row("make vic an admin", "PATCH", "/api/v1/users/vic", ADMINS, frozenset({200}), json={"role": "admin"},
        check=lambda w: None if w.ctx.users.get("vic").role is ADMIN else pytest.fail("vic not admin")),
    Row("login link for eve", "POST", "/api/v1/users/eve/login-link", ADMINS, frozenset({201})),
    Row("audit log", "GET", "/api/v1/audit", ADMINS, frozenset({200})),
    Row("account page", "GET", "/account", EVERYONE, frozenset({200})),
    Row("users page", "GET", "/admin/users", ADMINS, frozenset({200})),
    Row("audit page", "GET", "/admin/audit", ADMINS, frozenset({200})),
    Row("disable eve on the web", "POST", "/admin/users/eve/disable", ADMINS, frozenset({303})),
]

DELETES: list[Row] = [
    Row("remove a source", "DELETE", "/api/v1/sources/spare", ADMINS, frozenset({204})),
    *[Row(f"delete {who} model", "DELETE", "/api/v1/models/{m}", roles, frozenset({204}), {"m": target},
          check=_gone(target))
      for target, roles, who in ((OWN, WRITERS, "own"), (OTHER, ADMINS, "other's"), (CLI, ADMINS, "CLI-made"))],
]
ROWS = ROWS_BEFORE_DELETES + DELETES


def _expected_allowed(who: Who, row: Row) -> bool:
    if who.scope is TokenScope.PREDICT:
        return row.online is not None and (who.models is None or row.online in who.models)
    return who.role in row.roles


@pytest.fixture(scope="module")
def route_table(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    world = build_world(tmp_path_factory.mktemp("table"))
    try:
        return {(m, r.path) for r in app_routes(world.app())[0] for m in r.methods}
    finally:
        world.ctx.close()


def _template(row: Row) -> str:
    path = row.path.split("?")[0]
    for key in row.args:
        path = path.replace("{" + key + "}", "{name}")
    return path.replace("/versions/1", "/versions/{number}")


def _route_exists(row: Row, table: set[tuple[str, str]]) -> bool:
    if (row.method, _template(row)) in table:
        return True
    # the fixed names in accounts rows (vic, eve, spare, demo) stand for a path parameter
    parts = _template(row).split("/")
    for method, path in table:
        other = path.split("/")
        if method == row.method and len(other) == len(parts) and all(
                a == b or b.startswith("{") for a, b in zip(parts, other, strict=True)):
            return True
    return False


def test_every_row_has_its_route(route_table: set[tuple[str, str]]) -> None:
    missing = [f"{r.method} {r.path} ({r.what})" for r in ROWS if not _route_exists(r, route_table)]
    if missing:
        pytest.skip("routes not in this build yet, their rows are skipped: " + "; ".join(missing))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world(tmp_path_factory.mktemp("trained"), trained=True)
    for model in (OWN, OTHER, CLI):
        submit_run(built.ctx, model, RunKind.TRAIN, RunTrigger.CLI, None)  # something to stop
    try:
        yield built
    finally:
        built.ctx.close()


@pytest.fixture
def world(trained: World, tmp_path: Path) -> Iterator[World]:
    """A fresh copy of the trained world for each test."""
    copy = clone_world(trained, tmp_path)
    try:
        yield copy
    finally:
        copy.ctx.close()


def _login(client: TestClient, world: World, who: Who) -> None:
    if who.session:
        csrf = authkit.session(client, world.ctx, who.username, who.role)
        client.headers.update(authkit.csrf_headers(csrf))
    else:
        client.headers.update({"Authorization": "Bearer " + authkit.token(
            world.ctx, who.username, who.role, scope=who.scope,
            models=list(who.models) if who.models is not None else None)})


def _send(client: TestClient, world: World, row: Row) -> Any:
    kwargs: dict[str, Any] = {}
    if row.json is not None:
        kwargs["json"] = row.json
    if row.form is not None:
        kwargs["data"] = row.form(world)
    return client.request(row.method, row.url, **kwargs)


@pytest.mark.parametrize("who", WHO, ids=[w.id for w in WHO])
def test_permission_table(world: World, route_table: set[tuple[str, str]], who: Who) -> None:
    problems: list[str] = []
    with world.client() as client:
        _login(client, world, who)
        for row in ROWS:
            if not _route_exists(row, route_table):
                continue
            allowed = _expected_allowed(who, row)
            before = world.snapshot()
            response = _send(client, world, row)
            status = response.status_code
            label = f"{who.id}: {row.what} ({row.method} {row.url})"
            if allowed:
                if status not in row.ok:
                    problems.append(f"{label}: expected {sorted(row.ok)}, got {status} {response.text[:200]}")
                elif row.check is not None:
                    try:
                        row.check(world)
                    except AssertionError as exc:
                        problems.append(f"{label}: allowed but had no effect ({exc})")
                continue
            if status != 403:
                problems.append(f"{label}: expected 403, got {status} {response.text[:200]}")
                continue
            if not row.path.startswith("/api/") and row.path != "/openapi.json":
                assert "text/html" in response.headers["content-type"], label
            else:
                body = json_body(response)
                if not (isinstance(body, dict) and body.get("error", {}).get("code") == "forbidden"):
                    problems.append(f"{label}: 403 without the forbidden envelope: {body}")
            after = world.snapshot()
            if after != before:
                changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
                problems.append(f"{label}: refused, but it changed {changed}")
    assert not problems, "\n".join(problems)


def test_refusals_name_the_rule(world: World) -> None:
    """A 403 tells the analyst why and what to do next."""
    with world.client() as client:
        _login(client, world, WHO[1])  # ed
        error = client.patch(f"/api/v1/models/{OTHER}", json={"description": "x"}).json()["error"]
        assert error["code"] == "forbidden"
        assert "owner" in error["message"] and "admin" in error["message"]
        client.headers.update({"Authorization": "Bearer " + authkit.token(
            world.ctx, "ed", EDITOR, scope=TokenScope.PREDICT)})
        error = client.get("/api/v1/models").json()["error"]
        assert "predict" in error["message"] and "full" in error["message"]


# -- disabled users ------------------------------------------------------------------


def test_disabled_users_token_and_session_get_401(world: World) -> None:
    with world.client() as token_client, world.client() as session_client:
        token_client.headers.update(authkit.bearer(world.ctx, "vic", VIEWER))
        csrf = authkit.session(session_client, world.ctx, "vic", VIEWER)
        assert token_client.get("/api/v1/models").status_code == 200
        assert session_client.get("/api/v1/models").status_code == 200
        accounts.disable_user(world.ctx, "vic")
        deadline = world.ctx.settings.serving_refresh_seconds + 5.0
        import time

        started = time.monotonic()
        while token_client.get("/api/v1/models").status_code != 401:  # the token cache may hold it briefly
            assert time.monotonic() - started < deadline, "a disabled user's token still works"
            time.sleep(0.05)
        for client in (token_client, session_client):
            response = client.get("/api/v1/models")
            assert response.status_code == 401, response.text
            assert response.json()["error"]["code"] == "unauthenticated"
            assert client.get("/").status_code == 401
        refused = session_client.patch(f"/api/v1/models/{CLI}", json={"description": "x"},
                                       headers=authkit.csrf_headers(csrf))
        assert refused.status_code == 401
        # a fresh token of the disabled user does not work either
        fresh = authkit.token(world.ctx, "vic", VIEWER)
        assert token_client.get("/api/v1/models", headers={"Authorization": f"Bearer {fresh}"}).status_code == 401


# -- CSRF ------------------------------------------------------------------------------


def test_cookie_session_needs_the_csrf_token(world: World) -> None:
    description = world.ctx.models.get(OWN).description
    with world.client() as client:
        csrf = authkit.session(client, world.ctx, "ed", EDITOR)
        before = world.snapshot()
        attempts = [
            ("PATCH", f"/api/v1/models/{OWN}", {"json": {"description": "csrf"}}),
            ("POST", f"/api/v1/models/{OWN}/train", {}),
            ("DELETE", f"/api/v1/models/{OWN}", {}),
            ("POST", "/api/v1/models", {"json": _model_body("csrf_made")}),
        ]
        for method, url, kwargs in attempts:
            for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": ""}):
                response = client.request(method, url, headers=headers, **kwargs)
                assert response.status_code == 403, (method, url, headers, response.text)
                assert response.json()["error"]["code"] == "csrf_failed"
        for method, url, data in (("POST", f"/models/{OWN}/train", {}),
                                  ("POST", f"/models/{OWN}/delete", {"confirm": OWN}),
                                  ("POST", f"/models/{OWN}/edit", _edit_form(OWN, "csrf")(world)),
                                  ("POST", f"/models/{OWN}/train", {"csrf_token": "wrong"})):
            response = client.request(method, url, data=data)
            assert response.status_code == 403, (url, response.status_code)
        assert world.snapshot() == before
        assert world.ctx.models.get(OWN).description == description
        # with the token (header, or form field for a classic form post) it works
        ok = client.patch(f"/api/v1/models/{OWN}", json={"description": "with csrf"},
                          headers=authkit.csrf_headers(csrf))
        assert ok.status_code == 200 and world.ctx.models.get(OWN).description == "with csrf"
        # (again=1: the world has a run of OWN queued, and Train asks before queueing another)
        assert client.post(f"/models/{OWN}/train", data={"csrf_token": csrf, "again": "1"}).status_code == 303
        assert len(world.executor.submitted) == 1
        # reading needs no CSRF token
        assert client.get(f"/api/v1/models/{OWN}").status_code == 200


def test_every_state_changing_route_checks_csrf_for_sessions(world: World) -> None:
    """Enumerated: no cookie-authenticated POST/PUT/PATCH/DELETE gets past the CSRF check."""
    from tests.security.routemap import STATE_CHANGING, fill_path

    with world.client() as client:
        authkit.session(client, world.ctx, "admin", ADMIN)
        before = world.snapshot()
        values = world.path_values()
        checked = 0
        for route in app_routes(client.app)[0]:  # type: ignore[arg-type]
            if route.public:
                continue
            for method, path in route.requests():
                if method not in STATE_CHANGING:
                    continue
                response = client.request(method, fill_path(path, values))
                assert response.status_code == 403, (method, path, response.status_code)
                if not route.page:
                    assert response.json()["error"]["code"] == "csrf_failed", (method, path)
                checked += 1
        assert checked > 25
        assert world.snapshot() == before


def test_bearer_requests_need_no_csrf_token(world: World) -> None:
    with world.client() as client:
        client.headers.update(authkit.bearer(world.ctx, "ed", EDITOR))
        assert client.patch(f"/api/v1/models/{OWN}", json={"description": "bearer"}).status_code == 200
        assert client.post(f"/models/{OWN}/train").status_code == 303
        assert world.ctx.models.get(OWN).description == "bearer"


def test_a_bearer_token_wins_over_a_session_cookie(world: World) -> None:
    """A viewer's token sent beside an admin's session cookie acts as the viewer."""
    with world.client() as client:
        authkit.session(client, world.ctx, "admin", ADMIN)
        viewer = authkit.bearer(world.ctx, "vic", VIEWER)
        response = client.patch(f"/api/v1/models/{CLI}", json={"description": "x"}, headers=viewer)
        assert response.status_code == 403
