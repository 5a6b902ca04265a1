"""The models page: table view and filters from the URL, the view remembered, Duplicate and
Delete on the cards, Train asking while a run is going, errors on the card, Predict disabled
until there is a version."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests import authkit
from tests.web.conftest import FakeExecutor, client_for
from tests.web.html import element, has_testid

from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.domain.accounts import Role
from softquery.services.context import ServiceContext
from softquery.web.list_view import VIEW_COOKIE

HX = {"HX-Request": "true"}


def _rows(html: str) -> list[str]:
    return re.findall(r'data-testid="model-row" data-model="([^"]+)"', html)


def test_table_view_filters_and_sorts_in_the_url(demo_client: TestClient, demo_ctx: ServiceContext) -> None:
    every = _rows(demo_client.get("/?view=table").text)
    assert len(every) == len(demo_ctx.models.list()) and every == sorted(every)
    assert _rows(demo_client.get("/?view=table&q=IRIS").text) == ["iris_species"]
    assert _rows(demo_client.get("/?view=table&sort=name&order=desc").text) == sorted(every, reverse=True)
    demo_ctx.runs.finish(demo_ctx.runs.create("wine_cultivar", RunKind.TRAIN, RunTrigger.WEB).id, RunStatus.FAILED)
    failed = demo_client.get("/?view=table&status=failed").text
    assert _rows(failed) == ["wine_cultivar"] and "1 of" in element(failed, "models-count")
    assert has_testid(failed, "clear-filters")
    none = demo_client.get("/?view=table&q=nothing_like_this").text
    assert has_testid(none, "models-none-match") and _rows(none) == []
    bad = demo_client.get("/?status=nonsense")
    assert bad.status_code == 422 and has_testid(bad.text, "error-page")


def test_the_view_is_remembered(demo_client: TestClient) -> None:
    table = demo_client.get("/?view=table")
    assert has_testid(table.text, "models-table") and table.cookies.get(VIEW_COOKIE) == "table"
    again = demo_client.get("/")
    assert has_testid(again.text, "models-table") and not has_testid(again.text, "model-card")
    cards = demo_client.get("/?view=cards")
    assert has_testid(cards.text, "model-card") and not has_testid(cards.text, "models-table")


def test_cards_have_duplicate_and_delete(demo_client: TestClient) -> None:
    card = demo_client.get("/models/house_quality/card").text
    assert 'href="/models/house_quality/duplicate"' in card and 'href="/models/house_quality/delete"' in card


def test_duplicate_suggests_a_free_name(demo_client: TestClient) -> None:
    page = demo_client.get("/models/house_quality/duplicate").text
    assert 'value="house_quality_copy"' in element(page, "duplicate-name")
    assert demo_client.post("/models/house_quality/duplicate", data={"new_name": "house_quality_copy"}
                            ).status_code == 303
    page = demo_client.get("/models/house_quality/duplicate").text
    assert 'value="house_quality_copy_2"' in element(page, "duplicate-name")
    taken = demo_client.post("/models/house_quality/duplicate", data={"new_name": "house_quality_copy"})
    assert taken.status_code == 200 and has_testid(taken.text, "form-banner")
    assert 'aria-invalid="true"' in element(taken.text, "duplicate-name")
    assert 'data-value="house_quality_copy_2"' in element(taken.text, "use-suggestion")


def test_a_read_only_model_page_offers_duplicate(demo_ctx: ServiceContext, executor: FakeExecutor) -> None:
    with client_for(demo_ctx, executor, auth=False) as client:
        client.headers.update(authkit.bearer(demo_ctx, "eve", Role.EDITOR))
        page = client.get("/models/house_quality").text
        assert has_testid(page, "read-only-note") and has_testid(page, "read-only-duplicate")
        assert not has_testid(page, "edit-link") and not has_testid(page, "delete-link")
        card = client.get("/models/house_quality/card").text
        assert has_testid(card, "read-only") and has_testid(card, "duplicate-link")
        assert client.get("/models/house_quality/duplicate").status_code == 200


def test_train_while_a_run_is_going_asks_first(demo_client: TestClient, demo_ctx: ServiceContext,
                                               executor: FakeExecutor) -> None:
    assert demo_client.post("/models/house_quality/train", headers=HX).status_code == 200
    first = demo_ctx.runs.list("house_quality", None, 1)[0]
    asked = demo_client.post("/models/house_quality/train", headers=HX).text
    assert len(demo_ctx.runs.list("house_quality", None, 10)) == 1  # nothing queued yet
    assert first.id in element(asked, "going-run") and has_testid(asked, "confirm-run")
    assert 'hx-trigger="every 2s"' not in asked  # the question stays until answered
    plain = demo_client.post("/models/house_quality/train")
    assert plain.status_code == 303 and plain.headers["location"] == "/models/house_quality/train"
    assert first.id in element(demo_client.get(plain.headers["location"]).text, "going-run")
    confirmed = demo_client.post("/models/house_quality/train", data={"again": "1"}, headers=HX).text
    runs = demo_ctx.runs.list("house_quality", None, 10)
    assert len(runs) == 2 and executor.submitted == [first.id, runs[0].id]
    # the card shows the first run (the one going) and lists the one waiting behind it
    assert element(confirmed, "run-result").count(first.id) and has_testid(confirmed, "waiting-run")
    assert runs[0].id in element(confirmed, "waiting-run")


def test_errors_show_on_their_card_and_predict_waits_for_a_version(demo_client: TestClient) -> None:
    card = demo_client.get("/models/house_quality/card").text
    assert "disabled" in element(card, "predict-button")
    refused = demo_client.post("/models/house_quality/predict", headers=HX)
    assert refused.headers["X-Softquery-Status"] == "409" and has_testid(refused.text, "card-error")
    page = demo_client.post("/models/house_quality/predict")
    assert page.status_code == 409 and "no trained version" in element(page.text, "start-error-message")
