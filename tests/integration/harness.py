"""A real job system for tests: a `softquery serve` (local executor) or two
`softquery worker` processes (RQ) as subprocesses, plus the in-process CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from softquery.config import Settings
from softquery.domain import Run
from softquery.services.context import ServiceContext, open_context

SOFTQUERY = [sys.executable, "-m", "softquery.cli.main"]


def use_softquery_env(monkeypatch: Any, env: dict[str, str]) -> None:
    """Make this process's SOFTQUERY_* settings exactly those of ``env`` (undone after the test)."""
    for key in [k for k in os.environ if k.startswith("SOFTQUERY_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("SOFTQUERY_"):
            monkeypatch.setenv(key, value)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone between the two looks
        return False


class JobSystem:
    def __init__(self, kind: str, env: dict[str, str], tmp: Path):
        self.kind = kind
        self.env = env
        self.tmp = tmp
        self.procs: list[subprocess.Popen[str]] = []

    # -- processes ---------------------------------------------------------------
    def start(self) -> None:
        if self.kind == "local":
            proc = subprocess.Popen([*SOFTQUERY, "serve", "--port", "0", "--slots", "2"], env=self.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            line = ""
            while proc.stdout and "serving at" not in line and (line := proc.stdout.readline()):
                pass
            assert "serving at" in line, line
            # keep reading its output: a full pipe would block the server's logging (and with
            # it a supervisor that logs, e.g. while the metadata DB is down)
            threading.Thread(target=_drain, args=(proc, self.tmp / "serve.log"), daemon=True).start()
            self.procs.append(proc)
            ctx = self.context()
            try:
                wait_for(lambda: any(k == "server" for _, k in ctx.executors.live(10)), 20, "server registration")
            finally:
                ctx.close()
        else:
            for _ in range(2):
                self.procs.append(subprocess.Popen([*SOFTQUERY, "worker"], env=self.env,
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                   text=True))

    def kill_all(self, sig: int = signal.SIGKILL) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(sig)
        for proc in self.procs:
            proc.wait(20)
        self.procs.clear()

    def context(self) -> ServiceContext:
        return open_context(Settings(home=Path(self.env["SOFTQUERY_HOME"]),
                                     database_url=self.env.get("SOFTQUERY_DATABASE_URL"),
                                     queue=self.env.get("SOFTQUERY_QUEUE")))

    # -- runs --------------------------------------------------------------------
    def run(self, run_id: str) -> Run:
        ctx = self.context()
        try:
            return ctx.runs.get(run_id)
        finally:
            ctx.close()

    def wait_finished(self, run_id: str, timeout: float = 60) -> Run:
        return wait_for(lambda: (r := self.run(run_id)).status.finished and r, timeout, f"run {run_id} to finish",
                        interval=0.1)


def _drain(proc: subprocess.Popen[str], log: Path) -> None:
    assert proc.stdout is not None
    with open(log, "a") as out:
        for line in proc.stdout:
            out.write(line)
            out.flush()


def make_source(path: Path, rows: int = 100) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute("create table t (id integer, x real, y real)")
        conn.executemany("insert into t values (?, ?, ?)", [(i, float(i), 2.0 * i + 1) for i in range(rows)])
    conn.close()
    return f"sqlite:///{path}"


def table_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute(sql).fetchall()
        finally:
            pass
