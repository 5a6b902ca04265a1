"""Train / Predict / Stop buttons, live fragments, failed runs, activating a version."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.web.conftest import FakeExecutor, client_for, open_home, train_now
from tests.web.html import element, has_testid

from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.services.context import ServiceContext

HX = {"HX-Request": "true"}


def test_train_button_queues_a_web_run(demo_client: TestClient, demo_ctx: ServiceContext,
                                       executor: FakeExecutor) -> None:
    response = demo_client.post("/models/house_quality/train")
    assert response.status_code == 303
    run = demo_ctx.runs.list("house_quality", None, 1)[0]
    assert (run.kind, run.status, run.trigger) == (RunKind.TRAIN, RunStatus.QUEUED, RunTrigger.WEB)
    assert executor.submitted == [run.id]


def test_htmx_train_returns_a_live_card(demo_client: TestClient) -> None:
    card = demo_client.post("/models/house_quality/train", headers=HX)
    assert card.status_code == 200
    assert 'hx-trigger="every 2s"' in card.text and 'data-status="queued"' in card.text
    assert has_testid(card.text, "stop-button")
    polled = demo_client.get("/models/house_quality/card", headers=HX)
    assert 'hx-trigger="every 2s"' in polled.text


def test_predict_needs_a_version(demo_client: TestClient) -> None:
    response = demo_client.post("/models/house_quality/predict", headers=HX)
    # on the card it belongs to (issue 12), no longer retargeted to the flash area at the top
    assert response.headers["X-Softquery-Status"] == "409" and "HX-Retarget" not in response.headers
    assert 'id="model-house_quality"' in response.text
    assert "no trained version" in element(response.text, "card-error-message")


def test_stop_cancels_the_queued_run(demo_client: TestClient, demo_ctx: ServiceContext,
                                     executor: FakeExecutor) -> None:
    demo_client.post("/models/house_quality/train")
    card = demo_client.post("/models/house_quality/stop", headers=HX)
    run = demo_ctx.runs.list("house_quality", None, 1)[0]
    assert run.status is RunStatus.CANCELLED and executor.cancelled == [run.id]
    assert 'data-status="cancelled"' in card.text and 'hx-trigger="every 2s"' not in card.text
    again = demo_client.post("/models/iris_species/train")
    assert again.status_code == 303
    run_id = demo_ctx.runs.list("iris_species", None, 1)[0].id
    live = demo_client.post(f"/runs/{run_id}/stop", headers=HX)
    assert 'data-status="cancelled"' in live.text and not has_testid(live.text, "stop-run-button")


def test_without_an_executor_runs_stay_queued_and_the_page_says_so(tmp_path: Path) -> None:
    ctx = open_home(tmp_path / "home", demo=True)
    with client_for(ctx, None) as client:
        client.post("/models/house_quality/train")
        html = client.get("/").text
        assert has_testid(html, "no-executor") and has_testid(html, "queued-note")
        run = ctx.runs.list("house_quality", None, 1)[0]
        assert run.status is RunStatus.QUEUED
        assert has_testid(client.get(f"/runs/{run.id}").text, "queued-note")
    ctx.close()


def test_failed_run_shows_the_message_before_the_traceback(demo_client: TestClient,
                                                           demo_ctx: ServiceContext) -> None:
    run = demo_ctx.runs.create("house_quality", RunKind.TRAIN, RunTrigger.WEB)
    demo_ctx.runs.update(run.id, stdout="line\n" * 40, stderr="warning: something\n")
    demo_ctx.runs.finish(run.id, RunStatus.FAILED, error={
        "code": "model_code_error", "message": "The model code raised ValueError at line 7: bad input",
        "details": {"traceback": "Traceback (most recent call last):\n  File \"<model code>\", line 7\nValueError: bad input"}})
    page = demo_client.get(f"/runs/{run.id}").text
    message = page.index('data-testid="run-error-message"')
    assert "bad input" in element(page, "run-error-message")
    assert message < page.index('data-testid="run-traceback"')
    home = demo_client.get("/").text
    card = home[home.index('id="model-house_quality"'):]
    assert has_testid(card, "run-error-message") and has_testid(card, "stdout-more")  # 40 lines: collapsed
    assert 'data-status="failed"' in card


def test_activate_an_older_version(tmp_path: Path) -> None:
    ctx = open_home(tmp_path / "home", demo=True)
    train_now(ctx, "house_quality")
    train_now(ctx, "house_quality")
    with client_for(ctx, FakeExecutor()) as client:
        response = client.post("/models/house_quality/versions/1/activate")
        assert response.status_code == 303
        assert ctx.models.get("house_quality").active_version == 1
        page = client.get(response.headers["location"]).text
        assert has_testid(page, "activate-version-2") and not has_testid(page, "activate-version-1")
        missing = client.post("/models/house_quality/versions/9/activate")
        assert missing.status_code == 404 and has_testid(missing.text, "error-page")
    ctx.close()


def test_a_late_stop_without_javascript_says_so_on_the_page_it_lands_on(trained_client: TestClient,
                                                                         trained_ctx: ServiceContext) -> None:
    """The Stop buttons without htmx: a stop after the training stored its version lands on the
    run page / model page, which says so as information (the store's "Too late" conflict)."""
    model = "house_quality"
    first = trained_ctx.versions.list(model)[0]
    for stop_url, landing in (("/runs/{run}/stop", "/runs/{run}?too_late={version}"),
                              (f"/models/{model}/stop", f"/models/{model}?too_late={{version}}")):
        run = trained_ctx.runs.create(model, RunKind.TRAIN, RunTrigger.WEB)
        trained_ctx.runs.mark_running(run.id)
        stored = trained_ctx.versions.add(model, manifest=first.manifest, signature=first.signature,
                                          artifact=trained_ctx.versions.artifact(model, first.version),
                                          artifact_sha256=first.artifact_sha256, run_id=run.id, activate=False,
                                          require_running=True)
        response = trained_client.post(stop_url.format(run=run.id), follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == landing.format(run=run.id, version=stored.version)
        page = trained_client.get(response.headers["location"])
        assert page.status_code == 200 and not has_testid(page.text, "flash-error")
        notice = element(page.text, "stop-too-late")
        assert 'class="alert info"' in notice and notice.endswith(
            f">Too late to stop: this run had already finished training and is saving version {stored.version}. "
            "It will finish in a moment.</")
        assert not trained_ctx.runs.stop_requested(run.id)
        trained_ctx.runs.finish(run.id, RunStatus.SUCCEEDED)


def test_a_stop_on_an_ended_run_says_so_as_information(demo_client: TestClient, demo_ctx: ServiceContext,
                                                       executor: FakeExecutor) -> None:
    """REVIEW_19 #13: the Stop of a run page pressed after the run ended (htmx, and without)
    says it had already ended; the status stays."""
    run = demo_ctx.runs.create("house_quality", RunKind.TRAIN, RunTrigger.WEB)
    demo_ctx.runs.mark_running(run.id)
    demo_ctx.runs.finish(run.id, RunStatus.SUCCEEDED)
    words = f"Run {run.id} had already succeeded; nothing to stop."
    live = demo_client.post(f"/runs/{run.id}/stop", headers=HX)
    assert live.status_code == 200 and 'data-status="succeeded"' in live.text
    notice = element(live.text, "stop-ended")
    assert 'class="alert info"' in notice and notice.endswith(f">{words}</")
    plain_post = demo_client.post(f"/runs/{run.id}/stop", follow_redirects=False)
    assert plain_post.status_code == 303 and plain_post.headers["location"] == f"/runs/{run.id}?ended=1"
    page = demo_client.get(plain_post.headers["location"]).text
    assert element(page, "stop-ended").endswith(f">{words}</") and not has_testid(page, "flash-error")
    assert demo_ctx.runs.get(run.id).status is RunStatus.SUCCEEDED and executor.cancelled == []
    assert not has_testid(demo_client.get(f"/runs/{run.id}").text, "stop-ended")  # only after a Stop
