"""50 train/predict runs across 2 RQ worker processes all finish, none lost.

Real PostgreSQL metadata DB, real Redis, two `softquery worker` processes, a
handful of models so the one-run-per-model rule (busy runs requeued behind the
running one) is exercised all the time.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.harness import JobSystem, make_source, use_softquery_env, wait_for

from softquery.domain import RunKind, RunStatus, RunTrigger

pytestmark = pytest.mark.postgres

MODELS = [f"m{i}" for i in range(5)]
TOTAL_RUNS = 50
DEADLINE_SECONDS = 240.0
# Like models.FAST, with the task declared: on a 10-row table an integral mean would
# otherwise make the task heuristic guess classification.
TINY = '''
class Model:
    task = "regression"
    def train(self, X, y):
        print("training on", len(X), "rows", flush=True)
        self.mean = float(sum(y)) / len(y)
    def predict(self, X):
        return [self.mean] * len(X)
'''

Rq = tuple[JobSystem, SoftqueryCLI]


@pytest.fixture
def rq_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
              pg_database: str, redis_url: str) -> Iterator[Rq]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOFTQUERY_")}
    env.update({
        "SOFTQUERY_HOME": str(tmp_path / "home"),
        "SOFTQUERY_HEARTBEAT_SECONDS": "0.5",
        "SOFTQUERY_ABANDON_AFTER_SECONDS": "30",
        "SOFTQUERY_DATABASE_URL": pg_database,
        "SOFTQUERY_QUEUE": redis_url,
    })
    use_softquery_env(monkeypatch, env)
    cli = SoftqueryCLI(capsys, tmp_path / "home")
    cli("init")
    cli("source", "add", "src", make_source(tmp_path / "source.db", rows=10))
    for name in MODELS:
        code = tmp_path / f"{name}.py"
        code.write_text(TINY)
        cli("model", "create", name, "--source", "src", "--code-file", str(code),
            "--train-sql", "select id, x, y from t", "--predict-sql", "select id, x from t")
    jobs = JobSystem("rq", env, tmp_path)
    jobs.start()
    try:
        yield jobs, cli
    finally:
        jobs.kill_all()


def _submit(cli: SoftqueryCLI, kind: str, model: str) -> str:
    run = cli(kind, model, "--json").json()
    assert run["status"] in ("queued", "running"), run
    return str(run["id"])


def _plan() -> list[tuple[str, str]]:
    """Every model trained first, then a mix of trains and predicts up to TOTAL_RUNS."""
    first = [("train", m) for m in MODELS]
    rest = [("predict" if i % 3 else "train", MODELS[i % len(MODELS)])
            for i in range(TOTAL_RUNS - len(first))]
    return first + rest


def test_fifty_runs_across_two_rq_workers_all_finish_none_lost(rq_system: Rq) -> None:
    jobs, cli = rq_system
    plan = _plan()
    first, rest = plan[:len(MODELS)], plan[len(MODELS):]
    # Train every model first so no predict can run before its model has a version.
    submitted = [_submit(cli, kind, model) for kind, model in first]
    for run_id in submitted:
        assert jobs.wait_finished(run_id, 120).status is RunStatus.SUCCEEDED, jobs.run(run_id).error_message
    submitted += [_submit(cli, kind, model) for kind, model in rest]
    assert len(submitted) == len(set(submitted)) == TOTAL_RUNS

    ctx = jobs.context()
    try:
        def all_finished() -> bool:
            runs = ctx.runs.list(limit=1000)
            return len(runs) >= TOTAL_RUNS and all(r.status.finished for r in runs)

        wait_for(all_finished, DEADLINE_SECONDS, f"{TOTAL_RUNS} runs to finish", interval=0.25)
        runs = ctx.runs.list(limit=1000)
    finally:
        ctx.close()

    # None lost, none invented: exactly the runs we submitted, each exactly once.
    assert sorted(r.id for r in runs) == sorted(submitted)
    failed = {r.id: (r.kind.value, r.error_code, r.error_message) for r in runs if r.status is not RunStatus.SUCCEEDED}
    assert not failed, failed
    assert all(r.trigger is RunTrigger.CLI and r.started_at and r.finished_at for r in runs)

    # No run executed twice: versions per model == trains of that model, numbered 1..n.
    trains = Counter(model for kind, model in plan if kind == "train")
    for name in MODELS:
        versions = sorted(v["version"] for v in cli("versions", name, "--json").json())
        assert versions == list(range(1, trains[name] + 1)), (name, versions)
    by_kind = Counter(r.kind for r in runs)
    assert by_kind[RunKind.TRAIN] == sum(trains.values()) and by_kind[RunKind.PREDICT] == TOTAL_RUNS - sum(trains.values())

    # One run per model at a time: no two runs of a model overlapped.
    for name in MODELS:
        spans = sorted((r.started_at, r.finished_at) for r in runs if r.model == name)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end is not None and start is not None and start >= end, (name, spans)

    # Both worker processes did work: the RQ jobs that claimed our runs name 2 workers.
    # The runs' `worker` column holds the id of the RQ work-horse (one forked process
    # per job, see services/run_supervision.py:execute_run_job), so it has >= 2 distinct values.
    assert all(r.worker for r in runs)
    assert len({r.worker for r in runs}) >= 2
    assert len(_rq_worker_names(jobs)) == 2

    # Redis holds nothing left over and nothing failed.
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry

    queue = Queue("softquery", connection=Redis.from_url(jobs.env["SOFTQUERY_QUEUE"]))
    assert queue.get_job_ids() == []
    assert FailedJobRegistry(queue=queue).get_job_ids() == []


def _rq_worker_names(jobs: JobSystem) -> set[str]:
    """Names of the RQ workers that executed a job claiming a run (outcome "claimed")."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    redis = Redis.from_url(jobs.env["SOFTQUERY_QUEUE"])
    queue = Queue("softquery", connection=redis)
    ids = FinishedJobRegistry(queue=queue).get_job_ids()
    names = set()
    for job in Job.fetch_many(ids, connection=redis):
        if job is not None and job.return_value() == "claimed" and job.worker_name:
            names.add(job.worker_name)
    return names
