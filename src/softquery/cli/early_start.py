"""Start the job forkserver before the `softquery` command imports its commands.

A `softquery train` or `predict` with no server running runs its job itself, in a child
of the job forkserver: a fresh interpreter importing numpy, pandas and scikit-learn
(~1.5 s). Importing the commands takes this process about as long, so the forkserver is
started first and both import at once, on two cores; by the time the run is claimed the
forkserver is (nearly) ready. When the run goes to a server or worker after all, the
command ends it (``softquery.services.job_processes.not_needed``). Light on purpose: this
module imports only the standard library until it decides to start the forkserver. Its
callers: the console script (``softquery.cli.entry``) and the first lines of
``python -m softquery.cli.main``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

RUN_COMMANDS = frozenset({"train", "predict"})  # may run a job in this process
NO_RUN_OPTIONS = frozenset({"-h", "--help", "--version"})


def runs_a_job_here(argv: list[str], environ: Mapping[str, str]) -> bool:
    """True when ``argv`` (without the program) is a command that runs its job in this
    process unless a server is running: `train` or `predict`, not asking for help, and no
    RQ queue configured (then a worker runs it)."""
    if environ.get("SOFTQUERY_QUEUE") or NO_RUN_OPTIONS.intersection(argv):
        return False
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    return command in RUN_COMMANDS


def start_ahead(argv: list[str]) -> None:
    """Start the job forkserver now if ``argv`` may run a job here (see the module)."""
    if runs_a_job_here(argv, os.environ):
        from softquery.services.job_processes import start_ahead as start

        start()

