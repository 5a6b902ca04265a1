"""The metadata PostgreSQL restarts (or stays down a while) in the middle of a run.

Before: the run's next heartbeat, log or progress write failed, and the run ended
``internal_error`` — or, when its final status could not be written either, was later
reported "abandoned … killed or crashed". Now the supervisor retries those writes
(bounded, with backoff): a restart is ridden out and the run succeeds; an outage longer
than SOFTQUERY_METADATA_RETRY_SECONDS ends the run, recorded once the DB is back, as
failed for the lost connection to the metadata database.

A private PostgreSQL per test (the session's one is shared), a real ``softquery serve``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import PostgresServer
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.harness import (
    JobSystem,
    make_source,
    pid_alive,
    use_softquery_env,
    wait_for,
)
from tests.integration.models import slow_code

from softquery.domain import RunStatus

pytestmark = pytest.mark.postgres


@pytest.fixture
def metadata_pg() -> Iterator[tuple[Any, str]]:
    server = PostgresServer()
    try:
        server.start()
        yield server, server.create_database("meta")
    finally:
        server.stop()


def start(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
          exchange_dir: Path, steps: int, **settings: str) -> tuple[JobSystem, SoftqueryCLI, Path, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    env.update({"SOFTQUERY_HOME": str(tmp_path / "home"), "SOFTQUERY_DATABASE_URL": url,
                "SOFTQUERY_HEARTBEAT_SECONDS": "0.5", **settings})
    use_softquery_env(monkeypatch, env)
    cli = SoftqueryCLI(capsys, tmp_path / "home")
    cli("init")
    cli("source", "add", "src", make_source(tmp_path / "source.db"))
    code, pidfile, _ = slow_code(exchange_dir, steps=steps)
    (tmp_path / "slow.py").write_text(code)
    cli("model", "create", "slow", "--source", "src", "--code-file", str(tmp_path / "slow.py"),
        "--train-sql", "select id, x, y from t", "--predict-sql", "select id, x from t")
    jobs = JobSystem("local", env, tmp_path)
    jobs.start()
    run_id = str(cli("train", "slow", "--json").json()["id"])
    return jobs, cli, pidfile, run_id


def test_a_restart_mid_run_is_ridden_out(tmp_path: Path, metadata_pg: tuple[Any, str], exchange_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    server, url = metadata_pg
    jobs, _, _, run_id = start(tmp_path, url, monkeypatch, capsys, exchange_dir, steps=60,
                               SOFTQUERY_ABANDON_AFTER_SECONDS="30")
    try:
        wait_for(lambda: "step 3" in jobs.run(run_id).stdout, 60, "the training to log its first steps")
        server.restart()
        run = jobs.wait_finished(run_id, timeout=90)
        assert run.status is RunStatus.SUCCEEDED, (run.error_code, run.error_message)
        assert run.result["train"]["version"] == 1
        assert "step 59" in run.stdout  # the log lines written during the restart were kept
    finally:
        jobs.kill_all()


def test_an_outage_longer_than_the_retries_fails_the_run_for_the_lost_connection(
        tmp_path: Path, metadata_pg: tuple[Any, str], exchange_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    server, url = metadata_pg
    jobs, _, pidfile, run_id = start(tmp_path, url, monkeypatch, capsys, exchange_dir, steps=4000,
                                     SOFTQUERY_METADATA_RETRY_SECONDS="2",
                                     SOFTQUERY_ABANDON_AFTER_SECONDS="60")
    try:
        wait_for(lambda: "step 3" in jobs.run(run_id).stdout, 60, "the training to log its first steps")
        child = int(pidfile.read_text())
        server.halt()
        # the supervisor gives up after 2 s of retries and ends the job process
        wait_for(lambda: not pid_alive(child), 30, "the supervisor to give up and end the job")
        server.resume()
        run = jobs.wait_finished(run_id, timeout=60)
        assert run.status is RunStatus.FAILED
        assert run.error_code == "metadata_db_unavailable", (run.error_code, run.error_message)
        assert "lost the connection to the metadata database" in (run.error_message or "")
        assert "abandoned" not in (run.error_message or "")
    finally:
        jobs.kill_all()
