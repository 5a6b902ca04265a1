"""The local executor: job slots inside `softquery serve`, fed from the metadata DB.

Queued runs live in the metadata DB, so nothing is lost when the server stops;
slots claim the oldest queued run whose model is not busy. ``submit`` only
wakes the slots up. What a slot does with a run comes from the ``RunWork`` it is
handed (supervision is a use case of ``softquery.services``).
"""

from __future__ import annotations

import logging
import threading
from typing import Generic

from softquery.jobs.executor import C, RunWork, worker_id

log = logging.getLogger(__name__)
POLL_SECONDS = 0.02


class LocalExecutor(Generic[C]):
    name = "local"

    def __init__(self, work: RunWork[C], slots: int):
        self.work = work
        self.ctx_factory = work.open_context
        self.slots = slots
        self.id = worker_id("server")
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pending = 0

    def submit(self, run_id: str) -> None:
        with self._wake:
            self._pending += 1
            self._wake.notify()

    def cancel(self, run_id: str) -> None:
        """Queued runs are cancelled in the DB; slots skip them."""

    def start(self) -> None:
        from softquery.sandbox import prepare_forkserver

        prepare_forkserver()  # job children fork from a warm server with the heavy imports done
        ctx = self.ctx_factory()
        ctx.executors.register(self.id, "server")
        ctx.close()
        for i in range(self.slots):
            thread = threading.Thread(target=self._slot, name=f"softquery-slot-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        housekeeping = threading.Thread(target=self._housekeeping, name="softquery-housekeeping", daemon=True)
        housekeeping.start()
        self._threads.append(housekeeping)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def _slot(self) -> None:
        ctx = self.ctx_factory()
        try:
            while not self._stop.is_set():
                if not self._run_one(ctx):
                    with self._wake:
                        if self._pending == 0:
                            self._wake.wait(POLL_SECONDS)
                        self._pending = max(0, self._pending - 1)
        finally:
            ctx.close()

    def _run_one(self, ctx: C) -> bool:
        try:
            for run_id in ctx.runs.queued_ids(limit=50):
                if self.work.supervise(ctx, run_id, worker=self.id) == "claimed":
                    return True
        except Exception:  # keep the slot alive: the DB may be briefly unavailable
            log.exception("job slot error")
            self._stop.wait(1.0)
        return False

    def _housekeeping(self) -> None:
        ctx = self.ctx_factory()
        try:
            while not self._stop.wait(ctx.settings.heartbeat_seconds):
                try:
                    ctx.executors.heartbeat(self.id)
                    self.work.reap_abandoned(ctx)
                except Exception:
                    log.exception("housekeeping error")
            ctx.executors.unregister(self.id)
        finally:
            ctx.close()
