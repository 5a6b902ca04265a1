"""The models list as a service: search, filters, sort and pages over many models; the run a
model's status comes from; free names for a copy."""

from __future__ import annotations

import pytest
from tests import authkit

from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.domain.accounts import Role
from softquery.errors import InvalidInputError
from softquery.services import models as models_svc
from softquery.services import runs as runs_svc
from softquery.services.context import ServiceContext
from softquery.services.model_catalog import NO_OWNER, ModelQuery, find_models
from softquery.services.models import ModelSpec, create_model, duplicate_model, suggest_copy_name
from softquery.services.schedules import set_schedule


def _add(ctx: ServiceContext, name: str, description: str = "") -> None:
    create_model(ctx, name, ModelSpec(source="src", template="linear_regression", description=description,
                                      train_sql="select 1 as x, 2 as y", predict_sql="select 1 as x"))


def _run(ctx: ServiceContext, model: str, status: RunStatus) -> str:
    run = ctx.runs.create(model, RunKind.TRAIN, RunTrigger.WEB)
    if status is RunStatus.RUNNING:
        ctx.runs.mark_running(run.id)
    elif status is not RunStatus.QUEUED:
        ctx.runs.finish(run.id, status)
    return run.id


@pytest.fixture
def many(ctx: ServiceContext) -> ServiceContext:
    """30 models: m00..m29; every third one scheduled; m0x owned by ann, m1x by bob, m2x by nobody;
    m05 failed, m06 running (and a newer run queued behind it), m07 queued, m08 succeeded."""
    authkit.user(ctx, "ann", Role.EDITOR)
    authkit.user(ctx, "bob", Role.EDITOR)
    for i in range(30):
        name = f"m{i:02d}"
        _add(ctx, name, description="predicts churn" if i % 10 == 3 else "")
        if i % 3 == 0:
            set_schedule(ctx, name, "daily")
        models_svc.set_owner(ctx, name, {0: "ann", 1: "bob", 2: None}[i // 10])
    _run(ctx, "m05", RunStatus.FAILED)
    _run(ctx, "m06", RunStatus.RUNNING)
    _run(ctx, "m06", RunStatus.QUEUED)
    _run(ctx, "m07", RunStatus.QUEUED)
    _run(ctx, "m08", RunStatus.SUCCEEDED)
    return ctx


def _names(ctx: ServiceContext, **query: object) -> list[str]:
    return [r.model.name for r in find_models(ctx, ModelQuery(per_page=100, **query)).rows]  # type: ignore[arg-type]


def test_filters_combine(many: ServiceContext) -> None:
    assert _names(many, search="CHURN") == ["m03", "m13", "m23"]
    assert _names(many, search="m1") == [f"m1{i}" for i in range(10)]
    assert _names(many, owner="bob", schedule="scheduled") == ["m12", "m15", "m18"]
    assert _names(many, owner=NO_OWNER, schedule="unscheduled", search="m2") == \
        ["m20", "m22", "m23", "m25", "m26", "m28", "m29"]
    assert _names(many, status="failed") == ["m05"]
    assert _names(many, status="untrained")[:3] == ["m00", "m01", "m02"]


def test_a_running_run_is_the_status_even_with_a_newer_one_queued(many: ServiceContext) -> None:
    assert _names(many, status="running") == ["m06"]
    assert _names(many, status="queued") == ["m07"]
    row = next(r for r in find_models(many, ModelQuery(search="m06")).rows)
    assert row.run is not None and row.run.status is RunStatus.RUNNING
    assert row.last_run is not None and row.last_run.status is RunStatus.QUEUED
    assert row.run.stdout == ""  # the list never loads logs


def test_sort_and_pages(many: ServiceContext) -> None:
    assert _names(many, sort="status")[:4] == ["m05", "m06", "m07", "m08"]  # failed, running, queued, succeeded
    assert _names(many, sort="name", descending=True)[:2] == ["m29", "m28"]
    assert _names(many, sort="last_run", descending=True)[:4] == ["m08", "m07", "m06", "m05"]
    assert _names(many, sort="owner")[0] == "m20"  # "(admins)" sorts first
    page = find_models(many, ModelQuery(per_page=12, page=3))
    assert (page.total, page.matched, page.page, page.pages) == (30, 30, 3, 3)
    assert [r.model.name for r in page.rows] == [f"m{i}" for i in range(24, 30)]
    assert find_models(many, ModelQuery(per_page=12, page=9)).page == 3  # past the end: the last page
    assert find_models(many, ModelQuery()).owners == [NO_OWNER, "ann", "bob"]


def test_unknown_choices_are_refused_with_the_choices(many: ServiceContext) -> None:
    with pytest.raises(InvalidInputError, match="running"):
        find_models(many, ModelQuery(status="nonsense"))
    with pytest.raises(InvalidInputError, match="last_run"):
        find_models(many, ModelQuery(sort="size"))


def test_going_runs_are_oldest_first(many: ServiceContext) -> None:
    going = runs_svc.going_runs(many, "m06")
    assert [r.status for r in going] == [RunStatus.RUNNING, RunStatus.QUEUED]
    assert runs_svc.going_runs(many, "m08") == []


def test_a_copy_gets_a_free_name(ctx: ServiceContext) -> None:
    _add(ctx, "iris")
    assert suggest_copy_name(ctx, "iris") == "iris_copy"
    duplicate_model(ctx, "iris", "iris_copy")
    assert suggest_copy_name(ctx, "iris") == "iris_copy_2"
    duplicate_model(ctx, "iris", "iris_copy_2")
    assert suggest_copy_name(ctx, "iris") == "iris_copy_3"
    assert suggest_copy_name(ctx, "iris", taken="iris_copy") == "iris_copy_3"
    _add(ctx, "mine")
    assert suggest_copy_name(ctx, "iris", taken="mine") == "mine_2"
    long = "x" * 52  # the longest name whose output table, x…x_prediction, is an identifier
    _add(ctx, long)
    assert suggest_copy_name(ctx, long) == "x" * 47 + "_copy"
    duplicate_model(ctx, long, "x" * 47 + "_copy")
    assert suggest_copy_name(ctx, long) == "x" * 45 + "_copy_2"
