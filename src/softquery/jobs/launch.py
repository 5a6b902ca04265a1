"""Starting a job child: a plain fork of this (warm, single-threaded) process,
or the multiprocessing forkserver (heavy modules preloaded) when this process
has other threads and forking it would copy locks those threads hold."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.process
import os
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

FORKSERVER_PRELOAD = [
    "numpy", "pandas", "pyarrow", "sklearn", "sklearn.base", "sklearn.pipeline",
    "sklearn.linear_model", "sklearn.ensemble", "threadpoolctl",
    "softquery.jobs.sandbox", "softquery.jobs.child", "sqlalchemy", "adbc_driver_sqlite.dbapi",
    "adbc_driver_postgresql.dbapi", "duckdb", "softquery.training.pipeline", "softquery.prediction.batch",
    "softquery.modelcode.preprocessing",
]
_libc = ctypes.CDLL(None)


def _forkserver() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
    return ctx


def _noop() -> None:
    pass


def prepare_forkserver() -> None:
    """Start the forkserver and wait until its preloads are imported (~1-2 s, once)."""
    process = _forkserver().Process(target=_noop)
    process.start()
    process.join()
    process.close()


class Forked:
    """A child forked directly from this process; we reap it."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def release(self) -> None:
        pass


class Served:
    """A child of the forkserver; the server reaps it and reports its status."""

    def __init__(self, process: Any):
        self.process = process
        self.pid: int = process.pid

    def poll(self) -> int | None:
        code: int | None = self.process.exitcode
        return code

    def release(self) -> None:
        with contextlib.suppress(ValueError):
            self.process.close()


def launch(child_main: Callable[..., None], args: tuple[Any, ...], parent_ends: list[Connection],
           name: str) -> tuple[Forked | Served, str]:
    """Start ``child_main(*args, parent_pid=..., direct_child=...)``; returns (child, method)."""
    parent_pid = os.getpid()
    if threading.active_count() == 1:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        _libc.fflush(None)  # or the child would repeat what C stdio had buffered
        pid = os.fork()
        if pid == 0:  # the child; child_main never returns
            for end in parent_ends:
                end.close()
            try:
                child_main(*args, parent_pid=parent_pid, direct_child=True)
            finally:
                os._exit(72)
        return Forked(pid), "fork"
    process = _forkserver().Process(target=child_main, args=args, name=name,
                                    kwargs={"parent_pid": parent_pid, "direct_child": False})
    process.start()
    # Not joined by multiprocessing at exit: the child dies with the server (PDEATHSIG).
    multiprocessing.process._children.discard(process)  # type: ignore[attr-defined]
    return Served(process), "forkserver"
