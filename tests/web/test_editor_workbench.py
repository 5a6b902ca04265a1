"""The editor's Save & Train / Save & Predict buttons and its last-run panel (issue 12, item 3);
the browser side is in tests/e2e/test_editor_workbench.py."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.api.conftest import FakeExecutor
from tests.web.html import element, has_testid
from tests.web.test_editor import form

from softquery.domain import RunKind, RunStatus
from softquery.services.context import ServiceContext


def test_create_and_train_saves_then_trains_and_opens_the_editor(demo_client: TestClient, demo_ctx: ServiceContext,
                                                                 executor: FakeExecutor) -> None:
    response = demo_client.post("/new", data=form(then="train"))
    assert response.status_code == 303 and response.headers["location"] == "/models/prices/edit?saved=1"
    runs = demo_ctx.runs.list("prices", None, 10)
    assert [(r.kind, r.status) for r in runs] == [(RunKind.TRAIN, RunStatus.QUEUED)]
    assert executor.submitted == [runs[0].id]
    page = demo_client.get(response.headers["location"]).text
    assert 'data-status="queued"' in page and 'hx-get="/models/prices/edit/run"' in page
    assert ">queued</" in element(page, "editor-run-status") and f"/runs/{runs[0].id}" in page
    assert 'data-testid="save-predict-button" disabled' in page  # no version yet


def test_save_and_predict_without_a_version_saves_and_says_why_no_run(demo_client: TestClient,
                                                                       demo_ctx: ServiceContext) -> None:
    assert demo_client.post("/new", data=form()).status_code == 303
    response = demo_client.post("/models/prices/edit", data=form(then="predict", description="changed"))
    assert response.status_code == 200
    assert "The run did not start" in element(response.text, "form-error")
    assert has_testid(response.text, "saved-notice") and "data-unsaved" not in response.text
    assert demo_ctx.models.get("prices").description == "changed"
    assert demo_ctx.runs.list("prices", None, 10) == []


def test_plain_save_starts_nothing_and_the_panel_says_so(demo_client: TestClient, demo_ctx: ServiceContext) -> None:
    assert demo_client.post("/new", data=form()).status_code == 303
    response = demo_client.post("/models/prices/edit", data=form(description="again"))
    assert response.status_code == 303 and response.headers["location"] == "/models/prices/edit?saved=1"
    assert demo_ctx.runs.list("prices", None, 10) == []
    fragment = demo_client.get("/models/prices/edit/run").text
    assert has_testid(fragment, "editor-run-none") and "hx-get" not in fragment
