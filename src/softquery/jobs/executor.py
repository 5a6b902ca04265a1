"""The executor interface: where queued runs go to be executed."""

from __future__ import annotations

import os
import socket
from typing import Protocol

from softquery.config import Settings
from softquery.errors import SoftqueryError

#: The phase of a queued run that could not be handed to the queue: the workers' sweep
#: enqueues such a run as soon as Redis answers (``RQExecutor.requeue_lost``).
WAITING_FOR_QUEUE = "waiting for Redis: a worker queues it as soon as Redis is back"


class QueueUnavailableError(SoftqueryError):
    """``Executor.submit`` could not hand the run to its queue (Redis unreachable). The run
    stays queued in the metadata DB, the truth; the workers' sweep enqueues it later."""

    code = "queue_unavailable"
    http_status = 503


class Executor(Protocol):
    """Hands run ids to something that will supervise them. The metadata DB
    holds every run's state; an executor only carries run ids."""

    name: str

    def submit(self, run_id: str) -> None:
        """Hand over a queued run; ``QueueUnavailableError`` when the queue cannot be reached."""

    def cancel(self, run_id: str) -> None: ...


def worker_id(kind: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{kind}"


def queue_executor(settings: Settings) -> Executor | None:
    """The RQ executor when ``SOFTQUERY_QUEUE`` is set, else None (local executor)."""
    if not settings.queue:
        return None
    from softquery.jobs.rq_queue import RQExecutor

    return RQExecutor(settings.queue)


class DatabaseQueue:
    """Local executor seen from another process: the run row is the queue and the
    server's job slots poll it, so submitting needs no message."""

    name = "local"

    def submit(self, run_id: str) -> None:
        return None

    def cancel(self, run_id: str) -> None:
        return None
