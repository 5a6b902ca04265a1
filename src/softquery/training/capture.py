"""Capture what user code prints, keeping a bounded tail."""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import select
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


class _TailBuffer(io.StringIO):
    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit
        self.dropped = 0

    def write(self, s: str) -> int:
        n = super().write(s)
        if self.tell() > self.limit * 2:
            text = self.getvalue()
            keep = text[-self.limit:]
            self.dropped += len(text) - len(keep)
            self.seek(0)
            self.truncate()
            super().write(keep)
        return n

    def tail(self) -> str:
        text = self.getvalue()[-self.limit:]
        if self.dropped or len(self.getvalue()) > self.limit:
            return "[… earlier output cut …]\n" + text
        return text


@dataclass
class Captured:
    stdout: str = ""
    stderr: str = ""
    _out: _TailBuffer | None = field(default=None, repr=False)
    _err: _TailBuffer | None = field(default=None, repr=False)

    def refresh(self) -> None:
        if self._out is not None and self._err is not None:
            self.stdout, self.stderr = self._out.tail(), self._err.tail()


@contextlib.contextmanager
def capture_output(limit: int = 200_000) -> Iterator[Captured]:
    """Redirect ``sys.stdout``/``sys.stderr`` of Python code into bounded buffers."""
    out, err = _TailBuffer(limit), _TailBuffer(limit)
    captured = Captured(_out=out, _err=err)
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        yield captured
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        captured.refresh()


# -- headed output: each block of the run's log under a line naming the fit that printed it --
#
# The holdout fit, the final fit, the cross-validation folds, search trials and AutoML candidates
# may run side by side in forked processes that all write to the run's log (the job child's
# stdout/stderr, streamed live to the supervisor) or to the buffers of an enclosing
# ``capture_output``. Each writes whole lines, and a line naming its block ("── final fit ──")
# before them whenever the last lines written to that stream were another block's (or none):
# so two fits printing at once give alternating blocks, each named. Which block wrote last is
# kept in memory shared by every process forked from the one that called ``share_blocks`` (a
# training, before its first fork: each job its own), behind a one-byte pipe token.

_BLOCK_ID = struct.Struct("<Q")


@dataclass
class _Shared:
    last: mmap.mmap  # the last block written: [stdout's, stderr's]; 0: none/unknown
    token_r: int
    token_w: int


_shared: _Shared | None = None


def share_blocks() -> None:
    """Start the run log's headings afresh, shared with the processes this one forks from now on
    (``headed``): call it before a training's first fork."""
    global _shared
    if _shared is not None:
        for fd in (_shared.token_r, _shared.token_w):
            with contextlib.suppress(OSError):
                os.close(fd)
    token_r, token_w = os.pipe()
    os.set_blocking(token_r, False)  # never wait in read for a token another process took first
    os.write(token_w, b"t")
    _shared = _Shared(mmap.mmap(-1, 2 * _BLOCK_ID.size), token_r, token_w)


def _blocks() -> _Shared:
    if _shared is None:
        share_blocks()
    assert _shared is not None
    return _shared


_TOKEN_WAIT_SECONDS = 1.0  # a process killed while holding the token: go on without it
_LONGEST_LINE = 65_536  # characters printed without a newline written as they are past this


@contextlib.contextmanager
def _token(shared: _Shared) -> Iterator[None]:
    """Hold the token while a block's lines are written and marked as the last. Not had within
    ``_TOKEN_WAIT_SECONDS`` (its holder was killed holding it): write anyway, and put a token
    back afterwards, so that a lost token costs one wait, not one a line."""
    deadline = time.monotonic() + _TOKEN_WAIT_SECONDS
    with contextlib.suppress(OSError, ValueError):
        while (left := deadline - time.monotonic()) > 0:
            select.select([shared.token_r], [], [], left)
            try:
                if os.read(shared.token_r, 1):
                    break
            except BlockingIOError:  # another process took it first: wait again
                continue
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.write(shared.token_w, b"t")


def forget_last_block(stream: Any) -> None:
    """Text written to ``stream`` that no headed block wrote (another process's, echoed into a
    buffer): the next block's lines there are headed again."""
    base = base_stream(stream)
    if isinstance(base, io.StringIO):
        base.softquery_last_block = 0  # type: ignore[attr-defined]


class _Headed(io.TextIOBase):
    """A stream writing whole lines to ``inner``, after a heading when another block wrote last."""

    def __init__(self, inner: Any, title: str, slot: int):
        super().__init__()
        self.inner, self.title, self.slot = inner, title, slot
        self.block = int.from_bytes(os.urandom(_BLOCK_ID.size), "little") or 1
        self.pending = ""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.inner, "encoding", None) or "utf-8")

    def fileno(self) -> int:
        return int(self.inner.fileno())

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.pending += s
        cut = self.pending.rfind("\n") + 1 or (len(self.pending) if len(self.pending) > _LONGEST_LINE else 0)
        if cut:
            lines, self.pending = self.pending[:cut], self.pending[cut:]
            self._emit(lines)
        return len(s)

    def flush(self) -> None:
        if self.pending:
            text, self.pending = self.pending, ""
            self._emit(text)
        with contextlib.suppress(Exception):
            self.inner.flush()

    def end(self) -> None:
        """The block is over: its last line ends."""
        if self.pending:
            self.pending += "\n"
        self.flush()

    def _emit(self, text: str) -> None:
        base = base_stream(self.inner)
        if isinstance(base, io.StringIO):  # a buffer of this process: it knows what was written last
            if getattr(base, "softquery_last_block", 0) != self.block:
                text = f"── {self.title} ──\n{text}"
            self.inner.write(text)
            base.softquery_last_block = self.block  # type: ignore[attr-defined]
            return
        at, shared = self.slot * _BLOCK_ID.size, _blocks()  # the run's log, written by every forked process
        with _token(shared):
            if _BLOCK_ID.unpack_from(shared.last, at)[0] != self.block:
                text = f"── {self.title} ──\n{text}"
            self.inner.write(text)
            with contextlib.suppress(Exception):
                self.inner.flush()
            _BLOCK_ID.pack_into(shared.last, at, self.block)


def base_stream(stream: Any) -> Any:
    """The stream under any headed block's: where text really goes."""
    while isinstance(stream, _Headed):
        stream = stream.inner
    return stream


@contextlib.contextmanager
def headed(title: str) -> Iterator[None]:
    """What Python code prints inside goes to the current ``sys.stdout``/``sys.stderr`` as it is
    printed, whole lines under ``── title ──``. Inside another headed block (the folds of a
    search trial) the lines stay under the enclosing block's name."""
    if isinstance(sys.stdout, _Headed) or isinstance(sys.stderr, _Headed):
        yield
        return
    old_out, old_err = sys.stdout, sys.stderr
    out, err = _Headed(old_out, title, 0), _Headed(old_err, title, 1)
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old_out, old_err
        out.end()
        err.end()
