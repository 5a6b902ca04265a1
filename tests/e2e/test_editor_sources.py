"""The model editor's table browser and SQL completion (issue 12, item 4), in headless
Chromium against a real `softquery serve` with the demo source: click a table or column to
insert its name at the cursor, row counts, completion of column names, and placeholder SQL
that names real columns of the chosen source."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect
from tests.e2e.kit import Server, editor_text, set_editor

HOUSES = ["id", "price", "quality"]  # the demo's houses table


def choose_demo(page: Page) -> Locator:
    page.goto("/new")
    page.wait_for_function("window.softqueryEditors && window.softqueryEditors.train_sql")
    page.get_by_test_id("field-source").select_option("demo")
    browser = page.get_by_test_id("source-browser")
    expect(browser).to_have_attribute("data-loaded", "demo")
    return browser


def table(browser: Locator, name: str) -> Locator:
    return browser.locator(f'li.browser-table[data-table="{name}"]')


def cursor_to_end(page: Page, which: str) -> None:
    page.evaluate("(w) => { const cm = window.softqueryEditors[w]; cm.focus(); cm.setCursor(cm.lineCount(), 0); }",
                  which)


def test_click_a_column_or_table_to_insert_it_at_the_cursor(page: Page) -> None:
    browser = choose_demo(page)
    houses = table(browser, "houses")
    expect(houses.get_by_test_id("browser-rows")).to_have_text("200 rows")
    expect(table(browser, "iris").get_by_test_id("browser-rows")).to_have_text("150 rows")

    set_editor(page, "train_sql", "select ")
    cursor_to_end(page, "train_sql")
    houses.get_by_test_id("browser-rows").click()  # unfold the table's columns
    columns = houses.get_by_test_id("browser-column")
    expect(columns).to_have_text(HOUSES)
    columns.nth(1).click()
    page.keyboard.type(" from ")
    houses.get_by_test_id("browser-table").click()
    assert editor_text(page, "train_sql") == "select price from houses"

    # the predict editor, once focused, is where names go
    set_editor(page, "predict_sql", "select id,  from houses")
    page.evaluate("() => { const cm = window.softqueryEditors.predict_sql; cm.focus(); cm.setCursor(0, 11); }")
    columns.nth(1).click()
    assert editor_text(page, "predict_sql") == "select id, price from houses"
    assert editor_text(page, "train_sql") == "select price from houses"


def test_completion_offers_the_columns_of_the_source(page: Page) -> None:
    choose_demo(page)
    set_editor(page, "train_sql", "select  from houses")
    page.evaluate("() => { const cm = window.softqueryEditors.train_sql; cm.focus(); cm.setCursor(0, 7); }")
    page.keyboard.type("pri")
    hints = page.locator(".CodeMirror-hints")
    expect(hints).to_be_visible()
    expect(hints.locator(".CodeMirror-hint").first).to_have_text("price")
    page.keyboard.press("Enter")
    assert editor_text(page, "train_sql") == "select price from houses"

    # table names complete too, and so do columns before a table is named
    set_editor(page, "predict_sql", "")
    page.evaluate("() => window.softqueryEditors.predict_sql.focus()")
    page.keyboard.type("select qual")
    expect(hints.locator(".CodeMirror-hint")).to_contain_text(["quality"])
    page.keyboard.press("Escape")
    page.keyboard.type(" from hou")
    expect(hints.locator(".CodeMirror-hint").first).to_have_text("houses")


def test_placeholder_sql_names_columns_of_the_chosen_source(page: Page, server: Server) -> None:
    choose_demo(page)
    with server.api() as client:
        tables = client.get("/sources/demo/tables").raise_for_status().json()["tables"]
    columns = {t["sql_name"]: {c["sql_name"] for c in t["columns"]} for t in tables}
    for which in ("train_sql", "predict_sql"):
        placeholder = page.get_by_test_id(f"cm-{which}").locator(".CodeMirror-placeholder")
        expect(placeholder).to_have_text(re.compile(r"^select .+ from \w+ where \w+ is (not )?null$"))
        text = placeholder.inner_text()
        match = re.match(r"select (.+) from (\w+) where (\w+) is", text)
        assert match, text
        named, source_table, label = match.group(1).split(", "), match.group(2), match.group(3)
        assert source_table in columns, text
        assert set(named) | {label} <= columns[source_table], text
