"""Run independent fits of one training (holdout fit, cross-validation folds, search trials,
AutoML candidates) side by side, up to the cores the job may use.

``run_all(tasks, cores)`` returns each task's result in order, or re-raises a failed task's
error (the first in the order given among those failed when it stops; one after another: the
first): a ``SoftqueryError`` as raised, with its message, code and details. ``cores_for``
says whether fits are worth forking at all: only fits each expected to take clearly longer
than forking costs (``FORK_SECONDS``, measured by benchmarks/fork_overhead.py) are; shorter
ones run one after another here.

How: ``os.fork()`` from the job child, not threads. Fits are CPU-bound Python and numpy code
that holds the GIL for long stretches (scikit-learn's own loops, pandas, the user's code), so
threads would mostly take turns; and user code instances must never share state (a class
attribute one fold sets must not leak into the next fold or into the final model). A forked
process gets both: true parallelism, and a copy-on-write copy of the rows, so nothing is sent
to it. Only each task's result comes back, pickled (small dicts of metrics, never fitted
models).

Layout: at most ``cores`` *workers* at once (``cores - 1`` while ``beside`` runs in this
process, so the job never runs more fits than it has cores). The task numbers wait in a pipe;
each worker takes the next number and runs that task in a fresh *fit process* it forks, so
every task starts from the parent's state. The fit process pickles its result into a file of
a private temporary folder (a pipe would stall the fit while this process is busy with
``beside``). The worker watches its fit process: one that dies (a signal, the out-of-memory
killer, ``os._exit`` in the model code) or whose result cannot be pickled becomes a clear
``ModelCodeError`` naming the task, never a hang; a worker whose task failed ends at once, and
while this process is busy with ``beside`` its SIGCHLD interrupts that work with the error
(``failing_fast``), so a failed holdout fit does not wait for the final fit. Workers and fit
processes die with their parent (``PR_SET_PDEATHSIG``), and the sandbox kills the job's whole
process group and cgroup at its time limit, so a fit that never ends is ended by the run's
time limit. When ``fork``
fails (the job's process limit), the tasks run one after another in this process.

Memory: each process is charged to the job's memory cgroup; only pages a fit writes are
copied, and at most ``cores`` fits run at once.

Output: a fit process writes to the same stdout/stderr as the job child (the run's log), as it
prints, under a line naming its fit (``capture.headed``: the fits re-head when they alternate).
When the job child captures Python output into buffers (``training.capture``), what a fit
process prints comes back with its result and is appended to those buffers.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import pickle
import select
import shutil
import signal
import struct
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

from softquery.errors import ModelCodeError, SoftqueryError
from softquery.training.capture import base_stream, forget_last_block

T = TypeVar("T")
_NUMBER = struct.Struct("<i")
_PR_SET_PDEATHSIG = 1
_WORKER_FAILED = 70
OnDone = Callable[[int, int], None]  # (tasks done, tasks in all)
# What running a fit in a forked process costs beyond the fit itself, measured on a 2-core
# machine (benchmarks/fork_overhead.py): 5-6 ms a task to fork, pickle the result back and reap
# the process, whatever the parent's size (0-1 GiB); in a training, a forked fold also pays
# copy-on-write faults and colder caches: the demo's 5 folds (180 rows) took 0.16 s of CV wall
# time forked for 0.04 s of fold fits, some 25 ms a fold.
FORK_SECONDS = 0.03
# Tasks are forked only when each is expected to take at least this long (5x the overhead, so
# that forking costs at most a fifth of the work: a fold that takes long enough to gain from
# running beside the others or from a process of its own); shorter ones run one after another
# in the job child, as fast as they get.
WORTH_FORKING_SECONDS = 5 * FORK_SECONDS


def cores_for(cores: int, seconds: float | None) -> int:
    """``cores``, or 1 when the tasks (``seconds`` each, estimated) are too small to gain from
    running side by side."""
    return cores if worth_forking(seconds) else 1


def worth_forking(seconds: float | None) -> bool:
    """Whether tasks taking ``seconds`` each (estimated; None: unknown) are worth forking: each
    clearly longer than forking costs (``FORK_SECONDS``)."""
    return seconds is None or seconds >= WORTH_FORKING_SECONDS


def run_all(tasks: Sequence[Callable[[], T]], cores: int = 1, *, beside: Callable[[], None] | None = None,
            names: Sequence[str] | None = None, on_done: OnDone | None = None, fork: bool | None = None
            ) -> list[T]:
    """Each task's result, in the order given. A task's result must be picklable (it may be
    computed in another process); a task must not rely on what another task changed.

    ``beside``: work done in this process while the tasks run (the final fit on all rows);
    ``names``: what each task is, for error messages ("cross-validation fold 2");
    ``on_done``: called in this process as tasks finish. A task must not report progress
    itself: it may run in a forked process, and the job's message socket is this process's
    (report from ``on_done`` instead). ``fork``: True to run the tasks in forked processes
    even on one core (one at a time: each in a process of its own); by default they are forked
    when there are cores to run them side by side."""
    count = len(tasks)
    if fork is None:
        fork = cores > 1 and (count > 1 or beside is not None)
    if not fork or count == 0:
        return _one_after_another(tasks, beside, on_done)
    cores = max(cores, 1)
    labels = list(names) if names is not None else [f"task {i + 1}" for i in range(count)]
    pool = _Pool(tasks, labels)
    try:
        pool.grow(min(count, max(1, cores - 1) if beside is not None else cores))
        if not pool.workers:  # fork refused: the job's process limit
            pool.close()
            return _one_after_another(tasks, beside, on_done)
        if beside is not None:
            try:
                with pool.failing_fast():
                    beside()
            except Exception:
                # the tasks' errors come first, as one after another (the holdout fit's before
                # the folds' that ran beside it): wait for them, then raise beside's own
                pool.grow(min(count, cores))
                pool.collect(None)
                raise
        pool.grow(min(count, cores))
        return pool.collect(on_done)
    finally:
        pool.close()


def _one_after_another(tasks: Sequence[Callable[[], T]], beside: Callable[[], None] | None,
                       on_done: OnDone | None) -> list[T]:
    if beside is not None:
        beside()
    results = []
    for task in tasks:
        results.append(task())
        if on_done is not None:
            on_done(len(results), len(tasks))
    return results


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when ``parent`` ends (Linux), and leave now if it already has."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(_WORKER_FAILED)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _portable(exc: BaseException, label: str) -> dict[str, Any]:
    """An error as plain data that survives pickling (a SoftqueryError's kwargs do not)."""
    if isinstance(exc, SoftqueryError):
        return {"cls": type(exc), "message": exc.message, "details": exc.details, "code": exc.code}
    if isinstance(exc, MemoryError):
        return {"memory": True}
    if isinstance(exc, SystemExit):
        return {"cls": ModelCodeError, "message": f"The model code called sys.exit({exc.code!r}) in the {label}.",
                "details": {"problem": "exit"}, "code": ModelCodeError.code}
    return {"cls": ModelCodeError, "details": {"traceback": "".join(traceback.format_exception(exc))},
            "message": f"The {label} failed: {type(exc).__name__}: {exc}", "code": ModelCodeError.code}


def _rebuilt(error: dict[str, Any]) -> BaseException:
    if error.get("memory"):
        return MemoryError()
    cls = error["cls"]
    exc = cls.__new__(cls)
    SoftqueryError.__init__(exc, error["message"], details=error["details"], code=error["code"])
    return exc  # type: ignore[no-any-return]


class _Pool:
    def __init__(self, tasks: Sequence[Callable[[], Any]], labels: list[str]):
        self.tasks, self.labels = tasks, labels
        self.folder = tempfile.mkdtemp(prefix="softquery-fits-")
        self.todo_r, todo_w = os.pipe()
        os.write(todo_w, b"".join(_NUMBER.pack(i) for i in range(len(tasks))))
        os.close(todo_w)  # workers see the end of the pipe once every task is taken
        self.workers: dict[int, bool] = {}  # pid -> still running
        self.pid = os.getpid()
        self.closed = False

    def _path(self, i: int, what: str) -> str:
        return os.path.join(self.folder, f"{i}.{what}")

    def grow(self, wanted: int) -> None:
        _flush()
        while sum(self.workers.values()) < wanted and len(self.workers) < len(self.tasks):
            try:
                pid = os.fork()
            except OSError:
                return
            if pid == 0:
                self._worker()
            self.workers[pid] = True

    # -- in a worker ---------------------------------------------------------------------
    def _worker(self) -> NoReturn:
        code = 0
        try:
            _die_with_parent(self.pid)
            while len(data := os.read(self.todo_r, _NUMBER.size)) == _NUMBER.size:
                if not self._run_one(_NUMBER.unpack(data)[0]):
                    break  # the run fails: end now, so that the parent hears of it (SIGCHLD)
        except BaseException:  # noqa: BLE001 - a worker never returns into the caller's code
            code = _WORKER_FAILED
        os._exit(code)

    def _run_one(self, i: int) -> bool:
        """Run task ``i`` in a fit process; False when it failed (its error is its result)."""
        open(self._path(i, "started"), "wb").close()
        worker = os.getpid()
        pid = os.fork()
        if pid == 0:
            self._fit(i, worker)
        _, status = os.waitpid(pid, 0)
        if os.path.exists(self._path(i, "result")):
            return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        if os.WIFSIGNALED(status):
            why = (f"was killed by signal {_signal_name(os.WTERMSIG(status))} (the run's memory limit, "
                   "or the model code killed it)")
        else:
            why = (f"ended with exit code {os.WEXITSTATUS(status)} before it finished (os._exit or os.fork "
                   "in the model code?)")
        self._write(i, ("error", {"cls": ModelCodeError, "code": ModelCodeError.code,
                                  "message": f"The process training the {self.labels[i]} {why}.",
                                  "details": {"problem": "fit_process_died", "task": self.labels[i]}}, "", ""))
        return False

    def _fit(self, i: int, worker: int) -> NoReturn:
        _die_with_parent(worker)
        me = os.getpid()
        buffers = [s for s in map(base_stream, (sys.stdout, sys.stderr)) if isinstance(s, io.StringIO)]
        for buffer in buffers:  # captured output: send back only what this fit prints
            buffer.seek(0)
            buffer.truncate()
        try:
            outcome: tuple[Any, ...] = ("ok", self.tasks[i]())
        except BaseException as exc:  # noqa: BLE001 - every end of a fit goes back to the parent
            outcome = ("error", _portable(exc, self.labels[i]))
        if os.getpid() != me:  # a copy the model code forked: it reports nothing
            _flush()
            os._exit(0)
        _flush()  # the last line of a headed block it is in (``capture.headed``)
        out_buffer, err_buffer = base_stream(sys.stdout), base_stream(sys.stderr)
        out = out_buffer.getvalue() if isinstance(out_buffer, io.StringIO) else ""
        err = err_buffer.getvalue() if isinstance(err_buffer, io.StringIO) else ""
        try:
            self._write(i, (*outcome, out, err))
        except Exception as exc:  # noqa: BLE001 - an unpicklable result
            outcome = ("error",)
            self._write(i, ("error", {"cls": ModelCodeError, "code": ModelCodeError.code, "message": (
                f"The result of the {self.labels[i]} could not be passed back ({type(exc).__name__}: {exc})."),
                "details": {"problem": "unpicklable_result", "task": self.labels[i]}}, out, err))
        _flush()
        os._exit(0 if outcome[0] == "ok" else 1)

    def _write(self, i: int, outcome: tuple[Any, ...]) -> None:
        blob = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        part = self._path(i, f"part{os.getpid()}")
        with open(part, "wb") as fh:
            fh.write(blob)
        os.replace(part, self._path(i, "result"))

    # -- in the parent -------------------------------------------------------------------
    @contextlib.contextmanager
    def failing_fast(self) -> Iterator[None]:
        """While this process is busy (``beside``), a worker that ends on a failed task
        interrupts it with that task's error (from a SIGCHLD handler, between two Python
        steps), so that a holdout fit that dies does not wait for the final fit to end."""
        try:
            previous = signal.signal(signal.SIGCHLD, self._on_child)
        except ValueError:  # not the main thread: no early news
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGCHLD, previous)

    def _on_child(self, _signum: int, _frame: Any) -> None:
        ended = False
        for pid in [pid for pid, alive in self.workers.items() if alive]:
            with contextlib.suppress(ChildProcessError):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    self._ended(pid, status)
                    ended = True
        if ended:
            results: dict[int, Any] = {}
            failed: dict[int, BaseException] = {}
            self._read_results(results, failed, echo=False)
            if failed:
                self._read_results({}, {}, echo=True)  # what the fits printed, before the error
                raise failed[min(failed)]

    def collect(self, on_done: OnDone | None) -> list[Any]:
        results: dict[int, Any] = {}
        failed: dict[int, BaseException] = {}
        reported = 0
        while len(results) + len(failed) < len(self.tasks):
            self._read_results(results, failed)
            if on_done is not None and len(results) > reported:
                reported = len(results)
                on_done(reported, len(self.tasks))
            if failed:
                break
            if not any(self.workers.values()):
                if len(results) + len(failed) < len(self.tasks):
                    self._read_results(results, failed)
                    if not failed and len(results) < len(self.tasks):
                        lost = [self.labels[i] for i in range(len(self.tasks)) if i not in results]
                        raise ModelCodeError(f"The process training the {lost[0]} ended without a result "
                                             "(the model code killed it, or the run ran out of memory).",
                                             details={"problem": "fit_process_died", "task": lost[0]})
                break
            self._reap(block=True)
        if failed:
            raise failed[min(failed)]
        return [results[i] for i in range(len(self.tasks))]

    def _read_results(self, results: dict[int, Any], failed: dict[int, BaseException], echo: bool = True) -> None:
        for i in range(len(self.tasks)):
            if i in results or i in failed or not os.path.exists(self._path(i, "result")):
                continue
            with open(self._path(i, "result"), "rb") as fh:
                kind, value, out, err = pickle.load(fh)  # noqa: S301 - written by our own fork
            if out and echo:
                base_stream(sys.stdout).write(out)
                forget_last_block(sys.stdout)
            if err and echo:
                base_stream(sys.stderr).write(err)
                forget_last_block(sys.stderr)
            if kind == "ok":
                results[i] = value
            else:
                failed[i] = _rebuilt(value)

    def _reap(self, block: bool) -> None:
        """Wait (a little) for a worker to end; one that died abnormally names its task."""
        running = [pid for pid, alive in self.workers.items() if alive]
        for pid in running:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self._ended(pid, status)
                return
        if block:
            select.select([], [], [], 0.02)

    def _ended(self, pid: int, status: int) -> None:
        self.workers[pid] = False
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            return
        for i in range(len(self.tasks)):
            if os.path.exists(self._path(i, "started")) and not os.path.exists(self._path(i, "result")):
                how = (f"signal {_signal_name(os.WTERMSIG(status))}" if os.WIFSIGNALED(status)
                       else f"exit code {os.WEXITSTATUS(status)}")
                self._write_lost(i, how)

    def _write_lost(self, i: int, how: str) -> None:
        self._write(i, ("error", {"cls": ModelCodeError, "code": ModelCodeError.code, "message": (
            f"The process running the {self.labels[i]} was ended ({how}): the model code killed it or its "
            "parent, or the run ran out of memory."),
            "details": {"problem": "fit_process_died", "task": self.labels[i]}}, "", ""))

    def close(self) -> None:
        """Kill what still runs (its fit processes die with it), reap it, remove the folder."""
        if os.getpid() != self.pid or self.closed:
            return
        self.closed = True
        for pid, alive in self.workers.items():
            if alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
                self.workers[pid] = False
        with contextlib.suppress(OSError):
            os.close(self.todo_r)
        shutil.rmtree(self.folder, ignore_errors=True)
