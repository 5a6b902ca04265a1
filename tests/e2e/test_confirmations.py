"""Buttons that end something ask first: a plain POST form with ``data-confirm`` shows the
question, and nothing happens when the person says no."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from playwright.sync_api import Dialog, Page, expect
from tests.e2e.kit import Server


def test_removing_a_source_asks_first_and_no_keeps_it(page: Page, server: Server, tmp_path: Path) -> None:
    db = tmp_path / "scratch.db"
    sqlite3.connect(db).close()
    with server.api() as client:
        client.post("/sources", json={"name": "scratch", "url": f"sqlite:///{db}"}).raise_for_status()
    page.goto("/sources")
    asked: list[str] = []

    def say_no(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", say_no)
    page.locator('[data-source="scratch"]').get_by_test_id("remove-source").click()
    assert asked == ["Remove the data source scratch? Models that use it must be deleted first."], asked
    page.goto("/sources")
    expect(page.locator('[data-source="scratch"]')).to_have_count(1)  # "no" kept it

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator('[data-source="scratch"]').get_by_test_id("remove-source").click()
    expect(page.locator('[data-source="scratch"]')).to_have_count(0)
