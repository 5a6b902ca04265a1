"""The model editor as a workbench (issue 12, items 2 and 3), in headless Chromium against a
real `softquery serve`: choosing a template loads it (asking only for edited code), Save &
Train / Save & Predict with the last run's status and output on the page, Ctrl-S / Cmd-S,
a warning before leaving unsaved changes, and save errors that go once they no longer apply."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Dialog, Page, expect
from tests.e2e.kit import RUN_TIMEOUT_MS, Server, editor_text, set_editor

TRAIN_SQL = "select id, price, quality from houses where quality is not null"
PREDICT_SQL = "select id, price from houses where quality is null"
PRINTING_CODE = '''\
import time

from sklearn.linear_model import LinearRegression


class Model:
    def __init__(self):
        self.m = LinearRegression()

    def train(self, X, y):
        print("hello from train", len(X), flush=True)
        time.sleep(2)
        self.m.fit(X, y)

    def predict(self, X):
        return self.m.predict(X)
'''


def make_model(server: Server, name: str, **fields: Any) -> None:
    body = {"name": name, "source": "demo", "template": "linear_regression", "train_sql": TRAIN_SQL,
            "predict_sql": PREDICT_SQL, **fields}
    with server.api() as client:
        client.post("/models", json=body).raise_for_status()


def model_of(server: Server, name: str) -> dict[str, Any]:
    with server.api() as client:
        return dict(client.get(f"/models/{name}").raise_for_status().json())


def wait_for(page: Page, condition: Callable[[], bool], timeout: float = 10) -> None:
    """Poll ``condition`` (something the test's own handlers record) until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the browser"
        page.wait_for_timeout(50)


def open_editor(page: Page, name: str) -> None:
    page.goto(f"/models/{name}/edit")
    page.wait_for_function("window.softqueryEditors && window.softqueryEditors.code")


class Answers:
    """Answers window.confirm dialogs in order, and remembers what each asked."""

    def __init__(self, page: Page) -> None:
        self.asked: list[str] = []
        self.answers: list[bool] = []
        page.on("dialog", self.answer)

    def answer(self, dialog: Dialog) -> None:
        self.asked.append(f"{dialog.type}: {dialog.message}")
        if self.answers.pop(0) if self.answers else False:
            dialog.accept()
        else:
            dialog.dismiss()


def test_choosing_a_template_loads_it_and_asks_only_for_edited_code(page: Page, server: Server) -> None:
    page.goto("/new")
    page.wait_for_function("window.softqueryEditors && window.softqueryEditors.code")
    answers = Answers(page)
    select = page.get_by_test_id("template-select")

    # unedited code: the chosen template loads at once, nothing asked
    select.select_option("ridge_regression")
    page.wait_for_function("window.softqueryEditors.code.getValue().includes('Ridge')")
    assert answers.asked == []
    expect(page.locator("#template")).to_have_value("ridge_regression")
    expect(page.get_by_test_id("template-description")).not_to_be_empty()

    # edited code: asked first; "cancel" keeps the code and the previous choice
    edited = editor_text(page, "code") + "\n# my change\n"
    set_editor(page, "code", edited)
    select.select_option("random_forest_regressor")
    expect(select).to_have_value("ridge_regression")
    assert len(answers.asked) == 1 and "Replace your edited code" in answers.asked[0]
    assert editor_text(page, "code") == edited
    expect(page.locator("#template")).to_have_value("ridge_regression")

    # asked again, "OK" loads the template
    answers.answers.append(True)
    select.select_option("random_forest_regressor")
    page.wait_for_function("window.softqueryEditors.code.getValue().includes('RandomForestRegressor')")
    assert len(answers.asked) == 2
    assert "# my change" not in editor_text(page, "code")
    expect(page.locator("#template")).to_have_value("random_forest_regressor")

    # "Create model" saves the code that is on screen, under the chosen template
    page.get_by_test_id("field-name").fill("template_choice_e2e")
    page.get_by_test_id("field-source").select_option("demo")
    set_editor(page, "train_sql", TRAIN_SQL)
    set_editor(page, "predict_sql", PREDICT_SQL)
    page.get_by_test_id("save-button").click()
    expect(page).to_have_url(re.compile(r"/models/template_choice_e2e\?saved=1$"))
    model = model_of(server, "template_choice_e2e")
    assert model["template"] == "random_forest_regressor"
    assert "RandomForestRegressor" in model["code"]


def test_save_and_train_then_save_and_predict_show_the_run_on_the_editor(page: Page, server: Server) -> None:
    make_model(server, "workbench_e2e")
    open_editor(page, "workbench_e2e")
    predict = page.get_by_test_id("save-predict-button")
    expect(predict).to_be_disabled()  # no version yet
    expect(page.get_by_test_id("editor-run-none")).to_be_visible()

    set_editor(page, "code", PRINTING_CODE)
    page.get_by_test_id("save-train-button").click()
    expect(page).to_have_url(re.compile(r"/models/workbench_e2e/edit\?saved=1"))
    run = page.get_by_test_id("editor-run")
    # the panel follows the run without a reload: running (the code sleeps), then succeeded
    expect(run).to_have_attribute("data-status", re.compile("queued|running"))
    expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_test_id("editor-run-summary")).to_contain_text("Trained version 1")
    stdout = page.get_by_test_id("editor-stdout")
    expect(stdout.get_by_test_id("editor-stdout-text")).to_contain_text("hello from train")
    assert "hello from train" in model_of(server, "workbench_e2e")["code"]  # saved before training
    # stdout is collapsible (open at first when short; the fits' headings can make it long)
    text = stdout.get_by_test_id("editor-stdout-text")
    was_open = bool(stdout.evaluate("details => details.open"))
    for now_open in (not was_open, was_open):
        stdout.locator("summary").click()
        expect(text).to_be_visible() if now_open else expect(text).to_be_hidden()

    expect(predict).to_be_enabled()  # a version exists now
    page.get_by_test_id("field-description").fill("predicted from the editor")
    predict.click()
    expect(page).to_have_url(re.compile(r"/models/workbench_e2e/edit\?saved=1"))
    expect(page.get_by_test_id("editor-run-summary")).to_contain_text("predict", timeout=RUN_TIMEOUT_MS)
    expect(run).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_test_id("editor-run-summary")).to_contain_text("Wrote 20 rows")
    assert model_of(server, "workbench_e2e")["description"] == "predicted from the editor"


def test_ctrl_s_and_cmd_s_save(page: Page, server: Server) -> None:
    make_model(server, "keys_e2e")
    open_editor(page, "keys_e2e")
    page.get_by_test_id("field-description").fill("saved with ctrl-s")
    page.keyboard.press("Control+s")
    expect(page).to_have_url(re.compile(r"/models/keys_e2e/edit\?saved=1$"))
    expect(page.get_by_test_id("saved-notice")).to_be_visible()
    assert model_of(server, "keys_e2e")["description"] == "saved with ctrl-s"

    page.wait_for_function("window.softqueryEditors && window.softqueryEditors.train_sql")
    page.get_by_test_id("cm-train_sql").click()
    page.keyboard.press("End")
    page.keyboard.type(" and price > 0")
    with page.expect_navigation():
        page.keyboard.press("Meta+s")  # from inside a SQL editor, the Mac way
    expect(page.get_by_test_id("saved-notice")).to_be_visible()
    assert model_of(server, "keys_e2e")["train_sql"].endswith("and price > 0")


def test_leaving_with_unsaved_changes_asks_first_but_not_after_saving(page: Page, server: Server) -> None:
    make_model(server, "leave_e2e")
    open_editor(page, "leave_e2e")
    page.get_by_test_id("field-description").click()
    page.keyboard.type("not saved yet")
    answers = Answers(page)  # answers "stay on the page"
    page.get_by_test_id("nav-runs").click(no_wait_after=True)
    wait_for(page, lambda: any(a.startswith("beforeunload") for a in answers.asked))
    expect(page).to_have_url(re.compile(r"/models/leave_e2e/edit$"))
    expect(page.get_by_test_id("field-description")).to_have_value("not saved yet")

    page.get_by_test_id("save-button").click()  # saving is no leaving of unsaved work
    expect(page).to_have_url(re.compile(r"/models/leave_e2e/edit\?saved=1$"))
    answers.asked.clear()
    page.get_by_test_id("field-description").click()  # a user gesture, so the browser would ask
    page.get_by_test_id("nav-runs").click()
    expect(page).to_have_url(re.compile(r"/runs$"))
    assert answers.asked == []


def test_a_save_error_goes_away_once_it_no_longer_applies(page: Page, server: Server) -> None:
    page.goto("/new")
    name = page.get_by_test_id("field-name")
    name.fill("not a valid name!")
    page.get_by_test_id("save-button").click()
    error = page.get_by_test_id("error-name")
    summary = page.get_by_test_id("form-error-summary")
    expect(error).to_be_visible()
    expect(summary).to_be_visible()
    name.fill("a_valid_name_e2e")  # fixed: the error and the summary go
    expect(error).to_be_hidden()
    expect(summary).to_be_hidden()
    expect(name).not_to_have_attribute("aria-invalid", "true")
    name.fill("still not valid")  # not fixed: the error stays
    expect(error).to_be_visible()

    make_model(server, "save_error_e2e")
    open_editor(page, "save_error_e2e")
    good = editor_text(page, "code")
    set_editor(page, "code", good.replace("def train(self, X, y):", "def train(self, X):"))
    page.get_by_test_id("save-button").click()
    code_error = page.get_by_test_id("error-code")
    expect(code_error).to_be_visible()
    page.wait_for_function("window.softqueryEditors && window.softqueryEditors.code")
    set_editor(page, "code", good)
    expect(code_error).to_be_hidden()
    page.get_by_test_id("save-button").click()  # the next save succeeds: no error at all
    expect(page).to_have_url(re.compile(r"/models/save_error_e2e/edit\?saved=1$"))
    expect(page.get_by_test_id("error-code")).to_have_count(0)
    expect(page.get_by_test_id("form-error-summary")).to_have_count(0)
