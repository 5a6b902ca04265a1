"""A one-shot `softquery train` / `predict` (no server running) starts the job forkserver
before it imports its commands (issue 12 item 15: softquery/cli/early_start.py), so the
forkserver's imports overlap the command's own. The order is read from timestamps softquery
records (the run's ``created_at``/``started_at`` and its result's ``job_start``), never
from sleeps."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI

from softquery.cli.early_start import runs_a_job_here
from softquery.config import Settings
from softquery.services.context import open_context

ROOT = Path(__file__).resolve().parents[3]
TRAIN_SQL = "select id, x, y from points"
PREDICT_SQL = "select id, x from points"


MODULE = ["-m", "softquery.cli.main"]
CONSOLE_SCRIPT = ["-c", "from softquery.cli.entry import main; main()"]  # what the `softquery` script runs


def softquery(home: Path, *args: str, entry: list[str] = MODULE) -> subprocess.CompletedProcess[str]:
    """The real command in a new process, as `python -m softquery.cli.main` (or the
    installed `softquery` script) runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    done = subprocess.run([sys.executable, *entry, *args], capture_output=True,
                          text=True, timeout=180, cwd=ROOT, env={**env, "SOFTQUERY_HOME": str(home)})
    assert done.returncode == 0, f"softquery {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done


def points(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute("create table points (id integer primary key, x real, y real)")
        conn.executemany("insert into points values (?, ?, ?)",
                         [(i, float(i), 2.0 * i + 1.0) for i in range(1, 201)])
    conn.close()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def oneshot_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("oneshot")
    home = tmp / "home"
    softquery(home, "init")
    softquery(home, "source", "add", "pts", points(tmp / "points.db"))
    softquery(home, "model", "create", "line", "--source", "pts", "--template", "linear_regression",
              "--train-sql", TRAIN_SQL, "--predict-sql", PREDICT_SQL)
    return home


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.parametrize("entry", [MODULE, CONSOLE_SCRIPT], ids=["module", "console-script"])
@pytest.mark.parametrize("kind", ["train", "predict"])
def test_a_one_shot_command_asks_for_the_forkserver_before_it_makes_the_run(oneshot_home: Path, kind: str,
                                                                          entry: list[str]) -> None:
    if kind == "predict":
        softquery(oneshot_home, "train", "line", "--json")
    run: dict[str, Any] = json.loads(softquery(oneshot_home, kind, "line", "--json", entry=entry).stdout)
    assert run["status"] == "succeeded", run
    job = run["result"]["job_start"][kind]
    # Asked for before the command imported its commands, opened the metadata DB and made
    # the run; before the train query (read after the claim, started_at) was even started.
    assert at(job["forkserver_asked_at"]) < at(run["created_at"]) <= at(run["started_at"]), (job, run)
    assert at(run["started_at"]) <= at(job["asked_at"]) <= at(job["started_at"]) <= at(run["finished_at"])
    assert job["waited_seconds"] == pytest.approx(
        (at(job["started_at"]) - at(job["asked_at"])).total_seconds(), abs=1e-3)


@pytest.mark.parametrize(("argv", "environ", "expected"), [
    (["train", "m"], {}, True),
    (["predict", "m", "--json"], {}, True),
    (["train", "--wait", "m"], {}, True),
    (["train", "m", "--help"], {}, False),
    (["-h"], {}, False),
    (["--version"], {}, False),
    (["model", "create", "train"], {}, False),  # a model named "train"
    (["versions", "predict"], {}, False),
    ([], {}, False),
    (["train", "m"], {"SOFTQUERY_QUEUE": "redis://localhost:6379/0"}, False),  # a worker runs it
])
def test_only_train_and_predict_start_the_forkserver_ahead(argv: list[str], environ: dict[str, str],
                                                           expected: bool) -> None:
    assert runs_a_job_here(argv, environ) is expected


def test_the_forkserver_started_ahead_is_ended_when_a_server_runs_the_job(
        sq: SoftqueryCLI, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ended: list[bool] = []
    monkeypatch.setattr("softquery.services.job_processes.stop_forkserver", lambda: ended.append(True))
    sq("source", "add", "pts", points(tmp_path / "points.db"))
    sq("model", "create", "line", "--source", "pts", "--template", "linear_regression",
       "--train-sql", TRAIN_SQL, "--predict-sql", PREDICT_SQL)
    assert Settings().home == home  # the fresh home of this test (conftest)
    ctx = open_context(Settings())
    try:
        ctx.executors.register("server-test", "server")  # a live `softquery serve`
        run = sq("train", "line", "--json").json()
    finally:
        ctx.close()
    assert run["status"] == "queued"  # handed to the server, not run here
    assert ended == [True]
