"""The Files page's download and delete, and the SQL console completing ML functions and
CREATE MODEL's OPTIONS, in the browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.e2e.kit import PASSWORD, Server, log_in

Shot = Callable[[Page, str], Path]


def test_upload_download_and_delete_a_file(page: Page, server: Server, tmp_path: Path, shot: Shot) -> None:
    data = tmp_path / "round trip.csv"
    data.write_bytes(b"id,price\n1,2.5\n2,\xc3\xa9t\xc3\xa9\n")
    page.goto("/files")
    page.get_by_test_id("upload-file").set_input_files(str(data))
    page.get_by_test_id("upload-name").fill("e2e/round trip.csv")
    page.get_by_test_id("upload-button").click()
    row = page.locator('[data-testid="file-row"][data-path="e2e/round trip.csv"]')
    expect(row).to_have_count(1)
    with page.expect_download() as download:
        row.get_by_test_id("file-download").click()
    assert download.value.suggested_filename == "round trip.csv"
    assert Path(download.value.path()).read_bytes() == data.read_bytes()  # the bytes match
    row.get_by_test_id("file-delete").click()  # asks first
    confirm = row.get_by_test_id("file-delete-confirm")
    expect(confirm).to_be_visible()
    shot(page, "files-delete-confirm")
    confirm.click()
    expect(page.get_by_test_id("delete-notice")).to_have_text("Deleted e2e/round trip.csv.")
    expect(page.locator('[data-testid="file-row"][data-path="e2e/round trip.csv"]')).to_have_count(0)
    assert not (server.home / "files" / "e2e").exists()  # the folder it left empty is gone too


def test_a_viewer_downloads_but_has_no_delete_button(new_page: Callable[..., Page], server: Server) -> None:
    (server.home / "files" / "for_viewers.csv").write_bytes(b"a\n1\n")
    with server.api() as api:
        made = api.post("/users", json={"username": "filesviewer", "role": "viewer", "password": PASSWORD})
        assert made.status_code in (201, 409), made.text
    viewer = new_page(logged_in=False)
    log_in(viewer, "filesviewer", PASSWORD)
    viewer.goto("/files")
    row = viewer.locator('[data-testid="file-row"][data-path="for_viewers.csv"]')
    expect(row.get_by_test_id("file-download")).to_be_visible()
    expect(row.get_by_test_id("file-delete")).to_have_count(0)
    with viewer.expect_download() as download:
        row.get_by_test_id("file-download").click()
    assert Path(download.value.path()).read_bytes() == b"a\n1\n"
    (server.home / "files" / "for_viewers.csv").unlink()


def _console(page: Page) -> None:
    page.goto("/sql")
    page.wait_for_function("window.softquerySqlConsole !== undefined")
    expect(page.get_by_test_id("cm-console-sql")).to_have_attribute("data-names-loaded", "demo")
    page.get_by_test_id("cm-console-sql").click()


def _set_sql(page: Page, text: str) -> None:
    page.evaluate("t => { const cm = window.softquerySqlConsole; cm.setValue(t); cm.focus();"
                  " cm.setCursor(cm.lineCount(), 0); }", text)


def test_ctrl_space_completes_ml_functions_and_options(page: Page, shot: Shot) -> None:
    _console(page)
    _set_sql(page, "select * from ML.PRE")  # set, not typed: no completion is open yet
    expect(page.locator(".CodeMirror-hints")).to_have_count(0)
    page.keyboard.press("Control+Space")
    hints = page.locator(".CodeMirror-hints li")
    expect(hints.filter(has_text="ML.PREDICT")).to_have_count(1)
    shot(page, "sql-console-ml-function-completion")
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.softquerySqlConsole.getValue()") == "select * from ML.PREDICT"
    # inside OPTIONS( … ): CREATE MODEL's option names
    _set_sql(page, "create model m options(model_type='linear_reg', l2")
    page.keyboard.press("Control+Space")
    expect(page.locator(".CodeMirror-hints li").filter(has_text="l2_reg")).to_have_count(1)
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.softquerySqlConsole.getValue()").endswith("l2_reg")
