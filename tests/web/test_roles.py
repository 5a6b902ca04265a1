"""What each role sees and may do on the pages, and CSRF on cookie sessions.

The UI asks the same policy the server enforces with; these tests check both sides:
the control is absent, and pressing it anyway (a hand-made request) gets 403.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.web.conftest import FakeExecutor, client_for
from tests.web.html import element, has_testid

from softquery.domain.accounts import Role
from softquery.services.context import ServiceContext

HX = {"HX-Request": "true"}


@pytest.fixture
def browser(demo_ctx: ServiceContext, executor: FakeExecutor) -> Iterator[TestClient]:
    with client_for(demo_ctx, executor, auth=False) as client:
        yield client


def as_role(client: TestClient, ctx: ServiceContext, username: str, role: Role) -> TestClient:
    client.headers.update(authkit.bearer(ctx, username, role))
    return client


def test_a_viewer_reads_but_sees_no_controls_and_gets_403(browser: TestClient, demo_ctx: ServiceContext) -> None:
    viewer = as_role(browser, demo_ctx, "vic", Role.VIEWER)
    home = viewer.get("/")
    assert home.status_code == 200 and has_testid(home.text, "model-card")
    for control in ("train-button", "predict-button", "edit-link", "nav-create", "create-model", "load-demo",
                    "nav-users", "nav-audit"):
        assert not has_testid(home.text, control), control
    assert has_testid(home.text, "read-only") and "viewer" in element(home.text, "nav-role")
    model = viewer.get("/models/house_quality").text
    assert not has_testid(model, "edit-link") and "admins" in element(model, "owner")
    sources = viewer.get("/sources").text
    assert not has_testid(sources, "add-source-form") and not has_testid(sources, "remove-source")
    assert has_testid(sources, "sources-admin-note")

    refused = viewer.post("/models/house_quality/train")
    assert refused.status_code == 403
    assert "Your role (viewer) may not do this" in element(refused.text, "error-message")
    assert "Viewers read; editors create models" in element(refused.text, "error-explain")
    assert demo_ctx.runs.list("house_quality", None, 5) == []
    flash = viewer.post("/models/house_quality/train", headers=HX)
    assert flash.headers["X-Softquery-Status"] == "403" and flash.headers["HX-Retarget"] == "#flash"
    for path in ("/new", "/models/house_quality/edit", "/admin/users", "/admin/audit"):
        assert viewer.get(path).status_code == 403, path
    assert viewer.post("/sources", data={"name": "x", "url": "sqlite://"}).status_code == 403


def test_an_editor_changes_own_models_only(browser: TestClient, demo_ctx: ServiceContext) -> None:
    editor = as_role(browser, demo_ctx, "eve", Role.EDITOR)
    home = editor.get("/").text
    assert has_testid(home, "nav-create") and not has_testid(home, "train-button")  # demo models: admins'
    assert not has_testid(home, "load-demo") and not has_testid(home, "nav-users")
    copied = editor.post("/models/house_quality/duplicate", data={"new_name": "eves_houses"})
    assert copied.status_code == 303
    assert demo_ctx.models.get("eves_houses").owner == "eve"
    card = editor.get("/models/eves_houses/card").text
    assert has_testid(card, "train-button") and has_testid(card, "edit-link")
    assert element(card, "model-owner").endswith(">eve</")
    assert editor.get("/models/eves_houses/edit").status_code == 200
    assert editor.post("/models/eves_houses/train").status_code == 303
    refused = editor.post("/models/house_quality/edit", data={"description": "mine now"})
    assert refused.status_code == 403 and "owner or an admin" in element(refused.text, "error-message")
    assert demo_ctx.models.get("house_quality").description != "mine now"
    assert editor.post("/models/house_quality/delete", data={"confirm": "house_quality"}).status_code == 403
    demo_ctx.models.get("house_quality")  # still there


def test_an_admin_sees_everything(browser: TestClient, demo_ctx: ServiceContext) -> None:
    admin = as_role(browser, demo_ctx, "root", Role.ADMIN)
    home = admin.get("/").text
    for control in ("train-button", "edit-link", "nav-create", "nav-users", "nav-audit"):
        assert has_testid(home, control), control
    assert has_testid(admin.get("/sources").text, "add-source-form")


def test_a_cookie_session_post_needs_the_csrf_token(browser: TestClient, demo_ctx: ServiceContext,
                                                    executor: FakeExecutor) -> None:
    csrf = authkit.session(browser, demo_ctx, "root", Role.ADMIN)
    page = browser.get("/").text
    assert f'<meta name="csrf-token" content="{csrf}">' in page
    assert f'"X-CSRF-Token": "{csrf}"' in page  # hx-headers on <body>
    assert page.count(f'name="csrf_token" value="{csrf}"') >= 3  # train, predict, logout...

    missing = browser.post("/models/house_quality/train")
    assert missing.status_code == 403 and "CSRF" in element(missing.text, "error-message")
    forged = browser.post("/models/house_quality/train", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert demo_ctx.runs.list("house_quality", None, 5) == [] and executor.submitted == []

    with_form = browser.post("/models/house_quality/train", data={"csrf_token": csrf})
    assert with_form.status_code == 303 and len(executor.submitted) == 1
    with_header = browser.post("/models/iris_species/train", headers={**HX, "X-CSRF-Token": csrf})
    assert with_header.status_code == 200 and len(executor.submitted) == 2


def test_every_post_form_on_the_pages_carries_the_csrf_token(browser: TestClient,
                                                             demo_ctx: ServiceContext) -> None:
    csrf = authkit.session(browser, demo_ctx, "root", Role.ADMIN)
    for path in ("/", "/models/house_quality", "/models/house_quality/edit", "/models/house_quality/delete",
                 "/sources", "/account", "/admin/users"):
        html = browser.get(path).text
        forms = html.split("<form")[1:]
        posts = [f for f in forms if 'method="post"' in f.split(">", 1)[0]]
        assert posts, path
        for form in posts:
            body = form.split("</form>", 1)[0]
            assert f'name="csrf_token" value="{csrf}"' in body, (path, form[:120])


def test_an_admin_hands_a_model_to_an_editor(browser: TestClient, demo_ctx: ServiceContext) -> None:
    authkit.user(demo_ctx, "eve", Role.EDITOR)
    admin = as_role(browser, demo_ctx, "root", Role.ADMIN)
    assert has_testid(admin.get("/models/house_quality").text, "owner-form")
    moved = admin.post("/models/house_quality/owner", data={"owner": "eve"})
    assert moved.status_code == 303 and demo_ctx.models.get("house_quality").owner == "eve"
    assert "eve" in element(admin.get(moved.headers["location"]).text, "notice")
    browser.headers.update(authkit.bearer(demo_ctx, "eve", Role.EDITOR))
    page = browser.get("/models/house_quality").text
    assert has_testid(page, "edit-link") and not has_testid(page, "owner-form")
    assert browser.post("/models/house_quality/owner", data={"owner": ""}).status_code == 403
    assert browser.post("/models/house_quality/train").status_code == 303
