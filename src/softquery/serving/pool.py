"""The serving worker pool: long-lived sandboxed children that hold loaded versions.

* ``workers`` slots, started as demand grows, with one blank worker kept ready
  while a slot is free (each a ``Sandbox`` child: same
  limits, scrubbed environment and pinned thread pools as a job child, no wall
  time; a request that takes longer than ``timeout`` seconds gets its worker
  killed and restarted);
* **one owner per worker**: a worker starts blank and belongs to the owner of the
  first version it is sent; it never holds a version of another owner, and when
  its slot is needed for another owner it is retired and a fresh process starts
  in its place (``serving.assign`` chooses workers and whom to retire);
* each worker keeps at most ``max_versions`` versions loaded; the least recently
  used one is unloaded first;
* the artifact of a version is verified by the caller's loader (in this trusted
  process) before its bytes are sent to a worker;
* a worker started before a file data source was added does not hide that file:
  it is retired before it is handed another version, and within ``refresh``
  seconds anyway;
* when a worker dies, the requests it was answering fail with a 503
  (``WorkerUnavailableError``) and the slot is started again.

All pool state is touched on the event loop only; sandboxes start and stop in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from softquery.errors import SoftqueryError
from softquery.sandbox import Limits, Sandbox
from softquery.serving.assign import choose, victim
from softquery.serving.channel import Channel, ChannelClosed
from softquery.serving.failures import ModelLoadError, PredictionFailedError, WorkerUnavailableError
from softquery.serving.handle import VersionKey, WorkerHandle
from softquery.serving.worker import serving_worker_main

__all__ = ["LoadSpec", "Loader", "ServingPool", "VersionKey"]
log = logging.getLogger(__name__)


@dataclass
class LoadSpec:
    """What a worker needs to load a version: verified artifact bytes, code, feature schema."""

    artifact: bytes
    code: str
    features: list[dict[str, str]]


Loader = Callable[[VersionKey], Awaitable[LoadSpec]]


def _hidden(limits: Limits) -> frozenset[str] | None:
    """The paths ``limits`` hides from a child (None: isolation is off, nothing is hidden)."""
    return frozenset(limits.isolation.hide) if limits.isolation.enabled else None


class ServingPool:
    def __init__(self, *, workers: int, max_versions: int, limits: Callable[[], Limits], timeout: float,
                 refresh: float = 0.5, spread: int | None = None):
        """``limits`` is asked each time a worker starts or loads a version, and every ``refresh``
        seconds while workers run (what model code must not see may have grown). One owner's
        requests use at most ``spread`` workers (default: the cores but one, at least 1)."""
        self.size, self.max_versions, self.limits, self.timeout = workers, max_versions, limits, timeout
        self.refresh = refresh
        self.spread = spread or max(1, (os.cpu_count() or 2) - 1)
        self._slots: list[WorkerHandle | None] = [None] * workers
        self._starting: dict[int, asyncio.Task[WorkerHandle]] = {}
        self._waiting: Counter[str] = Counter()  # owners whose requests wait for a worker
        self._change: asyncio.Future[None] | None = None  # set when a worker starts or ends
        self._watcher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.restarts = 0
        self.retired = 0

    # -- starting and stopping workers ----------------------------------------
    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a new test client): old channels are unusable
            self._forget_all()
            self._loop = loop
            self._watcher = loop.create_task(self._watch_hidden())

    def _forget_all(self) -> None:
        for slot, worker in enumerate(self._slots):
            if worker is not None:
                worker.stop("the event loop changed")
                self._slots[slot] = None
        self._starting.clear()
        self._change = None
        if self._watcher is not None:
            with contextlib.suppress(Exception):
                self._watcher.cancel()
            self._watcher = None

    async def _start(self, slot: int) -> WorkerHandle:
        def start() -> tuple[Sandbox, Limits]:
            limits = self.limits()
            return Sandbox.start(serving_worker_main, None, limits=limits, name=f"serving-{slot}"), limits

        sandbox, limits = await asyncio.to_thread(start)
        worker = WorkerHandle(slot, sandbox, _hidden(limits) or frozenset())
        try:
            worker.channel = await Channel.open(sandbox.message_fd(),
                                                lambda reason: self._on_close(worker, reason))
            worker.drain_output()
        except BaseException:
            await asyncio.to_thread(sandbox.close)
            raise
        if self._closed:
            worker.stop("the pool is closed")
            raise WorkerUnavailableError("Online prediction is shutting down.")
        self._slots[slot] = worker
        log.info("serving worker %d started (pid %d, %s)", slot, worker.pid, sandbox.enforcement)
        self._notify()
        return worker

    def _start_slot(self, slot: int) -> asyncio.Task[WorkerHandle]:
        task = self._starting.get(slot)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._start(slot))
            self._starting[slot] = task
            task.add_done_callback(lambda t: self._started(slot, t))
        return task

    def _started(self, slot: int, task: asyncio.Task[WorkerHandle]) -> None:
        if self._starting.get(slot) is task:
            del self._starting[slot]
        if not task.cancelled() and task.exception() is not None:
            log.warning("serving worker %d could not be started: %s", slot, task.exception())
            self._notify()

    def _start_empty_slot(self) -> bool:
        for slot, worker in enumerate(self._slots):
            if worker is None and slot not in self._starting:
                self._start_slot(slot)
                return True
        return False

    def _keep_a_spare(self) -> None:
        """One blank worker ready (or starting) in an empty slot for the next owner or the next
        busy moment; not all slots at once (ten processes starting together slow each other)."""
        if not self._starting and not any(w is not None and w.usable and w.owner is None for w in self._slots):
            self._start_empty_slot()

    def _on_close(self, worker: WorkerHandle, reason: str) -> None:
        """The channel closed: the worker is gone (or being stopped). Reap it, restart the slot."""
        if self._slots[worker.slot] is worker:
            self._slots[worker.slot] = None
        worker.close_readers()
        for future in worker.loaded.values():
            _settle(future, ChannelClosed(reason))
        worker.loaded.clear()
        loop = asyncio.get_running_loop()
        loop.create_task(worker.reap(ended_by_worker=reason.startswith("the worker closed")))
        if not self._closed and (worker.retiring or time.monotonic() - worker.started > 5.0):
            if not worker.retiring:
                self.restarts += 1
            self._start_slot(worker.slot)  # ready for the next request; a crash loop waits for demand
        self._notify()

    def _retire(self, worker: WorkerHandle, reason: str) -> None:
        """No new requests for ``worker``; it is stopped once the ones it has are answered."""
        if worker.retiring is None:
            worker.retiring = reason
            self.retired += 1
            log.info("serving worker %d (pid %d, %s) retires: %s", worker.slot, worker.pid, worker.owner, reason)
        if worker.users == 0:
            worker.stop(f"retired: {reason}")

    def _notify(self) -> None:
        change, self._change = self._change, None
        if change is not None and not change.done():
            change.set_result(None)

    async def aclose(self) -> None:
        self._closed = True
        if self._watcher is not None:
            self._watcher.cancel()
        for task in list(self._starting.values()):
            task.cancel()
        workers = [w for w in self._slots if w is not None]
        for worker in workers:
            if worker.channel is not None:
                worker.channel.fail("the server is stopping")
        self._slots = [None] * self.size
        for worker in workers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(worker.ended), 5.0)

    def close(self) -> None:
        """Outside the event loop (it has stopped): kill whatever is left."""
        self._closed = True
        for slot, worker in enumerate(self._slots):
            if worker is not None:
                with contextlib.suppress(Exception):
                    worker.sandbox.close()
                self._slots[slot] = None

    # -- what model code must not see ----------------------------------------------
    def _note_hidden(self, limits: Limits) -> None:
        """Retire every worker that does not hide all that ``limits`` hides (a source added since)."""
        hide = _hidden(limits)
        for worker in self._slots:
            if hide is not None and worker is not None and worker.usable and not hide <= worker.hide:
                self._retire(worker, "a data source was added after it started, and its file must be hidden")

    async def _watch_hidden(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.refresh)
            if any(w is not None and w.usable for w in self._slots):
                try:
                    self._note_hidden(await asyncio.to_thread(self.limits))
                except Exception:  # noqa: BLE001 - e.g. the metadata DB is restarting: next round
                    log.warning("serving workers: could not read the data sources to hide", exc_info=True)

    # -- choosing a worker and loading versions ---------------------------------
    async def _acquire(self, key: VersionKey) -> WorkerHandle:
        """A worker of ``key.owner`` (or a blank one, made its), counted as used until ``_release``."""
        self._bind()
        deadline = time.monotonic() + self.timeout
        waiting = False
        try:
            while True:
                if self._closed:
                    raise WorkerUnavailableError("Online prediction is shutting down.")
                self._keep_a_spare()
                worker = choose([w for w in self._slots if w is not None], key, self.spread)
                if worker is not None:
                    if worker.owner is None:
                        worker.owner, worker.claimed = key.owner, time.monotonic()
                        log.info("serving worker %d (pid %d) serves %s", worker.slot, worker.pid, key.owner)
                        self._keep_a_spare()  # the next one starts now
                        if self._waiting:
                            self._notify()  # the blank they waited for is gone: others make room again
                    worker.users += 1
                    worker.last_used = time.monotonic()
                    return worker
                if not waiting:
                    waiting = True
                    self._waiting[key.owner] += 1
                self._make_room()
                await self._wait_for_change(key, deadline)
        finally:
            if waiting:
                self._waiting[key.owner] -= 1
                if self._waiting[key.owner] <= 0:
                    del self._waiting[key.owner]

    def _make_room(self) -> None:
        """When fewer workers are on the way than owners wait: start one in an empty slot, else
        retire another owner's worker."""
        workers = [w for w in self._slots if w is not None]
        coming = len(self._starting) + sum(1 for w in workers if w.retiring is not None and w.alive)
        if coming < len(self._waiting) and not self._start_empty_slot():
            chosen = victim(workers, self._waiting, time.monotonic())  # a later release tries again
            if chosen is not None:
                self._retire(chosen, "its slot goes to another owner's models")

    async def _wait_for_change(self, key: VersionKey, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WorkerUnavailableError(
                f"No serving worker became free for {key.label()} within {self.timeout:g} seconds: all "
                f"{self.size} serving workers hold other owners' models and are busy. Retry the request; "
                "an admin can raise SOFTQUERY_SERVING_WORKERS.",
                details={"model": key.model, "version": key.version, "workers": self.size})
        if self._change is None:
            self._change = asyncio.get_running_loop().create_future()
        starting = list(self._starting.values())
        # asyncio.wait cancels nothing it waits for (on a timeout or when this request is cancelled)
        waits: list[asyncio.Future[Any]] = [self._change, *starting]
        await asyncio.wait(waits, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        for task in starting:
            if task.done() and not task.cancelled() and task.exception() is not None:
                exc = task.exception()
                if isinstance(exc, SoftqueryError):
                    raise exc
                raise WorkerUnavailableError(
                    f"A serving worker could not be started ({type(exc).__name__}: {exc}).") from exc

    def _release(self, worker: WorkerHandle) -> None:
        worker.users -= 1
        worker.last_used = time.monotonic()
        if worker.users == 0 and worker.retiring is not None and worker.alive:
            worker.stop(f"retired: {worker.retiring}")
        elif self._waiting:
            self._notify()  # a waiting owner may now make room

    async def _ensure_loaded(self, worker: WorkerHandle, key: VersionKey, loader: Loader) -> None:
        if worker.owner != key.owner:  # never: choose() hands a worker only its owner's versions
            raise RuntimeError(f"serving worker {worker.slot} belongs to {worker.owner}, not {key.owner}")
        future = worker.loaded.get(key)
        if future is None:
            while len(worker.loaded) >= self.max_versions:
                old, old_future = worker.loaded.popitem(last=False)
                if worker.alive and worker.channel is not None:
                    worker.channel.send(("unload", old))
                log.info("serving worker %d unloaded %s (least recently used)", worker.slot, old.label())
                del old_future
            future = asyncio.get_running_loop().create_future()
            worker.loaded[key] = future
            asyncio.get_running_loop().create_task(self._load(worker, key, loader, future))
        else:
            worker.loaded.move_to_end(key)
        await asyncio.shield(future)

    async def _load(self, worker: WorkerHandle, key: VersionKey, loader: Loader,
                    future: asyncio.Future[None]) -> None:
        try:
            # verified here, in the trusted process; what to hide is read at the same time
            spec, limits = await asyncio.gather(loader(key), asyncio.to_thread(self.limits))
            self._note_hidden(limits)
            if worker.retiring is not None:
                raise ChannelClosed(f"retired: {worker.retiring}")
            if worker.channel is None:
                raise ChannelClosed("not open")
            reply = await worker.channel.request(
                lambda rid: ("load", rid, key, spec.artifact, spec.code, spec.features))
            if not reply.get("ok"):
                error = reply.get("error") or {}
                raise ModelLoadError(f"{key.label()} could not be loaded for serving: {error.get('message')}",
                                     details={"model": key.model, "version": key.version,
                                              "worker_error": str(error.get("code"))})
            if not future.done():
                future.set_result(None)
        except BaseException as exc:  # noqa: BLE001 - every waiter gets the reason
            if worker.loaded.get(key) is future:
                del worker.loaded[key]
            _settle(future, exc)

    # -- predicting -------------------------------------------------------------
    async def predict(self, key: VersionKey, loader: Loader, batch: Any,
                      want_proba: bool) -> dict[str, Any]:
        """The worker's reply for ``batch`` (``serving.inputs.Rows``):
        {"predictions": [...], "probabilities": [...]?}."""
        for attempt in range(3):
            worker = await self._acquire(key)
            try:
                reply = await self._ask(worker, key, loader, batch, want_proba, last=attempt == 2)
            finally:
                self._release(worker)
            if reply is None:
                continue  # nothing of this request reached the worker: another one answers it
            if reply.get("ok"):
                return reply
            error = reply.get("error") or {}
            if error.get("code") == "not_loaded":
                continue  # unloaded (LRU) between our load and our request: load again
            status = error.get("status")
            exc = PredictionFailedError(str(error.get("message") or "The model failed while predicting."),
                                        details=dict(error.get("details") or {}))
            exc.code = str(error.get("code") or exc.code)
            if isinstance(status, int) and 400 <= status < 600 and status != 500:
                exc.http_status = status
            raise exc
        raise WorkerUnavailableError(f"{key.label()} could not be kept loaded; retry the request.")

    async def _ask(self, worker: WorkerHandle, key: VersionKey, loader: Loader, batch: Any,
                   want_proba: bool, last: bool) -> dict[str, Any] | None:
        """The worker's reply; None when the worker went away before the request reached it."""
        sent = False
        try:
            await self._ensure_loaded(worker, key, loader)
            if worker.channel is None:
                raise ChannelClosed("not open")
            future = worker.channel.request(lambda rid: ("predict", rid, key, batch, want_proba))
            sent = True
            try:
                return await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                worker.stop("timeout")
                raise WorkerUnavailableError(
                    f"{key.label()} took longer than {self.timeout:g} seconds to answer; its serving "
                    "worker was stopped and will be restarted.",
                    details={"model": key.model, "version": key.version}) from None
        except ChannelClosed:
            if not sent and not last:
                return None
            reason = "it stopped"
            with contextlib.suppress(Exception):
                reason = await asyncio.wait_for(asyncio.shield(worker.ended), 2.0)
            raise WorkerUnavailableError(
                f"The serving worker answering {key.label()} stopped before it answered "
                f"({reason}). The request was not answered; retry it.",
                details={"model": key.model, "version": key.version, "worker_pid": worker.pid},
            ) from None

    def status(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for slot, worker in enumerate(self._slots):
            if worker is None:
                out.append({"slot": slot, "state": "starting" if slot in self._starting else "stopped"})
                continue
            state = "stopping" if not worker.alive else "retiring" if worker.retiring else "running"
            out.append({
                "slot": slot, "state": state, "pid": worker.pid, "owner": worker.owner,
                "in_flight": worker.in_flight,
                "loaded": [{"model": k.model, "version": k.version, "owner": k.owner}
                           for k, f in worker.loaded.items()
                           if f.done() and not f.cancelled() and f.exception() is None],
                "uptime_seconds": round(time.monotonic() - worker.started, 1),
                "enforcement": worker.sandbox.enforcement,
            })
        return out


def _settle(future: asyncio.Future[Any], exc: BaseException) -> None:
    """Fail ``future`` (if still open) and mark its exception as retrieved."""
    with contextlib.suppress(Exception):
        if not future.done():
            future.set_exception(exc)
        if not future.cancelled():
            future.exception()
