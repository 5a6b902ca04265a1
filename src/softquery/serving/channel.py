"""The server's end of one serving worker's message socket, on the event loop.

Messages are the sandbox's (``softquery.sandbox.protocol``), so the worker side is a
plain ``Connection``: requests are pickled (the worker trusts the server); replies are
read with the sandbox's ``MessageReader``, at most ``MAX_REPLY_BYTES`` each and decoded
with its allow-list (the server trusts nothing the worker says). Each request waits on
a future keyed by its id; when the socket closes (the worker died) or the worker sends
anything but a reply to a waiting request, every waiting request fails at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from softquery.sandbox.protocol import MessageReader, MessageTooLarge, encode

log = logging.getLogger(__name__)
MAX_REPLY_BYTES = 512 * 1024 * 1024


class ChannelClosed(Exception):
    """The worker's end of the socket closed."""


class _Protocol(asyncio.Protocol):
    def __init__(self, channel: Channel):
        self.channel = channel
        self.reader = MessageReader(MAX_REPLY_BYTES)

    def data_received(self, data: bytes) -> None:
        try:
            replies = self.reader.feed(data)
        except MessageTooLarge as exc:
            for reply in exc.before:
                self.channel.deliver(reply)
            self.channel.fail(f"the worker sent a frame of {exc.size} bytes")
            return
        for reply in replies:
            self.channel.deliver(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.channel.fail("the worker closed its channel")


class Channel:
    """Send requests, await the worker's replies, notice when the worker goes away."""

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
        channel._transport = transport
        return channel

    @property
    def in_flight(self) -> int:
        return len(self._futures)

    def _write(self, message: tuple[Any, ...]) -> None:
        if self.closed_reason is not None or self._transport is None:
            raise ChannelClosed(self.closed_reason or "not open")
        self._transport.write(encode(message))

    def send(self, message: tuple[Any, ...]) -> None:
        """A message without a reply (unload)."""
        self._write(message)

    def request(self, build: Callable[[int], tuple[Any, ...]]) -> asyncio.Future[dict[str, Any]]:
        """Send ``build(request_id)``; the future gets the worker's reply (a dict)."""
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._write(build(request_id))
        self._futures[request_id] = future
        return future

    def deliver(self, reply: Any) -> None:
        if self.closed_reason is not None:
            return
        try:
            if not isinstance(reply, dict):
                raise TypeError(type(reply).__name__)
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
