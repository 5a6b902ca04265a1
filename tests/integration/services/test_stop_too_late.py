"""A stop that comes after the training stored its version (item 11 of the issue 14 review)."""

from __future__ import annotations

import pytest

from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.errors import ConflictError, RunStoppedError
from softquery.services.context import ServiceContext
from softquery.services.models import ModelSpec, create_model
from softquery.services.runs import stop_run, submit_run
from softquery.services.sources import add_source

SPEC = ModelSpec(source="s", template="linear_regression", train_sql="select id, rooms, price from houses",
                 predict_sql="select id, rooms from houses")


def _running_training(ctx: ServiceContext, sqlite_url: str) -> str:
    add_source(ctx, "s", sqlite_url)
    create_model(ctx, "houses", SPEC)
    run = submit_run(ctx, "houses", RunKind.TRAIN, RunTrigger.CLI, None)
    ctx.runs.mark_running(run.id)
    return run.id


def _store(ctx: ServiceContext, run_id: str) -> None:
    """What record_training does at its end: store the version while the run runs, not stopped."""
    ctx.versions.add("houses", manifest={"metrics": {}}, signature="x", artifact=b"x", artifact_sha256="0" * 64,
                     run_id=run_id, activate=True, require_running=True)


def test_a_stop_after_the_version_is_stored_says_too_late(ctx: ServiceContext, sqlite_url: str) -> None:
    run_id = _running_training(ctx, sqlite_url)
    _store(ctx, run_id)
    with pytest.raises(ConflictError, match=r"Too late: run .* already storing its version \(version 1\)"):
        stop_run(ctx, run_id)
    assert not ctx.runs.stop_requested(run_id)  # nothing promised, nothing recorded
    assert ctx.runs.get(run_id).status is RunStatus.RUNNING


def test_a_stop_before_the_version_is_stored_wins(ctx: ServiceContext, sqlite_url: str) -> None:
    run_id = _running_training(ctx, sqlite_url)
    assert stop_run(ctx, run_id) is RunStatus.RUNNING  # asked; the supervisor ends the job
    with pytest.raises(RunStoppedError):
        _store(ctx, run_id)
    assert ctx.versions.by_run(run_id) is None
