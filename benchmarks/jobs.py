"""Job dispatch benchmark: softquery's local and RQ executors against a bare RQ job.

Measures, in one run, on one host:

* **bare RQ** (the reference): ``rq worker`` ×2 executing a no-op function;
  dispatch latency = job ``started_at`` − ``enqueued_at`` (both recorded by RQ);
* **rq**: ``softquery worker`` ×2, runs submitted as the CLI does (a run row in the
  metadata DB, its id enqueued on Redis);
* **local (HTTP)**: ``softquery serve`` with ``--slots`` job slots, runs submitted
  through its REST API (``POST /api/v1/models/{name}/train`` → 202, with an admin's
  bearer token), so submission wakes a slot in-process;
* **local (DB queue)**: the same server, runs submitted as a CLI in another process
  does when a server is alive (a queued run row that the slots poll for).

For softquery, dispatch latency = the run's ``started_at`` − ``created_at`` (both
recorded by softquery in the metadata DB; ``started_at`` is when a supervisor
claimed the run). Each system is measured twice:

* *idle*: ``--idle-runs`` runs one after another (the next is submitted when the
  previous one finished), so the figure is the dispatch path itself;
* *burst*: ``--runs`` tiny runs submitted at once over ``--models`` models (trivial
  model over a 10-row table, so runs of different models go in parallel);
  throughput = runs finished / (last finish − first submit).

Target: idle dispatch p50 within 2× of the bare RQ idle p50. The metadata DB is a
SQLite file (WAL) in a temporary ``SOFTQUERY_HOME`` shared by the worker processes
of this host, or a throwaway PostgreSQL with ``--postgres`` (tests/pgserver.py).

Usage: ``.venv/bin/python benchmarks/jobs.py [--runs 200] [--idle-runs 20] [--postgres]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobs_setup import (
    Processes,
    api_token,
    environment,
    metadata_db,
    open_ctx,
    redis_server,
    set_up,
)

BIN = Path(sys.executable).parent
SOFTQUERY = [sys.executable, "-m", "softquery.cli.main"]
TARGET_RATIO = 2.0
DEADLINE_SECONDS = 120.0
BARE_QUEUE = "bare"


def noop() -> None:
    """The bare RQ job: does nothing."""


# --------------------------------------------------------------------------- figures


@dataclass
class Figures:
    name: str
    idle_ms: list[float]
    burst_ms: list[float]
    burst_runs: int
    burst_seconds: float
    note: str = ""
    runs: list[Any] = field(default_factory=list)  # softquery runs (for run time and breakdowns)

    @property
    def run_ms(self) -> float:
        """Median claim -> finish time of one run (supervisor + sandboxed child)."""
        values = [ms(r.finished_at, r.started_at) for r in self.runs]
        return statistics.median(values) if values else float("nan")

    @property
    def throughput(self) -> float:
        return self.burst_runs / self.burst_seconds if self.burst_seconds > 0 else float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def ms(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() * 1000.0


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"benchmark: timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def measure_softquery(name: str, env: dict[str, str], models: list[str], submit: Callable[[str], str],
                      idle_runs: int, burst_runs: int) -> Figures:
    """Idle then burst runs through ``submit(model) -> run id``; figures from the metadata DB."""
    from sqlalchemy import func, select

    from softquery.store.tables import runs as runs_table

    ctx = open_ctx(env)
    try:
        def finished(run_id: str) -> Any:
            run = ctx.runs.get(run_id)
            return run if run.status.finished else None

        idle: list[float] = []
        idle_runs_done = []
        for i in range(idle_runs):
            run_id = submit(models[i % len(models)])
            run = wait_for(functools.partial(finished, run_id), DEADLINE_SECONDS, f"{name}: idle run {i}",
                           interval=0.005)
            _check(name, run)
            idle.append(ms(run.started_at, run.created_at))
            idle_runs_done.append(run)
        if not burst_runs:
            return Figures(name, idle, [], 0, 0.0, runs=idle_runs_done)

        ids = [submit(models[i % len(models)]) for i in range(burst_runs)]
        done_query = select(func.count()).select_from(runs_table).where(
            runs_table.c.id.in_(ids), runs_table.c.status.in_(["succeeded", "failed", "cancelled"]))

        def burst_done() -> bool:  # one light count query, so polling does not slow the system down
            with ctx.engine.connect() as conn:
                return bool(conn.execute(done_query).scalar() == len(ids))

        wait_for(burst_done, DEADLINE_SECONDS * 2, f"{name}: {burst_runs} burst runs", interval=0.25)
        runs = [ctx.runs.get(run_id) for run_id in ids]
        for run in runs:
            _check(name, run)
        wall = (max(r.finished_at for r in runs) - min(r.created_at for r in runs)).total_seconds()
        return Figures(name, idle, [ms(r.started_at, r.created_at) for r in runs], len(runs), wall,
                       runs=idle_runs_done + runs)
    finally:
        ctx.close()


def _check(name: str, run: Any) -> None:
    if run.status.value != "succeeded":
        raise SystemExit(f"benchmark: {name} run {run.id} {run.status.value}: {run.error_code} {run.error_message}")


# --------------------------------------------------------------------------- the systems


def bench_bare_rq(redis_url: str, workers: int, idle_runs: int, burst_runs: int, procs: Processes) -> Figures:
    from redis import Redis
    from rq import Queue
    from rq.job import Job, JobStatus

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")]))
    redis = Redis.from_url(redis_url)
    for _ in range(workers):
        procs.spawn([str(BIN / "rq"), "worker", "--url", redis_url, "--logging_level", "WARNING", BARE_QUEUE],
                    env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from rq import Worker

    wait_for(lambda: len(Worker.all(connection=redis)) >= workers, 30, "bare RQ workers", interval=0.05)
    queue = Queue(BARE_QUEUE, connection=redis)
    func = f"{Path(__file__).stem}.noop"

    def done(job: Job) -> Job | None:
        job.refresh()
        status = job.get_status()
        if status == JobStatus.FAILED:
            raise SystemExit(f"benchmark: bare RQ job failed: {job.latest_result()}")
        return job if status == JobStatus.FINISHED else None

    idle = []
    for i in range(idle_runs):
        job = wait_for(functools.partial(done, queue.enqueue(func)), DEADLINE_SECONDS, f"bare RQ idle job {i}",
                       interval=0.005)
        idle.append(ms(job.started_at, job.enqueued_at))
    jobs = [queue.enqueue(func) for _ in range(burst_runs)]
    wait_for(lambda: all(done(j) for j in jobs), DEADLINE_SECONDS, "bare RQ burst", interval=0.05)
    wall = (max(j.ended_at for j in jobs) - min(j.enqueued_at for j in jobs)).total_seconds()
    figures = Figures("bare RQ (no-op job)", idle, [ms(j.started_at, j.enqueued_at) for j in jobs], len(jobs), wall)
    procs.stop()
    return figures


def bench_rq(tmp: Path, redis_url: str, postgres: bool, workers: int, models: list[str], idle_runs: int,
             burst_runs: int, procs: Processes) -> Figures:
    from redis import Redis

    from softquery.domain import RunKind, RunTrigger
    from softquery.jobs.rq_queue import RQExecutor
    from softquery.services.runs import submit_run

    Redis.from_url(redis_url).flushdb()
    home = tmp / "rq-home"
    with metadata_db(home, postgres) as database_url:
        env = environment(home, database_url, redis_url)
        set_up(home, env, models)
        for _ in range(workers):
            procs.spawn([*SOFTQUERY, "worker"], env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ctx = open_ctx(env)
        executor = RQExecutor(redis_url)
        try:
            wait_for(lambda: len([k for _, k in ctx.executors.live(30)]) >= workers, 60, "softquery workers",
                     interval=0.05)
            def submit(model: str) -> str:
                return submit_run(ctx, model, RunKind.TRAIN, RunTrigger.CLI, executor).id

            figures = measure_softquery("rq", env, models, submit, idle_runs, 0)
            breakdown = rq_breakdown(redis_url, figures.runs)
            burst = measure_softquery("rq", env, models, submit, 0, burst_runs)
            figures.burst_ms, figures.burst_runs, figures.burst_seconds = (burst.burst_ms, burst.burst_runs,
                                                                           burst.burst_seconds)
            figures.runs += burst.runs
        finally:
            ctx.close()
            procs.stop()
    figures.name = f"rq ({workers} softquery workers)"
    figures.note = ("metadata: PostgreSQL" if postgres else "metadata: SQLite (WAL) shared by the workers") + breakdown
    return figures


def rq_breakdown(redis_url: str, runs: list[Any]) -> str:
    """Where the idle dispatch time of rq goes, from RQ's and softquery's own timestamps."""
    from redis import Redis
    from rq import Queue
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    from softquery.jobs.rq_queue import QUEUE_NAME

    redis = Redis.from_url(redis_url)
    job_ids = FinishedJobRegistry(queue=Queue(QUEUE_NAME, connection=redis)).get_job_ids()
    jobs = {}
    for job in Job.fetch_many(job_ids, connection=redis):
        if job is not None and job.return_value() == "claimed":
            jobs[job.id.split("-")[1]] = job
    parts: dict[str, list[float]] = {"insert run row + enqueue": [], "RQ dequeue (job started_at - enqueued_at)": [],
                                     "work-horse start -> claim committed": []}
    for run in runs:
        job = jobs.get(run.id)
        if job is None or job.enqueued_at is None or job.started_at is None:
            continue
        enqueued, started = job.enqueued_at.replace(tzinfo=UTC), job.started_at.replace(tzinfo=UTC)
        parts["insert run row + enqueue"].append(ms(enqueued, run.created_at))
        parts["RQ dequeue (job started_at - enqueued_at)"].append(ms(started, enqueued))
        parts["work-horse start -> claim committed"].append(ms(run.started_at, started))
    lines = [f"\n  idle dispatch breakdown (p50 ms over {len(parts['work-horse start -> claim committed'])} runs):"]
    lines += [f"\n    {label:<44} {percentile(values, 50):7.1f}" for label, values in parts.items()]
    return "".join(lines)


def bench_local(tmp: Path, slots: int, models: list[str], idle_runs: int, burst_runs: int,
                procs: Processes) -> list[Figures]:
    import httpx

    from softquery.domain import RunKind, RunTrigger
    from softquery.jobs.executor import DatabaseQueue
    from softquery.services.runs import submit_run

    home = tmp / "local-home"
    env = environment(home, None, None)
    set_up(home, env, models)
    token = api_token(env)
    server = procs.spawn([*SOFTQUERY, "serve", "--port", "0", "--slots", str(slots), "--no-scheduler"], env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = ""  # serve first says how model code runs, then where it serves
    while server.stdout and "serving at" not in line and (line := server.stdout.readline()):
        pass
    if "serving at" not in line:
        raise SystemExit(f"benchmark: softquery serve did not start: {line!r}")
    base = line.split("serving at ")[1].split()[0].rstrip("/")
    ctx = open_ctx(env)
    try:
        wait_for(lambda: any(k == "server" for _, k in ctx.executors.live(30)), 30, "server registration")
        with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
            def post(model: str) -> str:
                response = client.post(f"/api/v1/models/{model}/train")
                if response.status_code != 202:
                    raise SystemExit(f"benchmark: POST train {model}: {response.status_code} {response.text}")
                return str(response.json()["id"])

            http = measure_softquery("local (HTTP)", env, models, post, idle_runs, burst_runs)
        queue = DatabaseQueue()
        db = measure_softquery(
            "local (DB queue)", env, models,
            lambda model: submit_run(ctx, model, RunKind.TRAIN, RunTrigger.CLI, queue).id, idle_runs, 0)
    finally:
        ctx.close()
        procs.stop()
    http.name = f"local HTTP API ({slots} slots)"
    db.name = f"local DB queue ({slots} slots)"
    for fig in (http, db):
        fig.note = "metadata: SQLite (WAL)"
    return [http, db]


# --------------------------------------------------------------------------- report


def report(reference: Figures, rows: list[Figures]) -> bool:
    header = (f"{'system':<34} {'idle p50':>9} {'idle p99':>9} {'burst p50':>10} {'burst p99':>10} "
              f"{'runs/s':>8} {'run ms':>7} {'p50 ratio':>9}  target")
    print(header)
    print("-" * len(header))
    base = percentile(reference.idle_ms, 50)
    ok = True
    for fig in [reference, *rows]:
        p50 = percentile(fig.idle_ms, 50)
        ratio = p50 / base if base > 0 else float("nan")
        verdict = "(reference)" if fig is reference else ("PASS" if ratio <= TARGET_RATIO else "FAIL")
        ok = ok and verdict != "FAIL"
        print(f"{fig.name:<34} {p50:>9.1f} {percentile(fig.idle_ms, 99):>9.1f} "
              f"{percentile(fig.burst_ms, 50):>10.1f} {percentile(fig.burst_ms, 99):>10.1f} "
              f"{fig.throughput:>8.1f} {fig.run_ms:>7.0f} {ratio:>8.2f}x  {verdict}")
    print()
    print("latencies in ms: enqueue -> running (softquery: run created_at -> started_at; bare RQ: job enqueued_at -> "
          "started_at).")
    print(f"idle = {len(reference.idle_ms)} runs one after another; burst = {reference.burst_runs} runs submitted "
          "at once, runs/s = runs / (last finish - first submit).")
    print("run ms = median claim -> finish of one softquery run (supervisor + sandboxed child); "
          "the DB-queue row has no burst (same slots as the HTTP row).")
    print(f"target: idle dispatch p50 <= {TARGET_RATIO:.0f}x bare RQ idle p50.")
    for fig in rows:
        if fig.note:
            print(f"{fig.name}: {fig.note}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200, help="Runs (jobs) of the burst per system.")
    parser.add_argument("--idle-runs", type=int, default=20, help="Runs submitted one after another per system.")
    parser.add_argument("--models", type=int, default=8, help="Models the runs are spread over.")
    parser.add_argument("--workers", type=int, default=2, help="RQ workers (bare and softquery).")
    parser.add_argument("--slots", type=int, default=2, help="Job slots of the local executor.")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL metadata DB for rq (default SQLite).")
    parser.add_argument("--only", choices=["bare", "rq", "local"], action="append",
                        help="Measure only these systems (repeatable; bare RQ is always measured).")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    args = parser.parse_args(argv)

    models = [f"bench{i}" for i in range(args.models)]
    tmp = Path(tempfile.mkdtemp(prefix="softquery-jobs-bench-"))
    procs = Processes()
    started = time.monotonic()
    try:
        with redis_server() as redis_url:
            reference = bench_bare_rq(redis_url, args.workers, args.idle_runs, args.runs, procs)
            rows: list[Figures] = []
            if not args.only or "rq" in args.only:
                rows.append(bench_rq(tmp, redis_url, args.postgres, args.workers, models, args.idle_runs,
                                     args.runs, procs))
            if not args.only or "local" in args.only:
                rows += bench_local(tmp, args.slots, models, args.idle_runs, args.runs, procs)
    finally:
        procs.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    ok = report(reference, rows)
    print(f"benchmark wall time: {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
