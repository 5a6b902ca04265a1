"""One suite, two executors (local job slots and RQ workers): runs, stop, limits, faults."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.harness import JobSystem, pid_alive, table_rows, wait_for
from tests.integration.models import FAST, bad_code, slow_code

from softquery.domain import RunStatus

System = tuple[JobSystem, SoftqueryCLI, Path]
TRAIN = "select id, x, y from t"
PREDICT = "select id, x from t"


def create(cli: SoftqueryCLI, tmp: Path, name: str, code: str, *extra: str) -> None:
    path = tmp / f"{name}.py"
    path.write_text(code)
    cli("model", "create", name, "--source", "src", "--code-file", str(path),
        "--train-sql", TRAIN, "--predict-sql", PREDICT, *extra)


def submit(cli: SoftqueryCLI, *args: str) -> str:
    run = cli(*args, "--json").json()
    # The server's slots may claim it before the CLI reads it back.
    assert run["status"] in ("queued", "running"), run
    return str(run["id"])


def test_train_and_predict_through_the_queue(system: System, tmp_path: Path) -> None:
    jobs, cli, db = system
    create(cli, tmp_path, "fast", FAST)
    run = jobs.wait_finished(submit(cli, "train", "fast"))
    assert run.status is RunStatus.SUCCEEDED, run.error_message
    assert run.result["train"]["version"] == 1
    assert "training on 100 rows" in run.stdout
    waited = cli("predict", "fast", "--wait", "--json").json()
    assert waited["status"] == "succeeded"
    assert len(table_rows(db, "select * from fast_prediction")) == 100
    both = jobs.wait_finished(submit(cli, "train", "fast", "--and-predict"))
    assert both.status is RunStatus.SUCCEEDED and both.result["predict"]["version"] == 2


def test_stop_running_run_kills_it_and_keeps_state(system: System, tmp_path: Path, exchange_dir: Path) -> None:
    jobs, cli, db = system
    code, pidfile, _ = slow_code(exchange_dir)
    create(cli, tmp_path, "slow", code)
    run_id = submit(cli, "train", "slow")
    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text(), 30, "the job child to start"))
    wait_for(lambda: "step 3" in jobs.run(run_id).stdout, 10, "live log lines")
    stopped_at = time.monotonic()
    cli("run", "stop", run_id)
    wait_for(lambda: not pid_alive(pid), 2.0, "the job process to end")
    assert time.monotonic() - stopped_at <= 2.0
    run = jobs.wait_finished(run_id, 10)
    assert run.status is RunStatus.CANCELLED
    assert cli("versions", "slow", "--json").json() == []


def test_stop_during_table_write_keeps_old_table(system: System, tmp_path: Path, exchange_dir: Path) -> None:
    jobs, cli, db = system
    code, pidfile, slowfile = slow_code(exchange_dir, steps=1)
    create(cli, tmp_path, "slow", code)
    assert jobs.wait_finished(submit(cli, "train", "slow")).status is RunStatus.SUCCEEDED
    assert jobs.wait_finished(submit(cli, "predict", "slow")).status is RunStatus.SUCCEEDED
    before = table_rows(db, "select * from slow_prediction order by id")
    pidfile.unlink()
    slowfile.write_text("1")
    run_id = submit(cli, "predict", "slow")
    wait_for(pidfile.exists, 30, "predict to start")
    cli("run", "stop", run_id)
    assert jobs.wait_finished(run_id, 10).status is RunStatus.CANCELLED
    assert table_rows(db, "select * from slow_prediction order by id") == before
    staging = table_rows(db, "select name from sqlite_master where name like '_sq_stage_%'")
    assert staging == []


def test_second_run_of_a_model_waits_and_queued_stop_cancels(system: System, tmp_path: Path, exchange_dir: Path) -> None:
    jobs, cli, db = system
    code, pidfile, _ = slow_code(exchange_dir, steps=20)
    create(cli, tmp_path, "slow", code)
    first, second, third = submit(cli, "train", "slow"), submit(cli, "train", "slow"), submit(cli, "train", "slow")
    wait_for(pidfile.exists, 30, "the first run to start")
    cli("run", "stop", third)
    assert jobs.run(third).status is RunStatus.CANCELLED
    a, b = jobs.wait_finished(first), jobs.wait_finished(second)
    assert a.status is b.status is RunStatus.SUCCEEDED
    assert a.started_at and a.finished_at and b.started_at and b.finished_at
    # One at a time per model: the two runs never overlap (with two workers, either may go first).
    assert b.started_at >= a.finished_at or a.started_at >= b.finished_at
    assert [v["version"] for v in cli("versions", "slow", "--json").json()] == [1, 2]
    if jobs.kind == "rq":
        from redis import Redis
        from rq import Queue

        queue = Queue("softquery", connection=Redis.from_url(jobs.env["SOFTQUERY_QUEUE"]))
        assert not [j for j in queue.get_job_ids() if third in j]


@pytest.mark.parametrize(("kind", "status", "needle"), [
    ("loop", "time_limit", "time limit of 2"),
    ("alloc", "memory_limit", "memory"),
    ("exit", "exited", "code 3"),
    ("crash", "signal", "SIGSEGV"),
    ("forks", "process_limit", "process"),
])
def test_limits_and_crashes_fail_with_a_clear_message(system: System, tmp_path: Path, kind: str, status: str,
                                                      needle: str) -> None:
    jobs, cli, db = system
    create(cli, tmp_path, "bad", bad_code(kind), "--time-limit", "2", "--memory-limit", "300")
    run = jobs.wait_finished(submit(cli, "train", "bad"), 60)
    assert run.status is RunStatus.FAILED
    assert run.error_code == status, (run.error_code, run.error_message)
    assert needle in (run.error_message or ""), run.error_message
    assert cli("versions", "bad", "--json").json() == []


def test_sigkill_of_the_job_child_fails_the_run(system: System, tmp_path: Path, exchange_dir: Path) -> None:
    jobs, cli, db = system
    code, pidfile, _ = slow_code(exchange_dir)
    create(cli, tmp_path, "slow", code)
    run_id = submit(cli, "train", "slow")
    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text(), 30, "the job child"))
    os.kill(pid, signal.SIGKILL)
    run = jobs.wait_finished(run_id, 10)
    assert run.status is RunStatus.FAILED and "SIGKILL" in (run.error_message or "")
    assert cli("versions", "slow", "--json").json() == []


@pytest.mark.parametrize("phase", ["train", "predict"])
def test_sigkill_of_the_executor_abandons_the_run_and_loses_nothing(system: System, tmp_path: Path, exchange_dir: Path,
                                                                    phase: str) -> None:
    jobs, cli, db = system
    code, pidfile, slowfile = slow_code(exchange_dir, steps=1 if phase == "predict" else 2000)
    create(cli, tmp_path, "slow", code)
    create(cli, tmp_path, "fast", FAST)
    before: list[tuple[object, ...]] = []
    if phase == "predict":
        assert jobs.wait_finished(submit(cli, "train", "slow")).status is RunStatus.SUCCEEDED
        assert jobs.wait_finished(submit(cli, "predict", "slow")).status is RunStatus.SUCCEEDED
        before = table_rows(db, "select * from slow_prediction order by id")
        pidfile.unlink()
        slowfile.write_text("1")
    run_id = submit(cli, phase, "slow")
    pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text(), 30, "the job child"))
    jobs.kill_all(signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), 5, "the orphaned job child to die with its parent")
    queued = submit(cli, "train", "fast") if jobs.kind == "rq" else None
    slowfile.unlink(missing_ok=True)
    jobs.start()
    run = jobs.wait_finished(run_id, 30)
    assert run.status is RunStatus.FAILED and run.error_code == "abandoned"
    if phase == "predict":
        assert table_rows(db, "select * from slow_prediction order by id") == before
    else:
        assert cli("versions", "slow", "--json").json() == []
    if queued:
        assert jobs.wait_finished(queued, 30).status is RunStatus.SUCCEEDED


def test_a_run_executed_twice_creates_one_version(system: System, tmp_path: Path) -> None:
    jobs, cli, db = system
    from softquery.services.run_supervision import supervise

    create(cli, tmp_path, "fast", FAST, "--write-mode", "append")
    run_id = submit(cli, "train", "fast", "--and-predict")
    if jobs.kind == "rq":
        from softquery.jobs.rq_queue import RQExecutor

        RQExecutor(jobs.env["SOFTQUERY_QUEUE"]).submit(run_id)  # a duplicate delivery
    assert jobs.wait_finished(run_id).status is RunStatus.SUCCEEDED
    ctx = jobs.context()
    try:
        assert supervise(ctx, run_id, worker="test") == "gone"
    finally:
        ctx.close()
    assert [v["version"] for v in cli("versions", "fast", "--json").json()] == [1]
    assert len(table_rows(db, "select * from fast_prediction")) == 100
