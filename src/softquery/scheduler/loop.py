"""The scheduler thread: the use case ``tick(now=utcnow())``
(``softquery.services.scheduled_runs``) about every second, surviving errors."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from softquery.clock import utcnow
from softquery.services.context import ServiceContext
from softquery.services.scheduled_runs import Submit, tick

log = logging.getLogger(__name__)


class SchedulerLoop:
    """Runs in its own daemon thread; ``start()``, then ``stop()`` (joins).

    The context comes from ``ctx_factory`` and is reopened after an error, so
    a broken DB connection (or a DB that is down for a while) only costs the
    ticks until it is back.
    """

    def __init__(
        self,
        ctx_factory: Callable[[], ServiceContext],
        submit: Submit,
        interval: float = 1.0,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.ctx_factory = ctx_factory
        self.submit = submit
        self.interval = interval
        self.clock = clock
        self.ticks = 0
        self.errors = 0
        self.last_error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx: ServiceContext | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="softquery-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> list[str]:
        """One tick now, reopening the context if the last one failed. Raises on error."""
        if self._ctx is None:
            self._ctx = self.ctx_factory()
        try:
            return tick(self._ctx, self.clock(), self.submit)
        except BaseException:
            self._close_ctx()
            raise
        finally:
            self.ticks += 1

    def _run(self) -> None:
        log.info("scheduler started (every %.1fs)", self.interval)
        try:
            while not self._stop.is_set():
                try:
                    self.run_once()
                except Exception as exc:
                    self.errors += 1
                    self.last_error = exc
                    log.exception("scheduler tick failed; retrying")
                self._stop.wait(self.interval)
        finally:
            self._close_ctx()
            log.info("scheduler stopped")

    def _close_ctx(self) -> None:
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            try:
                ctx.close()
            except Exception:
                log.exception("closing the scheduler's context failed")
