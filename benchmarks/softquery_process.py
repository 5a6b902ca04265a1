"""Running the real ``softquery`` command for a benchmark: its own SOFTQUERY_HOME, a time
limit, and the peak RSS of the command and its reaped job child (see LAUNCHER)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class Command:
    args: list[str]
    wall: float
    max_rss_mib: float
    stdout: str
    stderr: str
    returncode: int
    timed_out: bool = False


# A small process between this one and softquery: a child created by fork (or vfork) + exec
# starts with its parent's peak RSS as its own ru_maxrss (Linux carries the old mm's high-water
# mark across exec), so softquery is started by this launcher, whose peak is a few MiB, and the
# launcher reports softquery's wait4 ru_maxrss (softquery's process and its reaped job child).
LAUNCHER = """
import os, subprocess, sys, time
report, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
proc = subprocess.Popen(argv)
_, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - t0
with open(report, "w") as f:
    f.write(f"{usage.ru_maxrss} {wall}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


class CommandTimeout(RuntimeError):
    """A softquery command ran past its time limit and was killed."""


class Softquery:
    """Runs ``python -m softquery.cli.main`` with its own SOFTQUERY_HOME."""

    def __init__(self, home: Path, logs: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
        self.env["SOFTQUERY_HOME"] = str(home)
        self.logs = logs
        self.count = 0

    def run(self, *args: str, prefix: list[str] | None = None, check: bool = True,
            timeout: float | None = None) -> Command:
        """Run one command through ``LAUNCHER``; see there for how its peak RSS is taken."""
        self.count += 1
        out_path = self.logs / f"{self.count:02d}-{args[0]}.out"
        err_path = self.logs / f"{self.count:02d}-{args[0]}.err"
        report = self.logs / f"{self.count:02d}-{args[0]}.rusage"
        argv = [sys.executable, *(prefix or []), "-m", "softquery.cli.main", *args]
        launcher = [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv]
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(launcher, stdout=out, stderr=err, env=self.env,
                                    start_new_session=True)
            timed_out = False
            while True:
                pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if timeout is not None and time.perf_counter() - t0 > timeout:
                    timed_out = True
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    _, status, _ = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.02)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        max_rss_kib = float("nan")
        if report.exists():
            rss_text, wall_text = report.read_text().split()
            max_rss_kib, wall = float(rss_text), float(wall_text)
        cmd = Command(argv, wall, max_rss_kib / 1024.0, out_path.read_text(),
                      err_path.read_text(), proc.returncode, timed_out)
        if timed_out:
            raise CommandTimeout(f"`softquery {' '.join(args)}` was still running after "
                                 f"{timeout:.0f}s and was killed (hung? see {out_path.parent})")
        if check and cmd.returncode != 0:
            raise RuntimeError(
                f"`softquery {' '.join(args)}` exited with {cmd.returncode}\n"
                f"--- stdout ---\n{cmd.stdout[-4000:]}\n--- stderr ---\n{cmd.stderr[-4000:]}"
            )
        return cmd

    @contextlib.contextmanager
    def serve(self, timeout: float = 120.0) -> Iterator[None]:
        """`softquery serve` (local executor, one job slot, no scheduler) on a free loopback
        port, from when it says it is serving: by then its forkserver has imported everything
        (``LocalExecutor.start``) and it is registered, so `train`/`predict` hand it their run."""
        log = self.logs / "serve.log"
        argv = [sys.executable, "-m", "softquery.cli.main", "serve", "--host", "127.0.0.1", "--port", "0",
                "--slots", "1", "--no-scheduler"]
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=self.env,
                                    start_new_session=True)
        try:
            deadline = time.perf_counter() + timeout
            while "serving at" not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.perf_counter() > deadline:
                    raise RuntimeError(f"`softquery serve` did not start:\n{log.read_text()[-4000:]}")
                time.sleep(0.05)
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def run_json(self, *args: str, timeout: float | None = None) -> tuple[Command, Any]:
        cmd = self.run(*args, check=False, timeout=timeout)
        try:
            data = json.loads(cmd.stdout)
        except json.JSONDecodeError:
            data = None
        if cmd.returncode != 0 or data is None:
            raise RuntimeError(
                f"`softquery {' '.join(args)}` exited with {cmd.returncode}\n"
                f"--- stdout ---\n{cmd.stdout[-4000:]}\n--- stderr ---\n{cmd.stderr[-4000:]}"
            )
        return cmd, data


def run_seconds(run: dict[str, Any]) -> float:
    started = datetime.fromisoformat(run["started_at"])
    finished = datetime.fromisoformat(run["finished_at"])
    return (finished - started).total_seconds()


def job_wait(run: dict[str, Any], kind: str) -> float:
    """Seconds the run waited for its ``kind`` job process (the result's ``job_start``)."""
    job = (run.get("result") or {}).get("job_start", {}).get(kind) or {}
    return float(job.get("waited_seconds", float("nan")))


def check_run(run: dict[str, Any], what: str) -> None:
    if run.get("status") != "succeeded":
        error = run.get("error") or {}
        raise RuntimeError(f"softquery {what} run {run.get('id')} {run.get('status')}: "
                           f"{error.get('code')}: {error.get('message')}\n"
                           f"{(error.get('details') or {}).get('traceback', '')}")
