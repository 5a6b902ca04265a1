"""One serving worker process as the pool sees it: its sandbox, channel, owner and loaded versions.

A worker starts *blank* (no model code loaded, ``owner`` None). The first version
the pool sends it makes it that owner's worker for the rest of its life: it is
never handed a version of another owner, and when its slot is needed for another
owner it is stopped and a fresh process starts in its place (a process that
has run one owner's code is never reused for another's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass

from softquery.sandbox import Sandbox
from softquery.serving.channel import Channel

log = logging.getLogger("softquery.serving.pool")
MAX_LOGGED_OUTPUT = 64 * 1024  # characters of a worker's stdout/stderr logged per worker


@dataclass(frozen=True)
class VersionKey:
    """One trained version as served for its owner.

    The signature tells a re-created model's version 1 from the old one; ``owner``
    names the group whose workers may hold it (its model's owner when it was read).
    """

    model: str
    version: int
    signature: str
    owner: str

    def label(self) -> str:
        return f"{self.model} v{self.version}"


class WorkerHandle:
    def __init__(self, slot: int, sandbox: Sandbox, hide: frozenset[str]):
        self.slot, self.sandbox, self.pid = slot, sandbox, sandbox.pid
        self.hide = hide  # the paths hidden from it when it started
        self.channel: Channel | None = None
        self.loaded: OrderedDict[VersionKey, asyncio.Future[None]] = OrderedDict()
        self.owner: str | None = None  # set by its first version, never changed
        self.users = 0  # requests that chose it and have not finished
        self.retiring: str | None = None  # why it takes no new requests (stopped once idle)
        self.started = self.last_used = self.claimed = time.monotonic()  # claimed: became its owner's
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.logged = 0
        self.readers: list[int] = []

    @property
    def in_flight(self) -> int:
        return self.channel.in_flight if self.channel else 0

    @property
    def alive(self) -> bool:
        return self.channel is not None and self.channel.closed_reason is None

    @property
    def usable(self) -> bool:
        """Alive and taking new requests."""
        return self.alive and self.retiring is None

    def stop(self, reason: str) -> None:
        """Close the channel; the pool's close callback then kills and reaps the child."""
        if self.channel is not None:
            self.channel.fail(reason)
        else:
            self.sandbox.close()

    # -- what the worker prints goes to the server's log ---------------------------
    def drain_output(self) -> None:
        loop = asyncio.get_running_loop()
        for fd in self.sandbox.output_fds():
            own = os.dup(fd)
            os.set_blocking(own, False)
            self.readers.append(own)
            loop.add_reader(own, self._read_output, own)

    def _read_output(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close_reader(fd)
            return
        if self.logged < MAX_LOGGED_OUTPUT:
            self.logged += len(data)
            log.info("serving worker %d (pid %d) printed: %s", self.slot, self.pid,
                     data.decode(errors="replace").rstrip()[:4000])

    def close_reader(self, fd: int) -> None:
        if fd in self.readers:
            self.readers.remove(fd)
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(fd)
            with contextlib.suppress(OSError):
                os.close(fd)

    def close_readers(self) -> None:
        for fd in list(self.readers):
            self.close_reader(fd)

    async def reap(self, ended_by_worker: bool) -> None:
        def close() -> str:
            # A worker that went away by itself is reaped first (its exit status tells why,
            # e.g. a signal); one we are stopping is killed by close().
            info = self.sandbox.wait(2.0) if ended_by_worker else None
            self.sandbox.close()
            info = info or self.sandbox.wait(0)
            return info.message if info else "it stopped"

        try:
            message = await asyncio.to_thread(close)
        except Exception as exc:  # noqa: BLE001
            message = f"it could not be reaped ({exc})"
        log.warning("serving worker %d (pid %d) ended: %s", self.slot, self.pid, message)
        if not self.ended.done():
            self.ended.set_result(message)
