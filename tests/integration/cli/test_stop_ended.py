"""REVIEW_19 #13 on the command line: `softquery run stop` on a run that had already ended
says there was nothing to stop, and leaves its status."""

from __future__ import annotations

from tests.integration.cli.cli_harness import SoftqueryCLI

from softquery.config import Settings
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.services.context import open_context


def test_run_stop_on_an_ended_run_says_nothing_was_stopped(sq: SoftqueryCLI) -> None:
    sq("demo")
    ctx = open_context(Settings())
    try:
        run = ctx.runs.create("house_quality", RunKind.TRAIN, RunTrigger.CLI)
        ctx.runs.mark_running(run.id)
        ctx.runs.finish(run.id, RunStatus.SUCCEEDED)
        out = sq("run", "stop", run.id).out
        assert " ".join(out.split()) == f"Run {run.id} had already succeeded; nothing to stop.", out
        assert ctx.runs.get(run.id).status is RunStatus.SUCCEEDED
    finally:
        ctx.close()
