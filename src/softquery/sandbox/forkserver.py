"""Starting a sandboxed child from the multiprocessing forkserver.

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
import multiprocessing.forkserver
import multiprocessing.process
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

FORKSERVER_PRELOAD = [
    "numpy", "pandas", "pyarrow", "sklearn", "sklearn.base", "sklearn.pipeline",
    "sklearn.linear_model", "sklearn.ensemble", "threadpoolctl",
    "softquery.sandbox.forkserver_init", "softquery.sandbox", "softquery.services.job_child",
    "softquery.training.pipeline", "softquery.prediction.predict_rows", "softquery.modelcode.preprocessing",
    "softquery.serving.worker",
]


# When this process first asked for its forkserver (``time.time()``), for the run's record
# of how long its job child waited (``Sandbox.startup``); cleared by ``stop_forkserver``.
_asked: dict[str, float] = {}


def _forkserver() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
    _asked.setdefault("at", time.time())
    return ctx


def forkserver_asked_at() -> float | None:
    """When this process first asked for the forkserver (``time.time()``), or None."""
    return _asked.get("at")


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


_main_lock = threading.Lock()


@contextlib.contextmanager
def _main_not_rerun(target: Any) -> Iterator[None]:
    """multiprocessing makes every forkserver child run the parent's ``__main__`` again:
    for ``softquery serve`` that is the console script, which imports the whole app
    (about a second per job; ``python -m softquery.cli.main`` is named by its
    ``__spec__``). A target that lives in an importable module does not need it; one
    defined in ``__main__`` (a script) does."""
    main = sys.modules.get("__main__")
    path, spec = getattr(main, "__file__", None), getattr(main, "__spec__", None)
    if main is None or (path is None and spec is None) or getattr(target, "__module__", None) == "__main__":
        yield
        return
    with _main_lock:
        if path is not None:
            del main.__file__
        main.__spec__ = None
        try:
            yield
        finally:
            main.__spec__ = spec
            if path is not None:
                main.__file__ = path


def _noop() -> None:
    pass


def prepare_forkserver() -> None:
    """Start the forkserver and wait until its preloads are imported (~1-2 s, once)."""
    process = _forkserver().Process(target=_noop)
    with _main_not_rerun(_noop):  # nor does the forkserver itself, when this starts it
        process.start()
    process.join()
    process.close()


def start_forkserver() -> None:
    """Start the forkserver and return at once: its preloads (~1.5 s) go on in that process
    while this one works; the first ``launch`` waits for what is left of them."""
    _forkserver()
    with _main_not_rerun(_noop):
        multiprocessing.forkserver.ensure_running()


def stop_forkserver() -> None:
    """End this process's forkserver, even halfway through its preloads (one started ahead
    of a job that is run elsewhere after all). Only for a process that launched no child
    from it: the forkserver reaps its children."""
    # multiprocessing has no public way to end its forkserver (``_stop`` is for its tests)
    server: Any = multiprocessing.forkserver._forkserver
    pid = server._forkserver_pid
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        server._stop()  # closes its pipe, reaps it, removes its socket
    _asked.clear()


def launch(child_main: Callable[..., None], args: tuple[Any, ...], name: str) -> tuple[Served, str]:
    """Start ``child_main(*args, parent_pid=...)``; ``args[0]`` is the job's target;
    returns (child, "forkserver")."""
    process = _forkserver().Process(target=child_main, args=args, name=name,
                                    kwargs={"parent_pid": os.getpid()})
    with _main_not_rerun(args[0]):
        process.start()
    # Not joined by multiprocessing at exit: the child dies with the server (PDEATHSIG).
    multiprocessing.process._children.discard(process)  # type: ignore[attr-defined]
    return Served(process), "forkserver"
