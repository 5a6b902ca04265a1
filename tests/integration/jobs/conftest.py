"""The shared job-system fixture: every test here runs on the local executor and on RQ."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.harness import JobSystem, make_source, use_softquery_env


@pytest.fixture
def job_env() -> dict[str, str]:
    """Extra SOFTQUERY_* settings of the job system (a test module overrides this fixture)."""
    return {}


@pytest.fixture(params=["local", pytest.param("rq", marks=pytest.mark.postgres)])
def system(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str], job_env: dict[str, str],
           ) -> Iterator[tuple[JobSystem, SoftqueryCLI, Path]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    env.update({
        "SOFTQUERY_HOME": str(tmp_path / "home"),
        "SOFTQUERY_HEARTBEAT_SECONDS": "0.5",
        "SOFTQUERY_ABANDON_AFTER_SECONDS": "3",
        "SOFTQUERY_JOB_SLOTS": "2",
        **job_env,
    })
    if request.param == "rq":
        env["SOFTQUERY_DATABASE_URL"] = request.getfixturevalue("pg_database")
        env["SOFTQUERY_QUEUE"] = request.getfixturevalue("redis_url")
    use_softquery_env(monkeypatch, env)
    cli = SoftqueryCLI(capsys, tmp_path / "home")
    cli("init")
    db = tmp_path / "source.db"
    cli("source", "add", "src", make_source(db))
    jobs = JobSystem(request.param, env, tmp_path)
    jobs.start()
    try:
        yield jobs, cli, db
    finally:
        jobs.kill_all()
