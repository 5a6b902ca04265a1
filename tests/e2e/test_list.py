"""The models list in headless Chromium (issue 12): a table view with search, filters and sort
over many models, remembered; Duplicate and Delete on the cards and the model page (also for a
model the user may not change); Train asks while a run of the model is going and the card
shows that run; Predict waits for a version; an error shows on the card it belongs to."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests import authkit
from tests.e2e.kit import (
    PHONE,
    RUN_TIMEOUT_MS,
    Server,
    card,
    expect_status,
    horizontal_overflow,
    log_in,
)

from softquery.config import Settings
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.domain.accounts import Role
from softquery.services import models as models_svc
from softquery.services.context import open_context

Shot = Callable[[Page, str], Path]
FLEET = [f"fleet_{i:02d}" for i in range(24)]
SLOW_CODE = '''\
import time


class Model:
    def train(self, X, y):
        for epoch in range(1200):
            print("epoch", epoch, flush=True)
            time.sleep(0.1)

    def predict(self, X):
        return [0.0] * len(X)
'''


def _delete(server: Server, *names: str) -> None:
    with server.api() as client:
        for name in names:
            client.delete(f"/models/{name}")


@pytest.fixture
def fleet(server: Server) -> Iterator[list[str]]:
    """24 more models: every 4th scheduled, fleet_00..07 owned by the editor fran, a failed run
    on fleet_05; deleted afterwards (other tests share the server)."""
    with server.api() as client:
        for i, name in enumerate(FLEET):
            client.post("/models/house_quality/duplicate", json={"new_name": name}).raise_for_status()
            if i % 4 == 0:
                client.patch(f"/models/{name}", json={"schedule": "daily"}).raise_for_status()
    ctx = open_context(Settings(home=server.home))
    try:
        authkit.user(ctx, "fran", Role.EDITOR)
        for name in FLEET[:8]:
            models_svc.set_owner(ctx, name, "fran")
        ctx.runs.finish(ctx.runs.create("fleet_05", RunKind.TRAIN, RunTrigger.WEB).id, RunStatus.FAILED)
    finally:
        ctx.close()
    try:
        yield FLEET
    finally:
        _delete(server, *FLEET)


def _rows(page: Page) -> list[str]:
    return [str(r.get_attribute("data-model")) for r in page.get_by_test_id("model-row").all()]


def test_table_view_searches_filters_and_sorts_many_models(page: Page, fleet: list[str], shot: Shot) -> None:
    page.goto("/")
    expect(page.get_by_test_id("model-card").first).to_be_visible()
    page.get_by_test_id("view-table").click()
    expect(page).to_have_url(re.compile(r"view=table"))
    table = page.get_by_test_id("models-table")
    expect(table).to_be_visible()
    expect(page.get_by_test_id("model-card")).to_have_count(0)

    page.get_by_test_id("filter-search").fill("fleet")
    page.get_by_test_id("filter-search").press("Enter")
    expect(page.get_by_test_id("model-row")).to_have_count(24)
    expect(page.get_by_test_id("models-count")).to_contain_text("24 of")

    page.get_by_test_id("filter-owner").select_option("fran")  # applies at once
    expect(page.get_by_test_id("model-row")).to_have_count(8)
    expect(page).to_have_url(re.compile(r"owner=fran"))
    page.get_by_test_id("filter-schedule").select_option("scheduled")
    expect(page.get_by_test_id("model-row")).to_have_count(2)
    assert _rows(page) == ["fleet_00", "fleet_04"]
    expect(page.get_by_test_id("row-schedule").first).to_contain_text("daily")

    page.get_by_test_id("filter-schedule").select_option("")
    page.get_by_test_id("filter-status").select_option("failed")
    expect(page.get_by_test_id("model-row")).to_have_count(1)
    expect(page.get_by_test_id("row-status")).to_have_text("failed")
    assert _rows(page) == ["fleet_05"]
    shot(page, "models-table-filtered")

    page.get_by_test_id("clear-filters").click()
    page.get_by_test_id("filter-search").fill("fleet")
    page.get_by_test_id("filter-search").press("Enter")
    expect(page.get_by_test_id("model-row")).to_have_count(24)
    page.get_by_test_id("sort-name").click()  # sorted by name already: again reverses
    expect(page.get_by_test_id("model-row").first).to_have_attribute("data-model", "fleet_23")
    assert _rows(page) == sorted(fleet, reverse=True)
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    page.get_by_test_id("sort-owner").click()
    expect(page.get_by_test_id("row-owner").last).to_have_text("fran")

    # the view is remembered: the nav's Models link opens the table again
    page.get_by_test_id("nav-models").click()
    expect(page.get_by_test_id("models-table")).to_be_visible()
    page.get_by_test_id("view-cards").click()
    expect(page.get_by_test_id("model-card").first).to_be_visible()
    page.get_by_test_id("nav-models").click()
    expect(page.get_by_test_id("model-card").first).to_be_visible()
    expect(page.get_by_test_id("models-table")).to_have_count(0)


def test_both_views_fit_a_phone(new_page: Callable[..., Page], shot: Shot) -> None:
    page = new_page(viewport=PHONE)
    for view in ("cards", "table"):
        page.goto(f"/?view={view}")
        expect(page.get_by_test_id("model-filters")).to_be_visible()
        shot(page, f"models-{view}-phone")
        assert horizontal_overflow(page) == 0, f"the {view} view scrolls sideways on a phone"


def test_duplicate_and_delete_from_the_card(page: Page, server: Server, shot: Shot) -> None:
    source = "cocacola_fans"
    page.goto("/")
    card(page, source).get_by_test_id("duplicate-link").click()
    expect(page).to_have_url(re.compile(rf"/models/{source}/duplicate$"))
    expect(page.get_by_test_id("duplicate-name")).to_have_value(f"{source}_copy")
    shot(page, "duplicate")
    page.get_by_test_id("duplicate-button").click()
    expect(page).to_have_url(re.compile(rf"/models/{source}_copy/edit"))
    try:
        page.goto("/")
        card(page, source).get_by_test_id("duplicate-link").click()
        expect(page.get_by_test_id("duplicate-name")).to_have_value(f"{source}_copy_2")  # the next free name

        page.goto("/")
        card(page, f"{source}_copy").get_by_test_id("delete-link").click()
        expect(page.get_by_test_id("confirm-delete")).to_be_visible()
        page.get_by_test_id("confirm-delete-button").click()
        expect(page.get_by_test_id("notice")).to_contain_text("deleted")
        expect(card(page, f"{source}_copy")).to_have_count(0)
    finally:
        _delete(server, f"{source}_copy")


def test_model_page_has_duplicate_and_delete_and_a_read_only_model_says_duplicate_it(
        new_page: Callable[..., Page], server: Server) -> None:
    admin = new_page()
    admin.goto("/models/house_quality")
    expect(admin.get_by_test_id("model-actions").get_by_test_id("duplicate-link")).to_be_visible()
    expect(admin.get_by_test_id("model-actions").get_by_test_id("delete-link")).to_be_visible()
    admin.get_by_test_id("model-actions").get_by_test_id("delete-link").click()
    expect(admin.get_by_test_id("confirm-delete")).to_be_visible()
    admin.get_by_test_id("cancel-delete").click()
    expect(admin).to_have_url(re.compile(r"/models/house_quality$"))

    ctx = open_context(Settings(home=server.home))
    try:
        authkit.user(ctx, "gus", Role.EDITOR)
    finally:
        ctx.close()
    page = new_page(logged_in=False)
    log_in(page, "gus", authkit.PASSWORD)
    page.goto("/models/house_quality")
    note = page.get_by_test_id("read-only-note")
    expect(note).to_contain_text("make your own copy")
    expect(page.get_by_test_id("edit-link")).to_have_count(0)
    expect(page.get_by_test_id("model-actions").get_by_test_id("delete-link")).to_have_count(0)
    note.get_by_test_id("read-only-duplicate").click()
    expect(page.get_by_test_id("duplicate-name")).to_have_value("house_quality_copy")
    page.get_by_test_id("duplicate-name").fill("gus_houses")
    page.get_by_test_id("duplicate-button").click()
    try:
        expect(page).to_have_url(re.compile(r"/models/gus_houses/edit"))  # the copy is gus's to change
        page.goto("/models/gus_houses")
        expect(page.get_by_test_id("owner")).to_have_text("gus")
        expect(page.get_by_test_id("read-only-note")).to_have_count(0)
    finally:
        _delete(server, "gus_houses")


def test_train_asks_while_a_run_is_going_and_the_card_shows_it(page: Page, server: Server, shot: Shot) -> None:
    name = "guarded_e2e"
    with server.api() as client:
        client.post("/models", json={
            "name": name, "source": "demo", "code": SLOW_CODE,
            "train_sql": "select price, quality from houses where quality is not null",
            "predict_sql": "select price from houses where quality is null"}).raise_for_status()
    try:
        page.goto(f"/?q={name}")
        model = card(page, name)
        expect(model.get_by_test_id("predict-button")).to_be_disabled()  # no version yet
        model.get_by_test_id("train-button").click()
        expect_status(page, name, "running")
        first = str(model.get_by_test_id("run-result").get_attribute("data-run"))

        model.get_by_test_id("train-button").click()
        confirm = model.get_by_test_id("run-confirm")
        expect(confirm).to_be_visible()
        expect(confirm.get_by_test_id("going-run")).to_contain_text(first)
        expect(confirm.get_by_test_id("going-run")).to_contain_text("running")
        shot(page, "train-confirm")
        with server.api() as client:
            assert len(client.get(f"/models/{name}/runs").raise_for_status().json()) == 1  # nothing queued
        confirm.get_by_test_id("cancel-run").click()
        expect(model.get_by_test_id("run-confirm")).to_have_count(0)

        model.get_by_test_id("train-button").click()
        model.get_by_test_id("confirm-run").click()
        # the card keeps showing the run that is going; the new one waits behind it
        waiting = model.get_by_test_id("waiting-run")
        expect(waiting).to_have_count(1)
        expect(model.get_by_test_id("run-result")).to_have_attribute("data-run", first)
        expect(model).to_have_attribute("data-status", "running")
        second = str(waiting.get_attribute("data-run"))
        assert second != first
        shot(page, "train-waiting")

        model.get_by_test_id("stop-button").click()
        expect_status(page, name, "cancelled", timeout=30_000)
        for run_id in (first, second):
            assert server.wait_run(run_id)["status"] == "cancelled"
    finally:
        _delete(server, name)


def test_an_error_shows_on_its_card(page: Page, server: Server, trained_iris: str) -> None:
    """A stale page: the model was replaced by one without versions after the page loaded."""
    name = "stale_e2e"
    with server.api() as client:
        client.post(f"/models/{trained_iris}/duplicate", json={"new_name": name}).raise_for_status()
        run = client.post(f"/models/{name}/train").raise_for_status().json()
    try:
        assert server.wait_run(run["id"])["status"] == "succeeded"
        page.goto(f"/?q={name}")
        model = card(page, name)
        expect(model.get_by_test_id("predict-button")).to_be_enabled()
        with server.api() as client:
            client.delete(f"/models/{name}")
            client.post(f"/models/{trained_iris}/duplicate", json={"new_name": name}).raise_for_status()
        model.get_by_test_id("predict-button").click()
        error = model.get_by_test_id("card-error")
        expect(error).to_contain_text("no trained version", timeout=RUN_TIMEOUT_MS)
        expect(page.get_by_test_id("flash-error")).to_have_count(0)
        model.get_by_test_id("dismiss-card-error").click()
        expect(model.get_by_test_id("card-error")).to_have_count(0)
        expect(model.get_by_test_id("predict-button")).to_be_disabled()
    finally:
        _delete(server, name)
