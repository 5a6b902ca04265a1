"""What a sandboxed child may use (Limits) and reach (Isolation), how its end is
reported (ExitInfo), and the analyst-facing messages that name the limit that was hit."""

from __future__ import annotations

import signal as signal_module
from dataclasses import dataclass, field

STATUSES = ("ok", "exited", "signal", "time_limit", "memory_limit", "process_limit", "stopped")


@dataclass(frozen=True)
class Isolation:
    """What to isolate a child from (set by whoever starts sandboxes); how is in
    ``softquery.sandbox.namespaces``."""

    enabled: bool = True
    hide: tuple[str, ...] = ()  # the home, the metadata DB, file sources
    own_user: bool = True  # switch to a user of its own when the parent is root


@dataclass(frozen=True)
class Limits:
    wall_seconds: float | None = 3600.0
    memory_mb: int | None = 4096
    max_processes: int | None = 64
    max_file_mb: int | None = 10240
    threads: int = 1  # BLAS / OpenMP threads in the child
    isolation: Isolation = field(default_factory=Isolation)  # who it runs as, what it can reach


@dataclass(frozen=True)
class ExitInfo:
    status: str  # one of STATUSES
    exit_code: int | None
    signal: int | None
    message: str  # for an analyst; names the limit


@dataclass(frozen=True)
class EndFacts:
    """Everything the parent knows when the child has been reaped."""

    returncode: int  # >= 0 exit code, < 0 killed by that signal
    killed_for: str | None  # "stopped" | "time_limit" when we killed it
    child_report: str | None  # what the child's wrapper said about how target ended
    oom_killed: bool  # the memory cgroup OOM-killed a process of the job
    memory_at_limit: bool  # the memory cgroup hit its limit at least once
    forks_refused: bool  # the pids cgroup refused a fork


def _number(value: float) -> str:
    return f"{value:g}"


def memory_error_message(limits: Limits) -> str:
    if limits.memory_mb is None:
        return "The run ran out of memory (the machine could not provide more) and was stopped."
    return f"The run exceeded its memory limit of {limits.memory_mb} MB and was stopped."


def private_folders_full_message(limits: Limits) -> str:
    return (f"The run wrote more than its memory limit of {limits.memory_mb} MB into /tmp, /var/tmp, "
            "/dev/shm and /run, which are kept in memory. Write large files into the run's own "
            "folder ($TMPDIR, on disk) instead.")


def time_limit_message(limits: Limits) -> str:
    if limits.wall_seconds is None:
        return "The run exceeded its time limit and was stopped."
    return f"The run exceeded its time limit of {_number(limits.wall_seconds)} seconds and was stopped."


def process_limit_message(limits: Limits) -> str:
    return (
        f"The run tried to start more than {limits.max_processes} processes, "
        "its process limit, and was stopped."
    )


def file_size_message(limits: Limits) -> str:
    return f"The run tried to write a file larger than its limit of {limits.max_file_mb} MB."


def signal_name(number: int) -> str:
    try:
        return signal_module.Signals(number).name
    except ValueError:
        return f"signal {number}"


def classify(facts: EndFacts, limits: Limits) -> ExitInfo:
    """Turn how the child ended into a status and a message an analyst understands."""
    code = facts.returncode if facts.returncode >= 0 else None
    sig = -facts.returncode if facts.returncode < 0 else None
    if facts.killed_for == "time_limit" or sig == signal_module.SIGXCPU:
        return ExitInfo("time_limit", code, sig, time_limit_message(limits))
    if facts.killed_for is not None:
        return ExitInfo("stopped", code, sig, "The run was stopped on request.")
    # Limit evidence wins over the exit code: job code that catches the
    # MemoryError / BlockingIOError still exits 0, yet the run hit a limit.
    if facts.oom_killed or facts.child_report == "memory" or (
        sig == signal_module.SIGKILL and facts.memory_at_limit
    ):
        return ExitInfo("memory_limit", code, sig, memory_error_message(limits))
    if facts.forks_refused or facts.child_report == "processes":
        return ExitInfo("process_limit", code, sig, process_limit_message(limits))
    if facts.returncode == 0:
        return ExitInfo("ok", 0, None, "The run finished.")
    if sig is not None:
        return ExitInfo(
            "signal", None, sig,
            f"The model code crashed the Python interpreter (signal {signal_name(sig)}).",
        )
    if facts.child_report == "file_size":
        return ExitInfo("exited", code, None, file_size_message(limits))
    if facts.child_report == "exception":
        return ExitInfo(
            "exited", code, None,
            "The model code raised an error; the traceback is at the end of the log.",
        )
    return ExitInfo(
        "exited", code, None,
        f"The job process exited unexpectedly with code {code} "
        "(os._exit or sys.exit in the model code?)",
    )
