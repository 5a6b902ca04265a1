"""Capture what user code prints, keeping a bounded tail."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field


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


def write_headed(title: str, stdout: str, stderr: str) -> None:
    """Write what one search trial or AutoML candidate printed to this process's
    stdout/stderr (the run's log, or the buffers of an enclosing ``capture_output``), each
    non-empty stream as one block under a line naming the trial (``title``)."""
    for text, stream in ((stdout, sys.stdout), (stderr, sys.stderr)):
        if text:
            stream.write(f"── {title} ──\n{text}" + ("" if text.endswith("\n") else "\n"))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


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
