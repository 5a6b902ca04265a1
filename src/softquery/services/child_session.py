"""The supervisor's side of one job child: strict request/reply messages.

``ChildSession.start`` starts the sandbox. ``send``, ``receive`` and
``request`` exchange messages with the child, and while they wait — and on
every ``tick`` — the session does what the supervisor owes the run: the
child's output goes to the run's log, progress to the run, heartbeats to the
metadata DB; a stop request or the wall-time limit kills the child. When the
child is gone the waiting call raises the run's error (``RunStoppedError``,
``LimitExceededError`` or ``ChildFailed``).

Only one side sends a big message at a time. The child's messages are decoded
with the allow-list of ``softquery.sandbox.protocol``. Messages to the child are
sent by a helper thread on a duplicate of the socket, so a child that stops
reading cannot block the supervisor (its stop checks and time limit go on).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

from softquery.domain import Run
from softquery.errors import LimitExceededError, RunStoppedError, SoftqueryError
from softquery.sandbox import ExitInfo, Limits, Sandbox, protocol
from softquery.services.context import ServiceContext
from softquery.services.job_child import JobPayload, job_child_main
from softquery.services.progress import Listener, RunProgress

LOG_FLUSH_SECONDS = 0.5
STOP_CHECK_SECONDS = 0.25
RECEIVE_SECONDS = 0.05
LIMIT_STATUSES = ("time_limit", "memory_limit", "process_limit")
NO_RESULT = {"code": "internal_error", "message": "The job process ended without a result."}
STOPPED_MESSAGE = "The run was stopped. No version was created and the output table was left as it was."


class ChildFailed(SoftqueryError):
    """Carries the child's error dict (code, message, details) up to the run."""

    def __init__(self, error: dict[str, Any]):
        super().__init__(str(error.get("message") or "The job failed."), details=error.get("details") or {},
                         code=str(error.get("code") or "error"))


def unexpected(message: Any, expected: str) -> ChildFailed:
    """A child message that breaks the protocol (model code can forge any message)."""
    kind = message[0] if isinstance(message, tuple) and message else type(message).__name__
    return ChildFailed({"code": "model_code_error",
                        "message": f"The model code's job process sent {kind!r} where softquery expected "
                                   f"{expected}; the run was ended and nothing was written.",
                        "details": {"received": str(kind)[:200]}})


class Sender:
    """Sends messages to the child from a thread, on its own duplicate of the socket."""

    def __init__(self, fd: int):
        self._conn = Connection(os.dup(fd))
        self._outbox: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="softquery-child-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while (message := self._outbox.get()) is not _STOP:
                self._conn.send_bytes(protocol.dumps(message))
        except (OSError, EOFError, ValueError):
            pass  # the child is gone: whoever waits for its reply finds out
        finally:
            self._conn.close()

    def send(self, message: Any) -> None:
        self._outbox.put(message)

    def close(self, seconds: float) -> None:
        self._outbox.put(_STOP)
        self._thread.join(seconds)


_STOP = object()


class ChildSession:
    def __init__(self, ctx: ServiceContext, run: Run, sandbox: Sandbox, progress: RunProgress,
                 listener: Listener | None):
        self.ctx, self.run, self.sandbox, self.progress, self.listener = ctx, run, sandbox, progress, listener
        self._sender = Sender(sandbox.message_fd())
        self._replies: deque[Any] = deque()
        self.ended = False  # the child finished (``finish``): upkeep goes on without it
        self._out: list[str] = []
        self._err: list[str] = []
        self.last_flush = self.last_stop_check = self.last_beat = time.monotonic()

    @classmethod
    def start(cls, ctx: ServiceContext, run: Run, payload: JobPayload, limits: Limits, progress: RunProgress,
              listener: Listener | None = None) -> ChildSession:
        sandbox = Sandbox.start(job_child_main, payload, limits=limits, name=f"run-{run.id}")
        progress.job_started(payload.kind, sandbox.startup)
        return cls(ctx, run, sandbox, progress, listener)

    # -- messages --------------------------------------------------------------------
    def send(self, message: Any) -> None:
        self._sender.send(message)

    def receive(self) -> Any:
        """The child's next message that is not output or progress."""
        while not self._replies:
            self._take(self.sandbox.receive(RECEIVE_SECONDS))
            self.tick()
        return self._replies.popleft()

    def request(self, message: Any) -> Any:
        self.send(message)
        return self.receive()

    def _take(self, messages: list[Any]) -> None:
        for message in messages:
            kind = message[0] if isinstance(message, tuple) and message else None
            if kind in ("stdout", "stderr") and len(message) == 2 and isinstance(message[1], str):
                (self._out if kind == "stdout" else self._err).append(message[1])
                if self.listener is not None:
                    self.listener("log", None, message[1])
            elif kind == "progress" and len(message) == 4:
                self.progress(message[1], message[2], message[3])
            else:
                self._replies.append(message)

    # -- the run's upkeep ------------------------------------------------------------
    def flush(self) -> None:
        if self._out or self._err:
            self.ctx.runs.append_logs(self.run.id, "".join(self._out), "".join(self._err),
                                      self.ctx.settings.max_log_chars)
            self._out.clear()
            self._err.clear()
        self.last_flush = time.monotonic()

    def _upkeep(self) -> None:
        now = time.monotonic()
        if now - self.last_flush >= LOG_FLUSH_SECONDS:
            self.flush()
        if now - self.last_beat >= self.ctx.settings.heartbeat_seconds:
            self.ctx.runs.heartbeat(self.run.id)
            self.last_beat = now
        if now - self.last_stop_check >= STOP_CHECK_SECONDS:
            self.last_stop_check = now
            if self.ctx.runs.stop_requested(self.run.id):
                if self.ended:
                    raise RunStoppedError(STOPPED_MESSAGE)
                self.sandbox.kill("stopped")
        if not self.ended and self.sandbox.deadline_passed():
            self.sandbox.kill("time_limit")

    def tick(self) -> None:
        """Logs, progress, heartbeat, stop request, time limit; raises the run's error once
        the child is gone without a message still to be read."""
        if self.ended:
            self._upkeep()
            return
        self._take(self.sandbox.receive(0))
        self._upkeep()
        if self.sandbox.wait(0) is not None and not self._replies:
            self._drain()
            if not self._replies:
                info = self._exit()
                raise _run_error(info, None) or ChildFailed(NO_RESULT)

    # -- the end ---------------------------------------------------------------------
    def finish(self, outcome: Any) -> Any:
        """After the child's last message (("result", x) or ("error", dict)): wait for it
        to exit; return x, or raise the run's error."""
        error = _run_error(self._exit(), outcome)
        self.ended = True
        if error is not None:
            raise error
        return outcome[1]

    def _drain(self) -> None:
        for _ in range(100):
            messages = self.sandbox.receive(0)
            if not messages:
                break
            self._take(messages)

    def _exit(self) -> ExitInfo:
        while (info := self.sandbox.wait(0)) is None:
            self._take(self.sandbox.receive(RECEIVE_SECONDS))
            self._upkeep()
        self._drain()
        return info

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.flush()
        if self.sandbox.alive():
            self.sandbox.kill("stopped")
        self._sender.close(2.0)
        self.sandbox.close()
        with contextlib.suppress(Exception):
            self.flush()  # what the child wrote while it ended

    def __enter__(self) -> ChildSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _run_error(info: ExitInfo, outcome: Any) -> SoftqueryError | None:
    """The run's error for how the child ended and its last message (None: success)."""
    kind = outcome[0] if isinstance(outcome, tuple) and outcome else None
    if info.status == "stopped":
        return RunStoppedError(STOPPED_MESSAGE)
    if info.status in LIMIT_STATUSES or (info.status != "ok" and kind != "error"):
        return LimitExceededError(info.message, code=info.status,
                                  details={"exit_code": info.exit_code, "signal": info.signal})
    if outcome is None:
        return ChildFailed(NO_RESULT)
    if kind == "error":
        error = outcome[1] if len(outcome) == 2 and isinstance(outcome[1], dict) else {}
        return ChildFailed(error)
    if kind == "invalid_message":
        return unexpected(outcome, "a valid message")
    return None
