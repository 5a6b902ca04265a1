"""A write killed midway must not block its SQLite source (local executor and RQ).

``kill -9`` of the process writing a prediction's output table leaves the
staging table and, once SQLite has begun to change the file, a hot rollback
journal that every read-only query then fails on. The server and the worker
undo both when they start, a prediction undoes them before it writes, and a
read-only query that meets the journal says what happened and how it ends.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from tests.integration.cli.cli_harness import SoftqueryCLI
from tests.integration.data.killed_writer import kill_mid_write, read_only_fails
from tests.integration.harness import JobSystem, wait_for
from tests.integration.models import FAST

from softquery.data.sqlite_journal import pending_journal
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.prediction.table_writer import staging_name
from softquery.services.preview import preview_query

System = tuple[JobSystem, SoftqueryCLI, Path]
CHUNK_ROWS = 1_000  # the staging table is committed with its first chunk, the rest in one transaction
ROWS = 12_000
CACHE_PAGES = 50  # the source's page cache: that transaction outgrows it, so SQLite writes the file itself
WRITING = "writing the output table"


@pytest.fixture
def job_env() -> dict[str, str]:
    return {"SOFTQUERY_CHUNK_ROWS": str(CHUNK_ROWS)}


def grow(db: Path, rows: int) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("insert into t with recursive n(i) as (select 100 union all select i + 1 from n "
                     f"where i < {rows - 1}) select i, i, 2.0 * i + 1 from n")
    conn.close()


def create_fast(cli: SoftqueryCLI, tmp: Path) -> None:
    path = tmp / "fast.py"
    path.write_text(FAST)
    cli("model", "create", "fast", "--source", "src", "--code-file", str(path),
        "--train-sql", "select id, x, y from t where id < 100", "--predict-sql", "select id, x from t")


def run_ok(jobs: JobSystem, cli: SoftqueryCLI, *args: str) -> str:
    run_id = str(cli(*args, "--json").json()["id"])
    run = jobs.wait_finished(run_id, 90)
    assert run.status is RunStatus.SUCCEEDED, run.error_message
    return run_id


def rows_of(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Read through a read-only connection: it never rolls a journal back itself."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def stage_tables(db: Path) -> list[str]:
    return [r[0] for r in rows_of(db, "select name from sqlite_master where name like '\\_sq\\_stage\\_%' escape '\\'")]


def preview_error(jobs: JobSystem) -> dict[str, Any] | None:
    ctx = jobs.context()
    try:
        return preview_query(ctx, "src", "select id, x from t", limit=3).error
    finally:
        ctx.close()


def undone_copy(db: Path, journal: Path, folder: Path) -> Path:
    """A copy of the file as it is once its journal is rolled back (the original is untouched)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    shutil.copy(db, folder / db.name)
    shutil.copy(journal, folder / journal.name)
    with sqlite3.connect(folder / db.name) as conn:  # read-write: rolls the copy's journal back
        conn.execute("select count(*) from sqlite_master").fetchall()
    conn.close()
    assert pending_journal(folder / db.name) is None
    return folder / db.name


def _stopped(pid: int) -> bool:
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/stat") as fh:
                if fh.read().rsplit(")", 1)[-1].split()[0] not in ("T", "t"):
                    return False
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return True


def kill_mid_stage(pid: int, db: Path, stage: str, folder: Path, timeout: float = 90) -> Path:
    """Let the writer run in short slices (SIGSTOP/SIGCONT) until, stopped, it holds a hot
    journal over a committed staging table: it has begun to change the file in the
    transaction that appends to ``stage``. Then ``kill -9`` it where it stands (stopped,
    it cannot commit in between). Returns the copy of the file with the write undone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        os.kill(pid, signal.SIGSTOP)
        wait_for(lambda: _stopped(pid), 5, "the writer to stop", interval=0.0005)
        journal = pending_journal(db)
        if journal is not None:
            copy = undone_copy(db, journal, folder)
            if rows_of(copy, f"select name from sqlite_master where name = '{stage}'"):
                os.kill(pid, signal.SIGKILL)
                return copy
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.002)
    os.kill(pid, signal.SIGCONT)
    raise AssertionError("the writer never began to change the file while appending to its staging table")


def test_kill_while_writing_the_output_table(system: System, tmp_path: Path) -> None:
    jobs, cli, db = system
    grow(db, ROWS)
    with sqlite3.connect(db) as conn:  # kept in the file: every connection's page cache
        conn.execute(f"pragma default_cache_size = {CACHE_PAGES}")
    conn.close()
    create_fast(cli, tmp_path)
    run_ok(jobs, cli, "train", "fast")
    run_ok(jobs, cli, "predict", "fast")
    before = rows_of(db, "select * from fast_prediction order by id")
    assert len(before) == ROWS

    run_id = str(cli("predict", "fast", "--json").json()["id"])
    run = wait_for(lambda: (r := jobs.run(run_id)).worker and r, 60, "the run to be claimed", interval=0.01)
    pid = int(str(run.worker).split(":")[-2])  # the process supervising the run: host:pid:kind
    assert pid in [p.pid for p in jobs.procs]
    undone = kill_mid_stage(pid, db, staging_name(run_id), tmp_path / "undone")
    jobs.kill_all(signal.SIGKILL)
    assert jobs.run(run_id).phase == WRITING

    # the fault: a hot journal that blocks every read-only query, over the staging table
    assert pending_journal(db) is not None and read_only_fails(db)
    error = preview_error(jobs)
    assert error is not None and error["code"] == "interrupted_write", error
    assert "was interrupted" in error["message"] and "can only read" not in error["message"]
    assert rows_of(undone, "select * from fast_prediction order by id") == before
    assert rows_of(undone, f"select count(*) from {staging_name(run_id)}") == [(CHUNK_ROWS,)]

    jobs.start()
    wait_for(lambda: pending_journal(db) is None, 30, "the journal to be rolled back")
    assert rows_of(db, "select * from fast_prediction order by id") == before
    wait_for(lambda: stage_tables(db) == [], 30, "the staging table of the killed run to be dropped")
    assert preview_error(jobs) is None  # read-only queries work again
    assert jobs.wait_finished(run_id, 30).error_code == "abandoned"


def leave_stage_tables(db: Path, finished_run: str) -> str:
    """The staging table a finished run left behind, and one of a run this installation
    does not know (another installation may be writing it)."""
    stage = staging_name(finished_run)
    with sqlite3.connect(db) as conn:
        conn.execute(f"create table {stage} as select id, x from t limit 10")
        conn.execute("create table _sq_stage_notours (id integer)")
    conn.close()
    return stage


BIG_WRITE = "insert into t select id + 1000000, x, y from t"


def test_start_recovers_what_a_killed_writer_left(system: System, tmp_path: Path) -> None:
    jobs, cli, db = system
    jobs.kill_all(signal.SIGKILL)
    grow(db, 5_000)
    create_fast(cli, tmp_path)
    ctx = jobs.context()  # nothing runs now: the run cannot be claimed before it is finished
    try:
        run = ctx.runs.create("fast", RunKind.PREDICT, RunTrigger.CLI)
        ctx.runs.finish(run.id, RunStatus.FAILED, error={"code": "abandoned", "message": "", "details": {}})
    finally:
        ctx.close()
    leave_stage_tables(db, run.id)
    kill_mid_write(db, BIG_WRITE)
    assert read_only_fails(db)
    jobs.start()
    wait_for(lambda: pending_journal(db) is None, 30, "the start to roll the journal back")
    wait_for(lambda: stage_tables(db) == ["_sq_stage_notours"], 30, "the finished run's staging table to go")
    assert rows_of(db, "select count(*) from t") == [(5_000,)]


def test_a_blocked_source_says_so_and_the_next_prediction_recovers_it(system: System, tmp_path: Path) -> None:
    jobs, cli, db = system
    grow(db, 5_000)
    create_fast(cli, tmp_path)
    trained = run_ok(jobs, cli, "train", "fast")
    run_ok(jobs, cli, "predict", "fast")  # its table is claimed: the next predict only reads, then writes
    stage = leave_stage_tables(db, trained)
    kill_mid_write(db, BIG_WRITE)

    error = preview_error(jobs)
    assert error is not None and error["code"] == "interrupted_write", error
    assert "start a prediction of a model on this source" in error["message"]
    train = str(cli("train", "fast", "--json").json()["id"])
    failed = jobs.wait_finished(train, 60)
    assert failed.status is RunStatus.FAILED and failed.error_code == "interrupted_write", failed.error_message
    assert "query cannot run: a write to the SQLite file" in (failed.error_message or "")

    run_ok(jobs, cli, "predict", "fast")
    assert pending_journal(db) is None
    assert rows_of(db, "select count(*) from fast_prediction") == [(5_000,)]
    assert stage not in stage_tables(db) and "_sq_stage_notours" in stage_tables(db)
    assert preview_error(jobs) is None
