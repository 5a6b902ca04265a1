"""The parent side of a sandbox (its one entry, ``Sandbox``): run untrusted model code
in a limited, isolated child process and talk to it.

``Sandbox.start`` starts a child from the forkserver (a clean, warm
interpreter: the child holds none of the server's memory). The child is in
its own session, dies with its parent, sees a scrubbed environment, writes
stdout/stderr into pipes the parent reads, sits in its own pids and memory
cgroups (rlimits where cgroups are not available; see ``enforcement``), and
runs as a user of its own with no network, the home hidden and its own /tmp,
/var/tmp, /dev/shm and /run (``softquery.sandbox.namespaces``), with every process it
starts in a PID namespace that ends with it (``softquery.sandbox.pid_namespace``). The
parent talks to it with ``send`` and ``receive`` or ``next_reply`` (the messages of
``softquery.sandbox.protocol``), polls it with ``wait``, stops it with ``kill`` and
releases it with ``close``; a caller with its own event loop reads ``message_fd`` itself.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import select
import signal
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from softquery.sandbox import namespaces, pid_namespace
from softquery.sandbox.cgroups import JobCgroups
from softquery.sandbox.child import child_main
from softquery.sandbox.forkserver import Served, forkserver_asked_at, launch, prepare_forkserver
from softquery.sandbox.limits import EndFacts, ExitInfo, Limits, classify, memory_error_message
from softquery.sandbox.protocol import MessageReader, MessageTooLarge, OutputDecoder, dumps

__all__ = ["ExitInfo", "Limits", "Sandbox", "is_output", "memory_error_message", "prepare_forkserver"]

log = logging.getLogger(__name__)
KILL_GRACE_SECONDS = 1.0
MAX_BUFFERED_OUTPUT = 1024 * 1024  # characters kept while nobody calls receive()
READ_BYTES = 1024 * 1024
RECEIVE_SECONDS = 0.05
UNLIMITED_MESSAGE_BYTES = 4 * 1024 ** 3  # a trained model's artifact travels in one message


def is_output(message: Any) -> bool:
    """True for what ``receive`` hands on from the child's stdout/stderr: ("stdout"|"stderr", text)."""
    return (isinstance(message, tuple) and len(message) == 2 and message[0] in ("stdout", "stderr")
            and isinstance(message[1], str))


class Sandbox:
    """One sandboxed child process and the parent's handle on it."""

    def __init__(self, child: Served, limits: Limits, conn: Connection,
                 out: Connection, err: Connection, control: Connection, method: str):
        self._child, self.limits, self.start_method = child, limits, method
        self.pid = child.pid
        self.started = time.monotonic()
        self._conn, self._control = conn, control
        self._streams: dict[int, tuple[Connection, OutputDecoder]] = {
            out.fileno(): (out, OutputDecoder("stdout")),
            err.fileno(): (err, OutputDecoder("stderr")),
        }
        self._conn_open = True
        # A message is something the child holds in memory: it cannot be larger than that.
        self._messages = MessageReader(UNLIMITED_MESSAGE_BYTES if limits.memory_mb is None
                                       else (limits.memory_mb + 64) * 1024 * 1024)
        self._inbox: deque[Any] = deque()
        self._held: deque[Any] = deque()  # received, not yet taken by ``next_reply``
        self._buffered_output = self._dropped_output = 0
        self._killed_for: str | None = None
        self._info: ExitInfo | None = None
        self._closed = False
        self.cgroups = JobCgroups(None, None)
        self.grant: namespaces.Grant | None = None
        self.enforcement: dict[str, str] = {}
        # time.time() of: the forkserver first asked for (None: unknown), this child asked
        # for, and forked (the wait between them is what is left of the forkserver's start)
        self.startup: dict[str, float | None] = {}

    @classmethod
    def start(cls, target: Callable[[Connection, Any], None], payload: Any, *, limits: Limits,
              name: str) -> Sandbox:
        conn, child_conn = multiprocessing.Pipe(duplex=True)
        out_r, out_w = multiprocessing.Pipe(duplex=False)
        err_r, err_w = multiprocessing.Pipe(duplex=False)
        control, child_control = multiprocessing.Pipe(duplex=True)
        args = (target, payload, child_conn, out_w, err_w, child_control, limits)
        asked = time.time()
        child, method = launch(child_main, args, name)
        startup = {"forkserver": forkserver_asked_at(), "asked": asked, "started": time.time()}
        for end in (child_conn, out_w, err_w, child_control):
            end.close()
        sandbox = cls(child, limits, conn, out_r, err_r, control, method)
        sandbox.startup = startup
        sandbox._confine(name)
        return sandbox

    def _confine(self, name: str) -> None:
        limits = self.limits
        helpers = pid_namespace.HELPERS if limits.isolation.enabled else 0  # the PID namespace's init and its parent
        processes = None if limits.max_processes is None else limits.max_processes + helpers
        self.cgroups = JobCgroups.create(name, self.pid, processes, limits.memory_mb)
        try:
            self.grant = namespaces.prepare(limits.isolation, self.pid, limits.memory_mb)
        except OSError as exc:  # no working directory: the child is told to give up
            log.error("job %s (pid %d): cannot prepare its isolation: %s", name, self.pid, exc)
            with contextlib.suppress(OSError):
                self._control.send({"refuse": f"softquery could not prepare the job's isolation ({exc})."})
            return
        own_user = self.grant is not None and self.grant.uid is not None
        self.enforcement = {
            "memory": "none" if limits.memory_mb is None else (
                "cgroup v1 memory" if self.cgroups.memory else "RLIMIT_AS above the child's start size"),
            "processes": "none" if limits.max_processes is None else (
                "cgroup v1 pids" if self.cgroups.pids else
                "RLIMIT_NPROC of its own user" if own_user else
                "none: running as root, where RLIMIT_NPROC is not enforced" if os.geteuid() == 0 else
                "RLIMIT_NPROC"),
            "isolation": namespaces.describe(self.grant),
        }
        if self.cgroups.problems:
            log.warning("job %s (pid %d): %s; enforcing %s", name, self.pid,
                        "; ".join(self.cgroups.problems), self.enforcement)
        with contextlib.suppress(OSError):
            self._control.send({"memory_cgroup": self.cgroups.memory is not None,
                                "pids_cgroup": self.cgroups.pids is not None, "grant": self.grant})

    # -- messages and output ---------------------------------------------------
    def send(self, message: Any) -> None:
        self._conn.send_bytes(dumps(message))

    def _add_output(self, item: tuple[str, str]) -> None:
        self._inbox.append(item)
        self._buffered_output += len(item[1])
        while self._buffered_output > MAX_BUFFERED_OUTPUT:
            for index, old in enumerate(self._inbox):
                if isinstance(old, tuple) and len(old) == 2 and old[0] in ("stdout", "stderr"):
                    del self._inbox[index]
                    self._buffered_output -= len(old[1])
                    self._dropped_output += len(old[1])
                    break

    def _pump(self, timeout: float) -> bool:
        """Read whatever the child has written within ``timeout``; True if anything came."""
        fds = list(self._streams)
        if self._conn_open:
            fds.append(self._conn.fileno())
        if not fds:
            time.sleep(max(0.0, min(timeout, 0.05)))
            return False
        ready, _, _ = select.select(fds, [], [], max(0.0, timeout))
        for fd in ready:
            if fd in self._streams:
                stream, decoder = self._streams[fd]
                data = os.read(fd, 65536)
                item = decoder.feed(data)
                if item is not None:
                    self._add_output(item)
                if not data:
                    stream.close()
                    del self._streams[fd]
            else:
                self._read_messages()
        return bool(ready)

    def _read_messages(self) -> None:
        """Take what the child has sent on the message socket, without ever blocking:
        a child that stops halfway through a message cannot stall its supervisor."""
        fd = self._conn.fileno()
        for _ in range(64):
            ready, _, _ = select.select([fd], [], [], 0)
            if not ready:
                return
            try:
                data = os.read(fd, READ_BYTES)
            except OSError:
                data = b""
            if not data:
                self._conn_open = False
                return
            try:
                messages = self._messages.feed(data)
            except MessageTooLarge as exc:
                self._inbox.append(("invalid_message", str(exc)))
                self._conn_open = False  # nothing more is read from this child
                return
            self._inbox.extend(messages)

    def receive(self, timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        while not self._inbox and not self._held and (remaining := deadline - time.monotonic()) > 0:
            self._pump(remaining)
        for _ in range(64):  # take what is already there, bounded: a caller that keeps
            # receiving loses nothing (the buffer's cap only drops output nobody reads)
            if self._buffered_output >= MAX_BUFFERED_OUTPUT // 2 or not self._pump(0):
                break
        if self._conn_open:
            self._read_messages()  # messages are never held back by the output cap
        items = [*self._held, *self._inbox]
        self._held.clear()
        self._inbox.clear()
        self._buffered_output = 0
        if self._dropped_output:
            items.insert(0, ("stderr", f"[{self._dropped_output} characters of output were dropped]\n"))
            self._dropped_output = 0
        return items

    def next_reply(self, on_output: Callable[[str, str], None] | None = None) -> Any | None:
        """The child's next message that is not its output, waiting while the child runs and
        killing it once its wall time is up; None when the child has ended without one.
        Its output on the way goes to ``on_output(stream, text)``."""
        while True:
            while self._held:
                message = self._held.popleft()
                if not is_output(message):
                    return message
                if on_output is not None:
                    on_output(message[0], message[1])
            ended = self.wait(0) is not None  # then what it sent before it ended is read below
            if not ended and self.deadline_passed():
                self.kill("time_limit")
            self._held.extend(self.receive(0 if ended else RECEIVE_SECONDS))
            if ended and not self._held:
                return None

    # -- for a caller with its own event loop (long-lived serving workers) ------------
    def message_fd(self) -> int:
        """The parent's end of the message socket, for a caller that does its own I/O
        on it (then ``send``/``receive``/``wait`` are not used while the child runs)."""
        return self._conn.fileno()

    def output_fds(self) -> list[int]:
        """The child's stdout/stderr pipes (still open), for a caller that drains them."""
        return list(self._streams)

    # -- lifecycle -----------------------------------------------------------------
    def alive(self) -> bool:
        return self._child.poll() is None

    def deadline_passed(self) -> bool:
        wall = self.limits.wall_seconds
        return wall is not None and time.monotonic() - self.started > wall

    def _signal_all(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)
        self.cgroups.signal_all(sig)

    def _group_gone(self) -> bool:
        if self._child.poll() is None or self.cgroups.processes():
            return False
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _wait_gone(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not self._group_gone():
            if time.monotonic() > deadline:
                return False
            self._pump(0.01)
        return True

    def kill(self, reason: str) -> None:
        """SIGTERM the job's process group and cgroup, SIGKILL what is left after a grace."""
        if self._info is not None:
            return
        if self._killed_for is None:
            self._killed_for = reason
        self._signal_all(signal.SIGTERM)
        if not self._wait_gone(KILL_GRACE_SECONDS):
            self._signal_all(signal.SIGKILL)
            self._wait_gone(KILL_GRACE_SECONDS)

    def wait(self, timeout: float | None = None) -> ExitInfo | None:
        if self._info is not None:
            return self._info
        deadline = None if timeout is None else time.monotonic() + timeout
        while (returncode := self._child.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                return None
            self._pump(0.02 if deadline is None else max(0.0, min(0.02, deadline - time.monotonic())))
        if not self._group_gone():  # leftovers of a finished job do not outlive it
            self._signal_all(signal.SIGKILL)
            self._wait_gone(KILL_GRACE_SECONDS)
        report = None
        with contextlib.suppress(EOFError, OSError):
            if self._control.poll(0):
                report = self._control.recv_bytes().decode(errors="replace")
        facts = EndFacts(returncode=returncode, killed_for=self._killed_for, child_report=report,
                         oom_killed=self.cgroups.oom_killed(),
                         memory_at_limit=self.cgroups.memory_at_limit(),
                         forks_refused=self.cgroups.forks_refused())
        self._info = classify(facts, self.limits)
        return self._info

    def close(self) -> None:
        if self._closed:
            return
        if self._child.poll() is None:
            self.kill("stopped")
        self.wait(KILL_GRACE_SECONDS)
        self.cgroups.remove()
        namespaces.release(self.grant)
        for stream, _ in self._streams.values():
            stream.close()
        self._streams.clear()
        self._conn.close()
        self._control.close()
        self._child.release()
        self._closed = True
