"""Hyperparameter search in the browser: the editor's search form (method, a row per template
parameter, trials, time budget) is saved and read back; Save & Train runs the search; the
version page shows every trial (params, CV mean ± std, time; the chosen one marked) and a chart
of score against trial."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.e2e.kit import PHONE, RUN_TIMEOUT_MS, Server, horizontal_overflow

Shot = Callable[[Page, str], Path]
NAME = "quality_search"


def _make_model(server: Server) -> None:
    with server.api() as client:
        house = client.get("/models/house_quality").raise_for_status().json()
        client.post("/models", json={"name": NAME, "source": house["source"], "template": "ridge_regression",
                                     "train_sql": house["train_sql"], "predict_sql": house["predict_sql"],
                                     "label": house["label"]}).raise_for_status()


def _wait_version(server: Server) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    with server.api() as client:
        while True:
            model = client.get(f"/models/{NAME}").raise_for_status().json()
            run = model["last_run"]
            if run and run["status"] in ("failed", "cancelled"):
                raise AssertionError(f"the search run ended {run['status']}")
            if model["active_version"]:
                return
            assert time.monotonic() < deadline, "no version after the search run"
            time.sleep(0.2)


def test_the_editor_sets_a_search_and_the_version_page_shows_its_trials(
        page: Page, server: Server, shot: Shot, new_page: Callable[..., Page]) -> None:
    _make_model(server)
    page.goto(f"/models/{NAME}/edit")
    form = page.get_by_test_id("search-form")
    alpha = form.locator('[data-testid="search-param-row"][data-param="alpha"]')
    expect(alpha).to_contain_text("regularisation strength")  # the template's parameter, with its defaults
    form.get_by_test_id("field-search-method").select_option("grid")
    alpha.get_by_test_id("search-param-values").fill("0.01, 1000")
    form.get_by_test_id("field-time-budget").fill("600")
    form.scroll_into_view_if_needed()
    shot(page, "editor-search-form")
    page.get_by_test_id("save-train-button").click()
    _wait_version(server)

    # the editor reads back what was saved
    page.goto(f"/models/{NAME}/edit")
    form = page.get_by_test_id("search-form")
    expect(form.get_by_test_id("field-search-method")).to_have_value("grid")
    expect(form.locator('[data-param="alpha"]').get_by_test_id("search-param-values")).to_have_value("0.01, 1000")
    expect(form.get_by_test_id("field-time-budget")).to_have_value("600")

    page.goto(f"/models/{NAME}/versions/1")
    trials = page.get_by_test_id("trials-table")
    rows = trials.get_by_test_id("trial-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("alpha=0.01")
    expect(rows.nth(1)).to_contain_text("alpha=1000")
    for i in range(2):
        expect(rows.nth(i).get_by_test_id("trial-score")).to_have_text(re.compile(r"^-?[0-9.]+ ± [0-9.]+$"))
    chosen = trials.locator('[data-chosen="true"]')
    expect(chosen).to_have_count(1)
    expect(chosen.get_by_test_id("chosen-marker")).to_have_text("chosen")
    with server.api() as client:
        version = client.get(f"/models/{NAME}/versions/1").raise_for_status().json()
    selection = version["selection"]
    means = {t["number"]: t["cv_mean"] for t in selection["trials"]}
    assert selection["chosen"] == max(means, key=lambda n: means[n])
    expect(chosen).to_have_attribute("data-trial", str(selection["chosen"]))
    expect(page.get_by_test_id("search-reason")).to_contain_text(f"Chose trial {selection['chosen']}")
    expect(page.get_by_test_id("chart-search")).to_have_attribute("data-points", "2")
    shot(page, "version-search-trials")
    # both pages fit a phone (the tables scroll inside their frame)
    phone = new_page(viewport=PHONE)
    for url in (f"/models/{NAME}/edit", f"/models/{NAME}/versions/1"):
        phone.goto(url)
        expect(phone.get_by_test_id("search-form" if url.endswith("edit") else "trials-table")).to_be_attached()
        assert horizontal_overflow(phone) == 0, f"{url} scrolls sideways on a phone"
