"""The executor interface: where queued runs go to be executed, and what executors are
handed to execute them.

Executors never import the service layer (``softquery.services``): the composition
root (``softquery serve``, ``softquery worker``) hands them a ``RunWork``, built by
``softquery.services.run_supervision.run_work``, that opens a metadata-DB context,
supervises one run in it and ends abandoned runs.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

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


class DatabaseQueue:
    """Local executor seen from another process: the run row is the queue and the
    server's job slots poll it, so submitting needs no message."""

    name = "local"

    def submit(self, run_id: str) -> None:
        return None

    def cancel(self, run_id: str) -> None:
        return None


# -- what executors are handed ------------------------------------------------------------
class QueuedRun(Protocol):
    """The run row fields an executor reads (``softquery.domain.Run``)."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def phase(self) -> str | None: ...


class RunRows(Protocol):
    """The run rows an executor reads and marks (``softquery.store.runs_repo.RunRepository``)."""

    def queued_ids(self, limit: int = ...) -> list[str]: ...

    def get(self, run_id: str) -> QueuedRun: ...

    def set_queued_phase(self, run_id: str, phase: str | None, *, only_from: str | None = None) -> bool: ...


class ExecutorRows(Protocol):
    """Where executors say they are alive (``softquery.store.executors_repo.ExecutorRepository``)."""

    def register(self, executor_id: str, kind: str) -> None: ...

    def heartbeat(self, executor_id: str) -> None: ...

    def unregister(self, executor_id: str) -> None: ...


class RunContext(Protocol):
    """The part of a service context (``softquery.services.context.ServiceContext``) that
    executors touch themselves; everything else they do goes through ``RunWork``."""

    @property
    def settings(self) -> Settings: ...

    @property
    def runs(self) -> RunRows: ...

    @property
    def executors(self) -> ExecutorRows: ...

    def close(self) -> None: ...


C = TypeVar("C", bound=RunContext)
C_contra = TypeVar("C_contra", bound=RunContext, contravariant=True)


class Supervise(Protocol[C_contra]):
    def __call__(self, ctx: C_contra, run_id: str, *, worker: str) -> str:
        """Claim and execute ``run_id``; the claim outcome ("claimed", "busy", "gone")."""


class ReapAbandoned(Protocol[C_contra]):
    def __call__(self, ctx: C_contra) -> list[str]:
        """End the runs whose supervisor died; their ids."""


@dataclass(frozen=True)
class RunWork(Generic[C]):
    """What an executor is handed to execute runs (``softquery.services.run_supervision.run_work``)."""

    open_context: Callable[[], C]  # one per thread: the context holds a metadata-DB engine
    supervise: Supervise[C]
    reap_abandoned: ReapAbandoned[C]
