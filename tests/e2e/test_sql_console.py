"""The SQL console and the files folder in the browser: type a statement and Ctrl-Enter, see
the grid; a syntax error marked where it is; completion of model names; each user's own
history; uploading into the files folder (and a name that leaves it refused)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.e2e.kit import (
    PASSWORD,
    PHONE,
    RUN_TIMEOUT_MS,
    ConsoleWatch,
    Server,
    horizontal_overflow,
    log_in,
)

Shot = Callable[[Page, str], Path]


def _console(page: Page) -> None:
    page.goto("/sql")
    page.wait_for_function("window.softquerySqlConsole !== undefined")
    # completion names are in once the source's tables and the models arrived
    expect(page.get_by_test_id("cm-console-sql")).to_have_attribute("data-names-loaded", "demo")


def _set_sql(page: Page, text: str, cursor: tuple[int, int] | None = None) -> None:
    page.evaluate("([t, c]) => { const cm = window.softquerySqlConsole; cm.setValue(t); cm.focus();"
                  " if (c) { cm.setCursor({line: c[0], ch: c[1]}); } }", [text, list(cursor) if cursor else None])


def test_type_a_statement_ctrl_enter_and_see_the_grid(page: Page, shot: Shot) -> None:
    _console(page)
    expect(page.get_by_test_id("console-examples")).to_be_visible()  # the empty state's examples
    page.get_by_test_id("cm-console-sql").click()
    page.keyboard.type("select id, price from houses order by id limit 3")
    page.keyboard.press("Control+Enter")
    grid = page.get_by_test_id("result-grid")
    expect(grid).to_be_visible()
    expect(grid.locator("thead th")).to_have_count(2)
    expect(grid.locator("thead th").first).to_contain_text("id")
    expect(grid.locator("thead th").first).to_contain_text("int64")
    expect(grid.locator("tbody tr")).to_have_count(3)
    expect(grid.locator("tbody tr").first.locator("td").first).to_have_text("1")
    expect(page.get_by_test_id("result-meta")).to_have_text(re.compile(r"^3 rows · \d+\.\d\d s$"))
    expect(page.get_by_test_id("console-examples")).to_be_hidden()
    shot(page, "sql-console-grid")


def test_ctrl_enter_runs_the_statement_under_the_cursor_and_run_all_runs_all(page: Page) -> None:
    _console(page)
    script = "select count(*) as n from iris;\n\nselect id from houses where id <= 2 order by id;\nselect 7 as seven, 8 as eight;\n"
    _set_sql(page, script, (2, 10))  # inside the second statement
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("statement-result")).to_have_count(1)
    expect(page.get_by_test_id("result-grid").locator("tbody tr")).to_have_count(2)
    # the statement whose ; the cursor is just after
    _set_sql(page, script, (0, 31))
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("result-grid").locator("tbody td")).to_have_text(["150"])
    # a selection runs just what is selected
    page.evaluate("() => { const cm = window.softquerySqlConsole; cm.setSelection({line: 3, ch: 0}, {line: 3, ch: 17}); }")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("result-grid").locator("thead th")).to_have_count(1)
    expect(page.get_by_test_id("result-grid").locator("tbody td")).to_have_text(["7"])
    page.get_by_test_id("run-all").click()
    expect(page.get_by_test_id("statement-result")).to_have_count(3)
    expect(page.get_by_test_id("console-status")).to_contain_text("3 statements ran")


def test_a_syntax_error_is_marked_at_its_line_and_column(page: Page, shot: Shot, server: Server,
                                                         console: ConsoleWatch) -> None:
    console.allow_status(server.url + "/api/v1/sql", 422)  # the API's answer to a bad statement, by design
    _console(page)
    _set_sql(page, "select 1 as one;\nselect 'open from houses")
    page.get_by_test_id("run-all").click()
    error = page.get_by_test_id("console-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("data-line", "2")
    expect(error).to_have_attribute("data-column", "8")
    expect(error).to_contain_text("Line 2, column 8")
    expect(page.get_by_test_id("console-excerpt")).to_have_text("select 'open from houses\n       ^")
    mark = page.get_by_test_id("sql-error-mark")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(re.compile(r"^'open"))
    # the mark sits on the editor's second line, in the gutter too
    line_of_mark = page.evaluate("() => { const m = window.softquerySqlConsole.getAllMarks()[0].find(); "
                                 "return [m.from.line, m.from.ch]; }")
    assert line_of_mark == [1, 7]
    expect(page.get_by_test_id("sql-error-gutter")).to_have_count(1)
    expect(page.get_by_test_id("statement-result")).to_have_count(0)  # nothing ran
    shot(page, "sql-console-syntax-error")
    # a statement run alone is marked where it is in the editor, not in what was sent
    _set_sql(page, "select 1 as one;\n   select nope from houses", (1, 10))
    expect(mark).to_have_count(0)  # editing cleared the old mark
    page.keyboard.press("Control+Enter")
    expect(error).to_have_attribute("data-line", "2")
    expect(error).to_have_attribute("data-column", "11")  # at the unknown name, three blanks in
    expect(error).to_contain_text("nope")
    expect(mark).to_have_text("nope")


def test_completion_offers_a_model_name(page: Page, shot: Shot) -> None:
    _console(page)
    page.get_by_test_id("cm-console-sql").click()
    page.keyboard.type("select * from ML.PREDICT(MODEL house_q")  # other tests add house_* models
    hints = page.locator(".CodeMirror-hints li")
    expect(hints.first).to_be_visible()
    expect(hints.filter(has_text="house_quality")).to_have_count(1)
    shot(page, "sql-console-completion")
    page.keyboard.press("Enter")
    text = page.evaluate("() => window.softquerySqlConsole.getValue()")
    assert "MODEL house_quality" in text
    # tables and their columns complete too
    _set_sql(page, "")
    page.keyboard.type("select pet")
    expect(page.locator(".CodeMirror-hints li").filter(has_text="petal_length_cm")).to_have_count(1)


def test_results_link_to_the_model_version_and_run(page: Page, server: Server, shot: Shot) -> None:
    _console(page)
    _set_sql(page, "create model console_made options(model_type='linear_reg', input_label_cols=['quality'])\n"
                   "  as select price, quality from houses where quality is not null")
    page.keyboard.press("Control+Enter")
    result = page.get_by_test_id("statement-result")
    expect(result.get_by_test_id("result-message")).to_contain_text("model console_made: version 1 trained",
                                                                    timeout=RUN_TIMEOUT_MS)
    links = result.get_by_test_id("result-link")
    expect(links.filter(has_text="console_made version 1")).to_have_attribute("href", "/models/console_made/versions/1")
    expect(links.filter(has_text=re.compile(r"^run "))).to_have_attribute("href", re.compile(r"^/runs/[0-9a-f-]+$"))
    shot(page, "sql-console-links")
    links.filter(has_text="model console_made").click()
    expect(page).to_have_url(server.url + "/models/console_made")
    with server.api() as api:  # leave the demo as the other browser tests expect it
        assert api.delete("/models/console_made").status_code == 204


def test_history_shows_the_users_own_statements_only(page: Page, new_page: Callable[..., Page],
                                                     server: Server) -> None:
    with server.api() as api:
        made = api.post("/users", json={"username": "histviewer", "role": "viewer", "password": PASSWORD})
        assert made.status_code in (201, 409), made.text
    _console(page)
    _set_sql(page, "select 'only the admin ran this' as mine")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("result-grid")).to_be_visible()
    expect(page.get_by_test_id("history-item").first).to_have_text("select 'only the admin ran this' as mine")

    viewer = new_page(logged_in=False)
    log_in(viewer, "histviewer", PASSWORD)
    _console(viewer)
    expect(viewer.get_by_test_id("console-history")).to_have_attribute("data-loaded", "1")
    expect(viewer.get_by_test_id("history-item").filter(has_text="only the admin ran this")).to_have_count(0)
    _set_sql(viewer, "select 'the viewer ran this' as theirs")
    viewer.keyboard.press("Control+Enter")
    expect(viewer.get_by_test_id("history-item")).to_have_text(["select 'the viewer ran this' as theirs"])
    # clicking an entry puts it back in the editor
    _set_sql(viewer, "")
    viewer.get_by_test_id("history-item").first.click()
    assert viewer.evaluate("() => window.softquerySqlConsole.getValue()") == "select 'the viewer ran this' as theirs"

    page.reload()
    expect(page.get_by_test_id("console-history")).to_have_attribute("data-loaded", "1")
    expect(page.get_by_test_id("history-item").filter(has_text="the viewer ran this")).to_have_count(0)
    expect(page.get_by_test_id("history-item").filter(has_text="only the admin ran this")).to_have_count(1)


def test_upload_a_file_and_see_it_listed(page: Page, server: Server, tmp_path: Path, shot: Shot) -> None:
    data = tmp_path / "wine sample.csv"
    data.write_text("id,alcohol,quality\n1,12.5,6\n2,11.0,5\n")
    page.goto("/sql")
    page.get_by_test_id("nav-files").click()
    expect(page).to_have_url(server.url + "/files")
    page.get_by_test_id("upload-file").set_input_files(str(data))
    page.get_by_test_id("upload-name").fill("wine/sample.csv")
    page.get_by_test_id("upload-button").click()
    expect(page.get_by_test_id("upload-notice")).to_contain_text("wine/sample.csv")
    row = page.locator('[data-testid="file-row"][data-path="wine/sample.csv"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("37 bytes")
    assert (server.home / "files" / "wine" / "sample.csv").read_text() == data.read_text()
    shot(page, "files-uploaded")


def test_an_upload_name_leaving_the_folder_is_refused(page: Page, server: Server, tmp_path: Path) -> None:
    data = tmp_path / "escape.csv"
    data.write_text("a\n1\n")
    page.goto("/files")
    page.get_by_test_id("upload-file").set_input_files(str(data))
    page.get_by_test_id("upload-name").fill("../escaped.csv")
    page.get_by_test_id("upload-button").click()
    expect(page.get_by_test_id("upload-error")).to_contain_text("leaves the files folder")
    expect(page.locator('[data-testid="file-row"][data-path$="escaped.csv"]')).to_have_count(0)
    assert not (server.home / "escaped.csv").exists()


def test_console_and_files_fit_a_phone(new_page: Callable[..., Page], shot: Shot) -> None:
    for path, name in (("/sql", "sql-console"), ("/files", "files")):
        page = new_page(viewport=PHONE)
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        if path == "/sql":
            expect(page.get_by_test_id("cm-console-sql")).to_have_attribute("data-names-loaded", "demo")
            expect(page.get_by_test_id("console-history")).to_have_attribute("data-loaded", "1")
        page.wait_for_load_state("networkidle")
        shot(page, f"{name}-phone")
        assert horizontal_overflow(page) == 0, f"{path} scrolls sideways on a phone"
        expect(page.get_by_test_id("nav-create")).to_be_in_viewport()
