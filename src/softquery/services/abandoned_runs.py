"""Find runs whose supervisor died and end them as failed (abandoned), and end what
their jobs left on this host (``softquery.sandbox.leftovers``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from softquery.clock import utcnow
from softquery.domain import RunStatus
from softquery.sandbox import end_leftovers
from softquery.services.context import ServiceContext
from softquery.services.interrupted_writes import recover_after_abandoned

ABANDONED = {
    "code": "abandoned",
    "message": (
        "The process running this job stopped unexpectedly (it was killed or crashed), so the run "
        "was abandoned. No partial results were kept: the previous version and output table are "
        "unchanged. Start the run again."
    ),
    "details": {},
}


def reap_abandoned(ctx: ServiceContext, now: datetime | None = None) -> list[str]:
    """Mark running runs silent for longer than ``abandon_after_seconds`` as failed; when
    there were some, end and remove the processes, cgroups and job folders of dead owners."""
    cutoff = (now or utcnow()) - timedelta(seconds=ctx.settings.abandon_after_seconds)
    reaped = []
    for run_id in ctx.runs.silent_running(cutoff):
        if ctx.runs.finish_if_running(run_id, RunStatus.FAILED, error=ABANDONED):
            reaped.append(run_id)
    if reaped:
        end_leftovers()  # their jobs' processes, cgroups and folders, on this host
        # a supervisor killed while writing left a staging table (and maybe a hot journal)
        recover_after_abandoned(ctx, reaped)
    return reaped
