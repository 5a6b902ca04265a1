"""Starting a job child from the multiprocessing forkserver.

The forkserver is a fresh interpreter (started once, heavy modules preloaded),
so a job starts in milliseconds and its child holds none of the server's
memory: no secret key, no decrypted source URL, no session, no connection.
A plain fork of the server would copy all of them into the process that runs
model code. The forkserver's children are reaped by the forkserver, which
reports their exit status.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.process
import os
from collections.abc import Callable
from typing import Any

FORKSERVER_PRELOAD = [
    "numpy", "pandas", "pyarrow", "sklearn", "sklearn.base", "sklearn.pipeline",
    "sklearn.linear_model", "sklearn.ensemble", "threadpoolctl",
    "softquery.jobs.forkserver_init", "softquery.jobs.sandbox", "softquery.jobs.child",
    "softquery.training.pipeline", "softquery.prediction.batch", "softquery.modelcode.preprocessing",
    "softquery.serving.worker",
]


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


def launch(child_main: Callable[..., None], args: tuple[Any, ...], name: str) -> tuple[Served, str]:
    """Start ``child_main(*args, parent_pid=...)``; returns (child, "forkserver")."""
    process = _forkserver().Process(target=child_main, args=args, name=name,
                                    kwargs={"parent_pid": os.getpid()})
    process.start()
    # Not joined by multiprocessing at exit: the child dies with the server (PDEATHSIG).
    multiprocessing.process._children.discard(process)  # type: ignore[attr-defined]
    return Served(process), "forkserver"
