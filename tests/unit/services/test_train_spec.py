"""What the supervisor hands the job child for a training: the run's own time limit (the one
its sandbox gets), the cores the job may use, the cross-validation sample size."""

from __future__ import annotations

import dataclasses
import os
from types import SimpleNamespace
from typing import Any

from softquery.services.context import ServiceContext
from softquery.services.models import ModelSpec, create_model
from softquery.services.training import job_cores, train_spec


def _spec(ctx: ServiceContext, **fields: Any) -> Any:
    create_model(ctx, "m", ModelSpec(source="src", template="linear_regression", train_sql="select 1 as x, 2 as y",
                                     predict_sql="select 1 as x", **fields))
    return train_spec(ctx, SimpleNamespace(model="m")).child  # type: ignore[arg-type]


def test_the_child_gets_the_models_time_limit_the_cores_and_the_cv_sample_size(ctx: ServiceContext) -> None:
    spec = _spec(ctx, time_limit_seconds=120, order_column="x")
    assert spec.time_limit_seconds == 120.0 and spec.order_column == "x"
    assert spec.cores == job_cores() == len(os.sched_getaffinity(0))
    assert spec.cv_max_rows == ctx.settings.cv_max_rows == 100_000


def test_without_its_own_limit_the_child_gets_the_servers_default_at_most_the_maximum(ctx: ServiceContext) -> None:
    ctx = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={
        "time_limit_seconds": 900, "max_time_limit_seconds": 600, "cv_max_rows": 5_000}))
    spec = _spec(ctx)
    assert spec.time_limit_seconds == 600.0  # what run_supervision.limits_for gives the sandbox
    assert spec.cv_max_rows == 5_000


def test_the_servers_default_folds_fill_in_for_a_model_without_its_own(ctx: ServiceContext) -> None:
    assert _spec(ctx).cv_folds == 5  # SOFTQUERY_CV_FOLDS's default
    for default, given in ((3, 3), (20, 20), (1, 0), (0, 0)):  # 0 or 1: no cross-validation (0)
        settings = ctx.settings.model_copy(update={"cv_folds": default})
        run = SimpleNamespace(model="m")
        assert train_spec(dataclasses.replace(ctx, settings=settings), run).child.cv_folds == given  # type: ignore[arg-type]
    off = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"cv_folds": 0}))
    create_model(off, "mine", ModelSpec(source="src", template="linear_regression", train_sql="select 1 as x, 2 as y",
                                        predict_sql="select 1 as x", cv_folds=4))
    assert train_spec(off, SimpleNamespace(model="mine")).child.cv_folds == 4  # type: ignore[arg-type]  # its own win
