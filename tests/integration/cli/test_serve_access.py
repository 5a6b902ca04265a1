"""`softquery serve`: no development secret beyond loopback; a one-time login link until the first login."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

from softquery.config import Settings
from softquery.errors import AuthenticationError
from softquery.services import accounts
from softquery.services.context import open_context
from softquery.services.home import check_serving_secret

ROOT = Path(__file__).resolve().parents[3]
HOW_TO = 'python -c "import secrets; print(secrets.token_hex(32))"'


@pytest.mark.parametrize("key", ["changeme", "k3J9qL0zP2wX8vN5rT7y"])  # a placeholder; 20 characters
def test_serve_refuses_a_development_secret_beyond_loopback(sq: SoftqueryCLI, monkeypatch: pytest.MonkeyPatch,
                                                            key: str) -> None:
    monkeypatch.setenv("SOFTQUERY_SECRET_KEY", key)
    for host in ("0.0.0.0", "::", "192.168.1.10"):
        refused = sq("serve", "--host", host, "--port", "0", ok=False)
        assert refused.code == 8, refused.err
        assert "Traceback" not in refused.err
        message = " ".join(refused.err.split())
        assert "development_secret" in message and f"refuses to listen on {host}" in message
        assert HOW_TO in message and "SOFTQUERY_SECRET_KEY" in message
        assert "unset SOFTQUERY_SECRET_KEY to use the random key file" in message
        assert "--host 127.0.0.1" in message


def test_serve_refuses_a_development_secret_in_the_key_file(sq: SoftqueryCLI, home: Path) -> None:
    (home / "secret.key").write_text("softquery-dev-secret\n")
    refused = sq("serve", "--host", "0.0.0.0", ok=False)
    message = " ".join(refused.err.split())
    assert refused.code == 8 and f"the secret key file {home / 'secret.key'}" in message
    assert HOW_TO in message and "replace the file's content" in message


def test_the_key_file_init_wrote_may_serve_everywhere(sq: SoftqueryCLI) -> None:
    settings = Settings()
    for host in ("0.0.0.0", "::", "10.1.2.3", "127.0.0.1"):
        check_serving_secret(settings, host)  # no error


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def serving(home: Path, log: Path, env: dict[str, str]) -> Iterator[str]:
    """`softquery serve` on 127.0.0.1 and a free port while the block runs: its URL."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "softquery.cli.main", "serve", "--host", "127.0.0.1", "--port", "0",
             "--no-scheduler", "--slots", "1"],
            stdout=out, stderr=subprocess.STDOUT, text=True, cwd=ROOT, start_new_session=True,
            env={**os.environ, **env, "SOFTQUERY_HOME": str(home)})
    try:
        def listening() -> str | None:
            found = re.search(r"serving at (http://\S+?)/ ", log.read_text())
            if found is None and proc.poll() is not None:
                raise AssertionError("softquery serve exited: " + log.read_text())
            return found.group(1) if found else None

        yield wait_for(listening, 60, "softquery serve to listen")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def serve(home: Path, log: Path, env: dict[str, str]) -> tuple[str, str]:
    """Start `softquery serve` on 127.0.0.1, wait until it listens, stop it: (url, output)."""
    with serving(home, log, env) as url:
        pass
    return url, log.read_text()


def test_user_add_links_to_the_address_the_running_server_took(sq: SoftqueryCLI, home: Path,
                                                              tmp_path: Path) -> None:
    """`serve --port 0` takes a free port; a login link printed meanwhile points there, not at
    the default port. Once the server stops, links fall back to the configured address."""
    with serving(home, tmp_path / "serve.log", {}) as url:
        assert not url.endswith(":8765")
        added = sq("user", "add", "ann", "--role", "viewer")
        assert re.search(rf"{re.escape(url)}/login\?token=\S+", added.out), (url, added.out)
        assert (home / "server-url").stat().st_mode & 0o077 == 0
    assert not (home / "server-url").exists()
    later = sq("user", "link", "ann")
    assert re.search(r"http://127\.0\.0\.1:8765/login\?token=\S+", later.out), later.out
    (home / "server-url").write_text("999999999 http://127.0.0.1:1/\n")  # a killed server's leftover
    assert "127.0.0.1:8765/login" in sq("user", "link", "ann").out


def test_serve_on_loopback_with_a_development_secret_prints_a_link_until_the_first_login(
        sq: SoftqueryCLI, home: Path, tmp_path: Path) -> None:
    env = {"SOFTQUERY_SECRET_KEY": "changeme"}
    url, out = serve(home, tmp_path / "first.log", env)
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "serving at" in line)
    link = re.fullmatch(rf"Log in \(one-time link, valid 24 h\): {re.escape(url)}/login\?token=(\S+)", lines[at + 1])
    assert link is not None, out
    if os.geteuid() == 0:
        assert re.search(r"Model code runs isolated: uid \d+, no network, home and data files hidden, own /tmp, "
                         r"/dev/shm and /run\n", out), out
    _, out2 = serve(home, tmp_path / "second.log", env)  # nobody logged in yet: a fresh link
    second = re.search(r"/login\?token=(\S+)", out2)
    assert second is not None and second.group(1) != link.group(1)

    context = open_context(Settings(secret_key="changeme"))
    try:
        with pytest.raises(AuthenticationError):  # the newer link replaced it
            accounts.login_with_link(context, link.group(1))
        assert accounts.login_with_link(context, second.group(1)).user.username == "admin"
    finally:
        context.close()
    _, out3 = serve(home, tmp_path / "third.log", env)
    assert "serving at" in out3 and "/login?token=" not in out3  # someone has logged in


def test_make_run_prints_one_login_link_and_it_works(home: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`make run` on a new machine: init --if-needed, demo --if-needed, serve. Of everything they
    print, exactly one line is a login link (the server's: it knows its address, here the public
    URL), and that link works."""
    monkeypatch.setenv("SOFTQUERY_PUBLIC_URL", "https://ml.example.com/")
    sq = SoftqueryCLI(capsys, home)
    before = [sq("init", "--if-needed"), sq("demo", "--if-needed")]
    _, served = serve(home, tmp_path / "serve.log", {})
    printed = "".join(r.out + r.err for r in before) + served
    links = re.findall(r"\S*/login\?token=\S+", printed)
    assert len(links) == 1, printed
    assert re.search(r"^Log in \(one-time link, valid 24 h\): https://ml\.example\.com/login\?token=(\S+)$",
                     served, re.MULTILINE), served
    context = open_context(Settings())
    try:
        assert accounts.login_with_link(context, links[0].split("?token=", 1)[1]).user.username == "admin"
    finally:
        context.close()
