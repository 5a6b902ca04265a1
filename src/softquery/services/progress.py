"""Report a run's phase and progress to the metadata DB (throttled) and a listener."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from softquery.store.runs_repo import RunRepository

Listener = Callable[[str, float | None, str], None]  # phase, fraction, detail


class RunProgress:
    def __init__(self, runs: RunRepository, run_id: str, listener: Listener | None = None,
                 min_interval: float = 0.5):
        self.runs = runs
        self.run_id = run_id
        self.listener = listener
        self.min_interval = min_interval
        self._last_write = 0.0
        self.phase_name = "starting"
        self.fraction: float | None = 0.0
        self.job_starts: dict[str, dict[str, Any]] = {}  # the run's result "job_start"

    def job_started(self, kind: str, startup: dict[str, float | None]) -> None:
        """Note when the run's ``kind`` job child was asked for and started, and when the
        forkserver it came from was first asked for (``Sandbox.startup``): how long the run
        waited for its job process, in its result."""
        asked, started = startup.get("asked"), startup.get("started")
        self.job_starts[kind] = {
            "forkserver_asked_at": _iso(startup.get("forkserver")),
            "asked_at": _iso(asked),
            "started_at": _iso(started),
            "waited_seconds": None if asked is None or started is None else round(started - asked, 4),
        }

    def __call__(self, phase: str, fraction: float | None, detail: str = "", *, force: bool = False) -> None:
        changed = phase != self.phase_name
        self.phase_name, self.fraction = phase, fraction
        if self.listener is not None:
            self.listener(phase, fraction, detail)
        now = time.monotonic()
        if force or changed or now - self._last_write >= self.min_interval:
            self._last_write = now
            values: dict[str, object] = {"phase": phase[:100]}
            if fraction is not None:
                values["progress"] = max(0.0, min(1.0, fraction))
            self.runs.update(self.run_id, **values)


def _iso(stamp: float | None) -> str | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC).isoformat()
