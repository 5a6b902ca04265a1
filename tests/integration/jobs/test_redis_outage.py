"""A run submitted while Redis is down: answered for what it is, run exactly once when Redis is back.

Before: ``POST /models/{name}/train`` answered 500 although the run was created (queued
in the metadata DB) and ran later, so a client that retried the 500 trained twice.
Now the run is answered 202, queued, with a phase that says it waits for Redis; a
worker hands it to the queue as soon as Redis is back. Real Redis (stopped and started
on the same port), real PostgreSQL metadata DB, real ``softquery worker`` processes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests import authkit
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.harness import JobSystem, make_source, use_softquery_env, wait_for
from tests.integration.models import FAST
from tests.redisserver import RedisServer

from softquery.config import Settings
from softquery.domain import RunStatus
from softquery.jobs.executor import WAITING_FOR_QUEUE
from softquery.jobs.rq_queue import RQExecutor
from softquery.server import create_app
from softquery.services.context import open_context
from softquery.services.runs import pick_executor


@pytest.mark.postgres
def test_a_run_submitted_while_redis_is_down_runs_once_when_it_is_back(
        tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    redis = RedisServer()
    redis.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    env.update({"SOFTQUERY_HOME": str(tmp_path / "home"), "SOFTQUERY_DATABASE_URL": pg_database,
                "SOFTQUERY_QUEUE": redis.url, "SOFTQUERY_HEARTBEAT_SECONDS": "0.5"})
    use_softquery_env(monkeypatch, env)
    cli = SoftqueryCLI(capsys, tmp_path / "home")
    cli("init")
    cli("source", "add", "src", make_source(tmp_path / "source.db"))
    (tmp_path / "fast.py").write_text(FAST)
    cli("model", "create", "fast", "--source", "src", "--code-file", str(tmp_path / "fast.py"),
        "--train-sql", "select id, x, y from t", "--predict-sql", "select id, x from t")
    jobs = JobSystem("rq", env, tmp_path)
    ctx = open_context(Settings(home=tmp_path / "home", database_url=pg_database, queue=redis.url))
    try:
        executor = pick_executor(ctx)
        assert isinstance(executor, RQExecutor)
        jobs.start()  # the workers run through the outage
        wait_for(lambda: len([k for _, k in ctx.executors.live(10) if k == "worker"]) == 2, 60,
                 "both workers to register")
        redis.halt()
        with TestClient(create_app(ctx, executor), raise_server_exceptions=False) as client:
            client.headers.update(authkit.bearer(ctx))
            response = client.post("/api/v1/models/fast/train")
            assert response.status_code == 202, response.text
            answered = response.json()
            assert answered["status"] == "queued" and answered["phase"] == WAITING_FOR_QUEUE, answered
            assert "Redis" in answered["phase"]
            # stopping another queued run while Redis is down is not a 500 either
            other = client.post("/api/v1/models/fast/train").json()
            stopped = client.post(f"/api/v1/runs/{other['id']}/stop")
            assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled", stopped.text
        assert [r.id for r in ctx.runs.list("fast", RunStatus.QUEUED)] == [answered["id"]]
        redis.start()  # back, empty: the worker's sweep hands the waiting run to the queue
        run = jobs.wait_finished(answered["id"], timeout=60)
        assert run.status is RunStatus.SUCCEEDED, run.error_message
        assert run.stdout.count("training on 100 rows") == 1
        assert [v.version for v in ctx.versions.list("fast")] == [1]
        assert sorted(r.status.value for r in ctx.runs.list("fast")) == ["cancelled", "succeeded"]
    finally:
        ctx.close()
        jobs.kill_all()
        redis.stop()
