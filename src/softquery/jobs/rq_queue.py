"""The RQ executor: runs travel through Redis (only their ids); `softquery worker`
executes them. The metadata DB stays the truth: a run lost from Redis is
re-enqueued by the workers' maintenance sweep.

The job itself is a use case, enqueued by name (``JOB_FUNCTION``,
``softquery.services.run_supervision.execute_run_job``): this module never
imports the service layer. The worker is handed a ``RunWork`` for its own context
and its maintenance.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker

from softquery.clock import utcnow
from softquery.config import Settings
from softquery.jobs.executor import (
    WAITING_FOR_QUEUE,
    QueueUnavailableError,
    RunContext,
    RunWork,
    worker_id,
)

log = logging.getLogger(__name__)
QUEUE_NAME = "softquery"
JOB_FUNCTION = "softquery.services.run_supervision.execute_run_job"
LOST_AFTER_SECONDS = 10.0
REDIS_TIMEOUT_SECONDS = 10.0  # an unreachable Redis host fails a submit in seconds, not minutes


def _job_id(run_id: str) -> str:
    return f"run-{run_id}-{uuid.uuid4().hex[:6]}"


class RQExecutor:
    name = "rq"

    def __init__(self, url: str):
        self.redis = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                    socket_timeout=REDIS_TIMEOUT_SECONDS)
        self.queue = Queue(QUEUE_NAME, connection=self.redis)

    def submit(self, run_id: str) -> None:
        try:
            self.queue.enqueue(JOB_FUNCTION, run_id, job_id=_job_id(run_id), job_timeout=-1,
                               result_ttl=60, failure_ttl=24 * 3600)
        except RedisError as exc:
            raise QueueUnavailableError(
                f"Redis, the job queue, could not be reached ({type(exc).__name__}: {exc}). Run {run_id} "
                "is queued in the metadata database; a worker queues it as soon as Redis is back.",
                details={"run": run_id}) from exc

    def cancel(self, run_id: str) -> None:
        try:
            for job_id in self.queued_job_ids(run_id):
                self.queue.remove(job_id)
        except RedisError as exc:  # the run row says cancelled: a job left in Redis finds it "gone"
            log.warning("could not remove run %s from Redis (%s); its job will find it cancelled", run_id, exc)

    def queued_job_ids(self, run_id: str | None = None) -> list[str]:
        prefix = f"run-{run_id}-" if run_id else "run-"
        return [j for j in self.queue.get_job_ids() if j.startswith(prefix)]

    def requeue_lost(self, ctx: RunContext) -> list[str]:
        """Queued runs that Redis no longer holds (e.g. Redis restarted empty), and at once
        those whose submission found Redis down (a younger run may be between its creation
        and its ``submit``; a duplicate job is harmless: only one claims the run)."""
        in_queue = {j.split("-")[1] for j in self.queued_job_ids()}
        cutoff = utcnow() - timedelta(seconds=LOST_AFTER_SECONDS)
        lost = []
        for run_id in ctx.runs.queued_ids(limit=1000):
            run = ctx.runs.get(run_id)
            if run_id not in in_queue and (run.created_at < cutoff or run.phase == WAITING_FOR_QUEUE):
                self.submit(run_id)
                if run.phase == WAITING_FOR_QUEUE:
                    ctx.runs.set_queued_phase(run_id, None, only_from=WAITING_FOR_QUEUE)
                lost.append(run_id)
        return lost


_worker_context: RunContext | None = None  # set by run_worker for its own process


def worker_context() -> RunContext | None:
    """The context `softquery worker` opened for its own process (its jobs share it), or
    None outside a worker."""
    return _worker_context


class SoftqueryWorker(SimpleWorker):
    """An RQ worker that also keeps the run table honest between jobs."""

    # While Redis is down, retry every few seconds at most (RQ's default grows to 60 s):
    # runs submitted during the outage are queued by the first sweep once it is back.
    max_connection_wait_time = 4.0

    def __init__(self, *args: Any, settings: Settings, run_work: RunWork[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.run_work = run_work
        self.executor_id = worker_id("worker")

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]  # RQ leaves it untyped
        ctx = _worker_context or self.run_work.open_context()
        try:
            ctx.executors.heartbeat(self.executor_id)
            self.run_work.reap_abandoned(ctx)
            if self.settings.queue:
                RQExecutor(self.settings.queue).requeue_lost(ctx)
        except Exception:
            log.exception("worker maintenance failed")
        finally:
            if ctx is not _worker_context:
                ctx.close()


def run_worker(settings: Settings, work: RunWork[Any], *, burst: bool = False) -> bool:
    """`softquery worker`: warm up the heavy imports, then work the queue. ``work`` comes
    from the supervision module, so the supervisor, batch prediction and training are
    imported already."""
    import pandas  # noqa: F401  - warm parent: job children fork with these loaded
    import pyarrow  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401

    from softquery.sandbox import end_leftovers, prepare_forkserver

    if not settings.queue:
        raise SystemExit("softquery worker needs SOFTQUERY_QUEUE=redis://HOST:PORT/DB")
    end_leftovers()  # what a killed server or worker left on this host
    redis = Redis.from_url(settings.queue)
    worker = SoftqueryWorker([Queue(QUEUE_NAME, connection=redis)], connection=redis,
                             settings=settings, run_work=work, worker_ttl=20, maintenance_interval=5)
    prepare_forkserver()  # used when RQ's command listener thread makes forking unsafe
    global _worker_context
    _worker_context = work.open_context()
    _worker_context.executors.register(worker.executor_id, "worker")
    try:
        return bool(worker.work(burst=burst, logging_level="WARNING"))
    finally:
        _worker_context.executors.unregister(worker.executor_id)
        _worker_context.close()
        _worker_context = None
