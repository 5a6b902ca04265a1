"""The server's end of one serving worker's message socket, on the event loop.

Frames use ``multiprocessing.Connection``'s format (a signed 4-byte big-endian
length, then the bytes), so the worker side is a plain ``Connection``. Requests
are pickled (the worker trusts the server); replies are JSON (the server trusts
nothing the worker says). Each request waits on a future keyed by its id; when
the socket closes (the worker died), every waiting request fails at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import pickle
import socket
import struct
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
_HEADER = struct.Struct("!i")
MAX_REPLY_BYTES = 512 * 1024 * 1024


class ChannelClosed(Exception):
    """The worker's end of the socket closed."""


class _Protocol(asyncio.Protocol):
    def __init__(self, channel: Channel):
        self.channel = channel
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        while len(buf) >= 4:
            (size,) = _HEADER.unpack_from(buf)
            if size < 0 or size > MAX_REPLY_BYTES:
                self.channel.fail(f"the worker sent a frame of {size} bytes")
                return
            if len(buf) < 4 + size:
                return
            frame = bytes(buf[4:4 + size])
            del buf[:4 + size]
            self.channel.deliver(frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.channel.fail("the worker closed its channel")


class Channel:
    """Send pickled requests, await JSON replies, notice when the worker goes away."""

    def __init__(self, on_close: Callable[[str], None]):
        self._futures: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._transport: asyncio.Transport | None = None
        self._on_close = on_close
        self.closed_reason: str | None = None

    @classmethod
    async def open(cls, fd: int, on_close: Callable[[str], None]) -> Channel:
        channel = cls(on_close)
        sock = socket.socket(fileno=os.dup(fd))
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_connection(lambda: _Protocol(channel), sock=sock)
        channel._transport = transport  # type: ignore[assignment]
        return channel

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def _write(self, message: tuple[Any, ...]) -> None:
        if self.closed_reason is not None or self._transport is None:
            raise ChannelClosed(self.closed_reason or "not open")
        data = pickle.dumps(message, protocol=5)
        self._transport.write(_HEADER.pack(len(data)) + data)

    def send(self, message: tuple[Any, ...]) -> None:
        """A message without a reply (unload)."""
        self._write(message)

    def request(self, build: Callable[[int], tuple[Any, ...]]) -> asyncio.Future[dict[str, Any]]:
        """Send ``build(request_id)``; the future gets the worker's JSON reply."""
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._write(build(request_id))
        self._futures[request_id] = future
        return future

    def deliver(self, frame: bytes) -> None:
        try:
            reply = json.loads(frame)
            future = self._futures.pop(int(reply["id"]))
        except (ValueError, KeyError, TypeError):
            self.fail("the worker sent a message that is not a reply to a request")
            return
        if not future.done():
            future.set_result(reply)

    def fail(self, reason: str) -> None:
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        futures, self._futures = self._futures, {}
        for future in futures.values():
            if not future.done():
                future.set_exception(ChannelClosed(reason))
        if self._transport is not None:
            self._transport.close()
        self._on_close(reason)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.fail("closed by the server")
