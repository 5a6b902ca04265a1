"""End-to-end fixtures: one real `softquery serve` on a fresh home with the demo loaded,
headless Chromium (Debian's, never a downloaded one), console-error checks and screenshots.

Every page a test opens is watched: a console error or an uncaught page exception fails
the test (only a test that opens the deliberate 404 page may see that page's 404).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    sync_playwright,
)
from tests import authkit
from tests.e2e.kit import ADMIN, DESKTOP, PASSWORD, SCREENSHOTS, ConsoleWatch, Server, log_in

from softquery.config import Settings
from softquery.services import accounts
from softquery.services.context import open_context

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SOFTQUERY = [sys.executable, "-m", "softquery.cli.main"]

_state: dict[str, Any] = {"screenshots": 0}


# -- the server ---------------------------------------------------------------------------
def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([*SOFTQUERY, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"softquery {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def _accounts(home: Path) -> str:
    """Before the server starts, through the service layer: the admin `init` made gets a
    password (so the browser can log in), and a full-scope API token (returned) for set-up."""
    ctx = open_context(Settings(home=home))
    try:
        accounts.set_password(ctx, ADMIN, PASSWORD)
        return authkit.token(ctx, ADMIN)
    finally:
        ctx.close()


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`softquery serve --port 0 --slots 2` (local executor) on a fresh home with the demo,
    its first admin (``ADMIN``/``PASSWORD``) and an API token of theirs in ``Server.token``."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    env.update({"SOFTQUERY_HOME": str(home), "PYTHONUNBUFFERED": "1"})
    _cli(env, "init")
    _cli(env, "demo")
    token = _accounts(home)
    proc = subprocess.Popen([*SOFTQUERY, "serve", "--port", "0", "--slots", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    # lines before "serving at" (how model code runs here) are kept; EOF: the server ended
    first: list[str] = []
    match = None
    while match is None and len(first) < 50:
        line = proc.stdout.readline()
        if not line:
            break
        first.append(line)
        match = re.search(r"serving at (http://\S+?)/? ", line)
    if not match:
        proc.kill()
        pytest.fail(f"softquery serve did not start: {''.join(first)!r} {proc.stdout.read()}", pytrace=False)
    srv = Server(url=match.group(1).rstrip("/"), home=home, proc=proc, output=first, token=token)
    stdout = proc.stdout
    # Keep draining the server's output so a full pipe never blocks it; kept for failure reports.
    threading.Thread(target=lambda: srv.output.extend(iter(stdout.readline, "")), daemon=True).start()
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(srv.url + "/api/v1/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("softquery serve never answered /api/v1/health:\n" + "".join(srv.output), pytrace=False)
        time.sleep(0.1)
    try:
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="package")
def trained_iris(server: Server) -> str:
    """The demo's classification model, trained and predicted once (through the REST API),
    so page tests have a model with versions, charts and an output table."""
    name = "iris_species"
    with server.api() as client:
        run = client.post(f"/models/{name}/train").raise_for_status().json()
        assert server.wait_run(run["id"])["status"] == "succeeded"
        run = client.post(f"/models/{name}/batch-predict").raise_for_status().json()
        assert server.wait_run(run["id"])["status"] == "succeeded"
    return name


# -- the browser --------------------------------------------------------------------------
@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (installs Debian's chromium)", pytrace=False)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="package")
def admin_state(browser: Browser, server: Server) -> Any:
    """The admin's logged-in browser storage (the session cookie), made once through the login page."""
    context = browser.new_context(viewport=DESKTOP, base_url=server.url)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    try:
        log_in(context.new_page())
        return context.storage_state()
    finally:
        context.close()


_WATCH = pytest.StashKey[ConsoleWatch]()


@pytest.fixture
def console(request: pytest.FixtureRequest) -> ConsoleWatch:
    watch = ConsoleWatch()
    request.node.stash[_WATCH] = watch
    return watch


@pytest.fixture
def new_page(browser: Browser, server: Server, console: ConsoleWatch,
             admin_state: Any) -> Iterator[Callable[..., Page]]:
    """Factory of watched pages in fresh browser contexts, logged in as the admin unless
    ``logged_in=False``: ``new_page(viewport=PHONE)``."""
    contexts: list[BrowserContext] = []

    def make(viewport: dict[str, int] | None = None, *, logged_in: bool = True) -> Page:
        context = browser.new_context(viewport=viewport or DESKTOP, base_url=server.url,  # type: ignore[arg-type]
                                      storage_state=admin_state if logged_in else None)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        console.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A watched page at 1280 px wide."""
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a test whose pages logged a console error or threw, after its own assertions."""
    result = yield
    watch = item.stash.get(_WATCH, None)
    if watch is not None and watch.errors:
        raise AssertionError("the browser reported errors:\n  " + "\n  ".join(watch.errors))
    return result


# -- screenshots --------------------------------------------------------------------------
@pytest.fixture(scope="package")
def screenshot_dir() -> Path:
    """test-artifacts/screenshots/, emptied once per session so it only holds this run's pictures."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def shot(screenshot_dir: Path) -> Callable[[Page, str], Path]:
    """``shot(page, "models")`` saves a full-page PNG as test-artifacts/screenshots/models.png."""

    def take(page: Page, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        _state["screenshots"] += 1
        return path

    return take


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _state["screenshots"]:
        terminalreporter.write_line(f"e2e screenshots ({_state['screenshots']}): {SCREENSHOTS}")
