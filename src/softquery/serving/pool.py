"""The serving worker pool: long-lived sandboxed children that hold loaded versions.

* ``workers`` slots, each started on first demand (a ``Sandbox`` child: same
  limits, scrubbed environment and pinned thread pools as a job child, no wall
  time; a request that takes longer than ``timeout`` seconds gets its worker
  killed and restarted);
* each worker keeps at most ``max_versions`` versions loaded; the least recently
  used one is unloaded first;
* a request goes to the least busy live worker, preferring one that has its
  version loaded; the artifact of a version is verified by the caller's loader
  (in this trusted process) before its bytes are sent to a worker;
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
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from softquery.errors import SoftqueryError
from softquery.jobs.sandbox import Limits, Sandbox
from softquery.serving.channel import Channel, ChannelClosed
from softquery.serving.errors import ModelLoadError, PredictionFailedError, WorkerUnavailableError
from softquery.serving.worker import serving_worker_main

log = logging.getLogger(__name__)
LOAD_PENALTY = 4  # a worker without the version loaded counts as this many requests busier
MAX_LOGGED_OUTPUT = 64 * 1024  # characters of a worker's stdout/stderr logged per worker


@dataclass(frozen=True)
class VersionKey:
    """One trained version; the signature tells a re-created model's version 1 from the old one."""

    model: str
    version: int
    signature: str

    def label(self) -> str:
        return f"{self.model} v{self.version}"


@dataclass
class LoadSpec:
    """What a worker needs to load a version: verified artifact bytes, code, feature schema."""

    artifact: bytes
    code: str
    features: list[dict[str, str]]


Loader = Callable[[VersionKey], Awaitable[LoadSpec]]


class _Worker:
    def __init__(self, slot: int, sandbox: Sandbox):
        self.slot, self.sandbox, self.pid = slot, sandbox, sandbox.pid
        self.channel: Channel | None = None
        self.loaded: OrderedDict[VersionKey, asyncio.Future[None]] = OrderedDict()
        self.started = time.monotonic()
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.logged = 0
        self.readers: list[int] = []

    @property
    def in_flight(self) -> int:
        return self.channel.in_flight if self.channel else 0

    @property
    def alive(self) -> bool:
        return self.channel is not None and self.channel.closed_reason is None


class ServingPool:
    def __init__(self, *, workers: int, max_versions: int, limits: Callable[[], Limits], timeout: float):
        """``limits`` is asked each time a worker starts (what it must not see may have grown)."""
        self.size, self.max_versions, self.limits, self.timeout = workers, max_versions, limits, timeout
        self._slots: list[_Worker | None] = [None] * workers
        self._starting: dict[int, asyncio.Task[_Worker]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.restarts = 0

    # -- starting and stopping workers ----------------------------------------
    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a new test client): old channels are unusable
            self._forget_all()
            self._loop = loop

    def _forget_all(self) -> None:
        for slot, worker in enumerate(self._slots):
            if worker is not None:
                self._stop_worker(worker, "the event loop changed")
                self._slots[slot] = None
        self._starting.clear()

    async def _start(self, slot: int) -> _Worker:
        sandbox = await asyncio.to_thread(lambda: Sandbox.start(
            serving_worker_main, None, limits=self.limits(), name=f"serving-{slot}"))
        worker = _Worker(slot, sandbox)
        try:
            worker.channel = await Channel.open(sandbox.message_fd(),
                                                lambda reason: self._on_close(worker, reason))
            self._drain_output(worker)
        except BaseException:
            await asyncio.to_thread(sandbox.close)
            raise
        if self._closed:
            self._stop_worker(worker, "the pool is closed")
            raise WorkerUnavailableError("Online prediction is shutting down.")
        self._slots[slot] = worker
        log.info("serving worker %d started (pid %d, %s)", slot, worker.pid, sandbox.enforcement)
        return worker

    def _start_slot(self, slot: int) -> asyncio.Task[_Worker]:
        task = self._starting.get(slot)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._start(slot))
            self._starting[slot] = task
            task.add_done_callback(lambda _t: self._starting.pop(slot, None))
        return task

    def _drain_output(self, worker: _Worker) -> None:
        loop = asyncio.get_running_loop()
        for fd in worker.sandbox.output_fds():
            own = os.dup(fd)
            os.set_blocking(own, False)
            worker.readers.append(own)
            loop.add_reader(own, self._read_output, worker, own)

    def _read_output(self, worker: _Worker, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close_reader(worker, fd)
            return
        if worker.logged < MAX_LOGGED_OUTPUT:
            worker.logged += len(data)
            log.info("serving worker %d (pid %d) printed: %s", worker.slot, worker.pid,
                     data.decode(errors="replace").rstrip()[:4000])

    def _close_reader(self, worker: _Worker, fd: int) -> None:
        if fd in worker.readers:
            worker.readers.remove(fd)
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(fd)
            with contextlib.suppress(OSError):
                os.close(fd)

    def _on_close(self, worker: _Worker, reason: str) -> None:
        """The channel closed: the worker is gone (or being stopped). Reap it, restart the slot."""
        if self._slots[worker.slot] is worker:
            self._slots[worker.slot] = None
        for fd in list(worker.readers):
            self._close_reader(worker, fd)
        for future in worker.loaded.values():
            _settle(future, ChannelClosed(reason))
        worker.loaded.clear()
        loop = asyncio.get_running_loop()
        loop.create_task(self._reap(worker, ended_by_worker=reason.startswith("the worker closed")))
        if not self._closed and time.monotonic() - worker.started > 5.0:
            self.restarts += 1
            self._start_slot(worker.slot)  # ready for the next request; a crash loop waits for demand

    async def _reap(self, worker: _Worker, ended_by_worker: bool) -> None:
        def close() -> str:
            # A worker that went away by itself is reaped first (its exit status tells why,
            # e.g. a signal); one we are stopping is killed by close().
            info = worker.sandbox.wait(2.0) if ended_by_worker else None
            worker.sandbox.close()
            info = info or worker.sandbox.wait(0)
            return info.message if info else "it stopped"

        try:
            message = await asyncio.to_thread(close)
        except Exception as exc:  # noqa: BLE001
            message = f"it could not be reaped ({exc})"
        log.warning("serving worker %d (pid %d) ended: %s", worker.slot, worker.pid, message)
        if not worker.ended.done():
            worker.ended.set_result(message)

    def _stop_worker(self, worker: _Worker, reason: str) -> None:
        """Close the channel; ``_on_close`` then kills and reaps the child."""
        if worker.channel is not None:
            worker.channel.fail(reason)
        else:
            worker.sandbox.close()

    async def aclose(self) -> None:
        self._closed = True
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

    # -- choosing a worker and loading versions ---------------------------------
    async def _worker_for(self, key: VersionKey) -> _Worker:
        self._bind()
        if self._closed:
            raise WorkerUnavailableError("Online prediction is shutting down.")
        for slot, worker in enumerate(self._slots):
            if worker is None:
                self._start_slot(slot)  # on demand: empty slots start in the background
        live = [w for w in self._slots if w is not None and w.alive]
        if live:
            return min(live, key=lambda w: w.in_flight + (0 if key in w.loaded else LOAD_PENALTY))
        done, _ = await asyncio.wait([asyncio.shield(t) for t in self._starting.values()],
                                     return_when=asyncio.FIRST_COMPLETED)
        task = done.pop()
        try:
            return task.result()
        except SoftqueryError:
            raise
        except Exception as exc:
            raise WorkerUnavailableError(
                f"A serving worker could not be started ({type(exc).__name__}: {exc}).") from exc

    async def _ensure_loaded(self, worker: _Worker, key: VersionKey, loader: Loader) -> None:
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

    async def _load(self, worker: _Worker, key: VersionKey, loader: Loader, future: asyncio.Future[None]) -> None:
        try:
            spec = await loader(key)  # verified here, in the trusted process
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
            worker = await self._worker_for(key)
            sent = False
            try:
                await self._ensure_loaded(worker, key, loader)
                if worker.channel is None:
                    raise ChannelClosed("not open")
                future = worker.channel.request(lambda rid: ("predict", rid, key, batch, want_proba))
                sent = True
                try:
                    reply = await asyncio.wait_for(future, self.timeout)
                except TimeoutError:
                    self._stop_worker(worker, "timeout")
                    raise WorkerUnavailableError(
                        f"{key.label()} took longer than {self.timeout:g} seconds to answer; its serving "
                        "worker was stopped and will be restarted.",
                        details={"model": key.model, "version": key.version}) from None
            except ChannelClosed:
                if not sent and attempt < 2:
                    continue  # nothing of this request reached the worker: another one answers it
                reason = "it stopped"
                with contextlib.suppress(Exception):
                    reason = await asyncio.wait_for(asyncio.shield(worker.ended), 2.0)
                raise WorkerUnavailableError(
                    f"The serving worker answering {key.label()} stopped before it answered "
                    f"({reason}). The request was not answered; retry it.",
                    details={"model": key.model, "version": key.version, "worker_pid": worker.pid},
                ) from None
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

    def status(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for slot, worker in enumerate(self._slots):
            if worker is None:
                out.append({"slot": slot, "state": "starting" if slot in self._starting else "stopped"})
                continue
            out.append({
                "slot": slot, "state": "running" if worker.alive else "stopping", "pid": worker.pid,
                "in_flight": worker.in_flight,
                "loaded": [{"model": k.model, "version": k.version} for k, f in worker.loaded.items()
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
