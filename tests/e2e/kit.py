"""Shared constants and page helpers of the end-to-end tests."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import ConsoleMessage, Locator, Page, expect
from tests import authkit

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
ADMIN = "admin"  # `softquery init` creates it; the fixture gives it PASSWORD before the server starts
PASSWORD = authkit.PASSWORD
# Training on a busy 2-core machine can take a while; every wait on a run uses this.
RUN_TIMEOUT_MS = 90_000


def card(page: Page, model: str) -> Locator:
    return page.locator(f"#model-{model}")


def expect_status(page: Page, model: str, status: str, timeout: int = RUN_TIMEOUT_MS) -> None:
    """Wait until the model card (polled by htmx every 2 s) shows ``status``."""
    expect(card(page, model)).to_have_attribute("data-status", status, timeout=timeout)


def set_editor(page: Page, which: str, text: str) -> None:
    """Replace the text of a CodeMirror editor (code, train_sql, predict_sql) as a user would see it."""
    page.wait_for_function(f"window.softqueryEditors && window.softqueryEditors.{which}")
    page.evaluate("([w, t]) => window.softqueryEditors[w].setValue(t)", [which, text])


def editor_text(page: Page, which: str) -> str:
    return str(page.evaluate("(w) => window.softqueryEditors[w].getValue()", which))


def log_in(page: Page, username: str = ADMIN, password: str = PASSWORD) -> None:
    """Log ``page``'s browser context in through the login page, as a person would."""
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-button").click()
    expect(page.get_by_test_id("nav-username")).to_have_text(username)


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when it fits)."""
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


@dataclass
class ConsoleWatch:
    """Console errors and uncaught exceptions of every page in one test."""

    errors: list[str] = field(default_factory=list)
    # (URL, HTTP status) pairs whose "Failed to load resource" is the point of the test
    allowed: set[tuple[str, int]] = field(default_factory=set)

    def allow_status(self, url: str, status: int) -> None:
        self.allowed.add((url, status))

    def allow_404(self, url: str) -> None:
        self.allow_status(url, 404)

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        status = re.search(r"Failed to load resource: the server responded with a status of (\d+)", msg.text)
        if status and (where, int(status.group(1))) in self.allowed:
            return
        self.errors.append(f"console error on {msg.page.url if msg.page else '?'}: {msg.text} ({where})")

    def on_page_error(self, exc: Exception) -> None:
        self.errors.append(f"uncaught exception: {exc}")

    def watch(self, page: Page) -> None:
        page.on("console", self.on_console)
        page.on("pageerror", self.on_page_error)


@dataclass
class Server:
    url: str  # http://HOST:PORT (no trailing slash)
    home: Path
    proc: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    token: str = ""  # a full-scope API token of the admin (for test set-up through the REST API)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url + "/api/v1", timeout=30,
                            headers={"Authorization": f"Bearer {self.token}"})

    def login_link(self) -> str | None:
        """The one-time login link `softquery serve` printed on its first start (None: not printed)."""
        for line in list(self.output):
            match = re.search(r"(https?://\S+/login\?token=\S+)", line)
            if match:
                return match.group(1)
        return None

    def wait_run(self, run_id: str, timeout: float = RUN_TIMEOUT_MS / 1000) -> dict[str, Any]:
        """Poll the REST API until the run finishes; return it."""
        deadline = time.monotonic() + timeout
        with self.api() as client:
            while True:
                run = client.get(f"/runs/{run_id}").raise_for_status().json()
                if run["status"] in ("succeeded", "failed", "cancelled"):
                    return dict(run)
                if time.monotonic() > deadline:
                    raise AssertionError(f"run {run_id} still {run['status']} after {timeout}s")
                time.sleep(0.2)
