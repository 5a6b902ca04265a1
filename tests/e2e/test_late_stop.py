"""A stop that comes too late, in headless Chromium: the training had already stored its
version when Stop was pressed (the store's "Too late" conflict). The card (on the model
page) and the run page say so as information, not as an error, and go on showing the run's
status until it has finished.

The run is put in that state for real through the store, as the integration test of the
late stop does (tests/integration/services/test_stop_too_late.py): a running training run
whose version is stored, its row written running at once so no job slot claims it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert, select
from tests.e2e.kit import Server

from softquery.clock import utcnow
from softquery.config import Settings
from softquery.domain import RunStatus
from softquery.services.context import ServiceContext, open_context
from softquery.store.database import write_tx
from softquery.store.tables import models, runs

MODEL = "house_late_stop_e2e"  # a copy of the demo's house_quality (linear regression: trains fast)
TOO_LATE = "Too late to stop: this run had already finished training and is saving version {}. " \
           "It will finish in a moment."


@pytest.fixture(scope="module")
def store(server: Server) -> Iterator[ServiceContext]:
    """The server's own store, opened beside it (the test plays the job that stores a version)."""
    with server.api() as client:
        client.post("/models/house_quality/duplicate", json={"new_name": MODEL}).raise_for_status()
        assert server.wait_run(client.post(f"/models/{MODEL}/train").raise_for_status().json()["id"]
                               )["status"] == "succeeded"
    ctx = open_context(Settings(home=server.home))
    try:
        yield ctx
    finally:
        ctx.close()


def _storing_run(ctx: ServiceContext) -> tuple[str, int]:
    """A training run of MODEL that is running and has stored its version (not yet finished)."""
    run_id = uuid.uuid4().hex[:12]
    now = utcnow()
    with write_tx(ctx.runs.engine) as conn:
        model_id = conn.execute(select(models.c.id).where(models.c.name == MODEL)).scalar()
        conn.execute(insert(runs).values(
            id=run_id, model_id=model_id, kind="train", status="running", trigger="cli", created_at=now,
            started_at=now, heartbeat_at=now, phase="storing the version", progress=0.95, stdout="", stderr=""))
    first = ctx.versions.get(MODEL, 1)
    stored = ctx.versions.add(MODEL, manifest=first.manifest, signature=first.signature,
                              artifact=ctx.versions.artifact(MODEL, 1), artifact_sha256=first.artifact_sha256,
                              run_id=run_id, activate=False, require_running=True)
    return run_id, stored.version


def test_a_late_stop_on_the_model_card_is_information(page: Page, store: ServiceContext) -> None:
    run_id, version = _storing_run(store)
    page.goto(f"/models/{MODEL}")
    card = page.get_by_test_id("model-card")
    expect(card.get_by_test_id("model-status")).to_have_text("running")
    card.get_by_test_id("stop-button").click()
    expect(card.get_by_test_id("stop-too-late")).to_have_text(TOO_LATE.format(version))
    expect(card.get_by_test_id("card-error")).to_have_count(0)
    expect(page.get_by_test_id("form-banner")).to_have_count(0)
    assert not store.runs.stop_requested(run_id)  # nothing was stopped
    store.runs.finish(run_id, RunStatus.SUCCEEDED)  # the job ends as it would
    expect(card.get_by_test_id("model-status")).not_to_have_text("running", timeout=10_000)  # refreshed
    expect(card.get_by_test_id("stop-too-late")).to_have_text(TOO_LATE.format(version))
    expect(card.get_by_test_id("stop-button")).to_have_count(0)


def test_a_late_stop_on_the_run_page_is_information(page: Page, store: ServiceContext) -> None:
    run_id, version = _storing_run(store)
    page.goto(f"/runs/{run_id}")
    expect(page.get_by_test_id("run-status")).to_have_text("running")
    page.get_by_test_id("stop-run-button").click()
    expect(page.get_by_test_id("stop-too-late")).to_have_text(TOO_LATE.format(version))
    expect(page.get_by_test_id("form-banner")).to_have_count(0)
    store.runs.finish(run_id, RunStatus.SUCCEEDED)
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=10_000)  # refreshed
    expect(page.get_by_test_id("stop-too-late")).to_have_text(TOO_LATE.format(version))
