"""Metadata-DB calls that outlive a lost connection (a PostgreSQL restart or failover).

A running job writes to the metadata DB all along: heartbeats, log lines, progress, its
outcome. When the server restarts, the call in flight fails and the next ones cannot
connect; the engine drops a dead connection (and ``pool_pre_ping`` checks the next one
out), so calling again is all it takes once the server is back. ``retrying`` does that,
with backoff, for at most ``budget`` seconds, then raises ``MetadataUnavailableError``
naming the real cause. Only the calls of a running job's supervisor retry (through
``RetryingRunRepository``): a web request fails at once rather than hang.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from softquery.domain import Run, RunStatus
from softquery.errors import SoftqueryError
from softquery.store.runs_repo import RunRepository

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 2.0


class MetadataUnavailableError(SoftqueryError):
    """The metadata DB stayed unreachable for longer than the retries allow."""

    code = "metadata_db_unavailable"
    http_status = 503


def lost_connection(exc: BaseException) -> bool:
    """A refused or broken connection (or SQLite's locked file): worth calling again."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _cause(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [""])[0]
    return f"{type(orig).__name__}: {first_line[:200]}"


def retrying(call: Callable[[], T], *, budget: float, what: str,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, called again across a lost connection for up to ``budget`` seconds."""
    deadline = time.monotonic() + budget
    delay = FIRST_DELAY_SECONDS
    while True:
        try:
            return call()
        except (DBAPIError, InterfaceError) as exc:
            if not lost_connection(exc):
                raise
            if time.monotonic() + delay > deadline:
                raise MetadataUnavailableError(
                    f"softquery lost the connection to the metadata database while {what} and could not "
                    f"reconnect within {budget:g} s ({_cause(exc)}). The run was ended; start it again "
                    "once the database is back (SOFTQUERY_METADATA_RETRY_SECONDS sets how long a run "
                    "waits for it).",
                    details={"while": what, "retry_seconds": budget, "cause": _cause(exc)},
                ) from exc
            log.warning("metadata DB unreachable while %s (%s); retrying in %.1f s", what, _cause(exc), delay)
            sleep(delay)
            delay = min(delay * 2, MAX_DELAY_SECONDS)


class RetryingRunRepository(RunRepository):
    """The writes (and stop checks) a running job's supervisor makes, each retried across a
    lost connection. ``finish_if_running``, the outcome, waits longer: ``final_budget``."""

    def __init__(self, engine: Engine, budget: float, final_budget: float):
        super().__init__(engine)
        self.budget = budget
        self.final_budget = max(budget, final_budget)

    def _retry(self, call: Callable[[], T], what: str) -> T:
        return retrying(call, budget=self.budget, what=what)

    def get(self, run_id: str) -> Run:
        return self._retry(partial(super().get, run_id), "reading the run")

    def update(self, run_id: str, **values: Any) -> None:
        self._retry(partial(super().update, run_id, **values), "recording the run's progress")

    def heartbeat(self, run_id: str) -> None:
        self._retry(partial(super().heartbeat, run_id), "recording the run's heartbeat")

    def append_logs(self, run_id: str, stdout: str, stderr: str, limit: int) -> None:
        self._retry(partial(super().append_logs, run_id, stdout, stderr, limit), "saving the run's log")

    def stop_requested(self, run_id: str) -> bool:
        return self._retry(partial(super().stop_requested, run_id), "checking for a stop request")

    def finish_if_running(self, run_id: str, status: RunStatus, *, result: dict[str, Any] | None = None,
                          error: dict[str, Any] | None = None) -> bool:
        call = partial(super().finish_if_running, run_id, status, result=result, error=error)
        return retrying(call, budget=self.final_budget, what="recording the run's outcome")
