"""The job forkserver of a process that runs a job itself (a one-shot `softquery train` or
`predict` with no server): start it ahead, end it when the job goes elsewhere.

Light on purpose (the sandbox only, which imports nothing but the standard library and
threadpoolctl): the `softquery` entry calls ``start_ahead`` before it imports the
commands, so the forkserver's ~1.5 s of imports (numpy, pandas, scikit-learn) run on
another core while this process imports its own (~1.7 s). The forkserver is the same
one a server starts: a fresh interpreter that drops the secrets from its environment
(``softquery.sandbox.forkserver_init``); starting it earlier changes nothing of what its
children hold.
"""

from __future__ import annotations

import logging

from softquery.sandbox import start_forkserver, stop_forkserver

log = logging.getLogger(__name__)


def start_ahead() -> None:
    """Start the forkserver now without waiting for it. A failure here is only logged: the
    run starts it again when it needs it (and says why if it cannot)."""
    try:
        start_forkserver()
    except Exception:  # noqa: BLE001 - an optimisation; the run's own start reports errors
        log.debug("starting the job forkserver ahead failed", exc_info=True)


def not_needed() -> None:
    """The job goes to a server or a worker after all: end the forkserver started ahead."""
    stop_forkserver()
