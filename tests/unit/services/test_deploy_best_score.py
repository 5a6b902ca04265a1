"""`--deploy best_score` compares cross-validated means: a version whose CV mean of the key metric is
below the active version's by more than one standard deviation (of its own folds) is refused; the
decision and both scores are on the run's result. Without CV on either side the holdout decides."""

from __future__ import annotations

from typing import Any

from softquery.domain import RunKind, RunTrigger
from softquery.services.context import ServiceContext
from softquery.services.models import ModelSpec, create_model, update_model
from softquery.services.training import TrainJob, record_training
from softquery.training.pipeline import TrainOutput
from softquery.training.spec import TrainSpec


def _cv(mean: float, std: float) -> dict[str, Any]:
    folds = [mean - std, mean + std, mean - std, mean + std]
    return {"method": "kfold", "folds": 4, "rows": 200, "notes": [], "seconds": 0.1, "seed": 0,
            "order_column": None, "metrics": {"r2": {"mean": mean, "std": std, "folds": folds},
                                              "mae": {"mean": 3.0, "std": 0.2, "folds": [3.0] * 4}}}


def _train(ctx: ServiceContext, holdout_r2: float, cv: dict[str, Any] | None) -> dict[str, Any]:
    """Store a training of model m as its run would: the result ``record_training`` answers."""
    run = ctx.runs.create("m", RunKind.TRAIN, RunTrigger.CLI)
    ctx.runs.mark_running(run.id)
    job = TrainJob(source_url="sqlite://", train_sql="select 1", predict_sql="select 1",
                   statement_timeout_seconds=None, child=TrainSpec(model="m", code="class Model: ..."))
    out = TrainOutput(artifact=b"model bytes", data={"rows": 200}, task="regression",
                      metrics={"r2": holdout_r2, "mae": 3.0}, evaluation={}, classes=None, timings={}, cv=cv)
    return record_training(ctx, ctx.runs.get(run.id), job, out)


def _model(ctx: ServiceContext) -> None:
    create_model(ctx, "m", ModelSpec(source="src", template="linear_regression", train_sql="select 1 as x, 2 as y",
                                     predict_sql="select 1 as x", deploy="best_score"))


def test_a_clearly_worse_cv_mean_stays_on_version_1_with_the_reason(ctx: ServiceContext) -> None:
    _model(ctx)
    first = _train(ctx, 0.70, _cv(0.71, 0.02))
    assert first["activated"] is True
    # its holdout split happens to look better, but CV says it is worse by more than its std
    worse = _train(ctx, 0.90, _cv(0.62, 0.03))
    assert worse["activated"] is False and ctx.models.get("m").active_version == 1
    deploy = worse["deploy"]
    assert deploy["reason"] == ("Not activated: CV r2 0.62 ± 0.03 is worse than the active version 1's "
                                "0.71 ± 0.02 by more than one standard deviation.")
    assert deploy["basis"] == "cv" and deploy["metric"] == "r2"
    assert deploy["new"] == {"version": 2, "mean": 0.62, "std": 0.03}
    assert deploy["active"] == {"version": 1, "mean": 0.71, "std": 0.02}
    assert worse["cv"]["metrics"]["r2"] == {"mean": 0.62, "std": 0.03}


def test_a_cv_mean_within_one_std_is_activated(ctx: ServiceContext) -> None:
    _model(ctx)
    _train(ctx, 0.70, _cv(0.71, 0.02))
    # worse on the holdout split and 0.02 lower, but within its own std of 0.03
    close = _train(ctx, 0.60, _cv(0.69, 0.03))
    assert close["activated"] is True and ctx.models.get("m").active_version == 2
    assert close["deploy"]["reason"] == ("Activated: CV r2 0.69 ± 0.03 is within one standard deviation of "
                                         "the active version 1's 0.71 ± 0.02.")


def test_without_cv_on_the_active_version_the_holdout_decides_and_says_so(ctx: ServiceContext) -> None:
    _model(ctx)
    _train(ctx, 0.70, None)  # trained before cross-validation was recorded
    worse = _train(ctx, 0.65, _cv(0.90, 0.01))
    assert worse["activated"] is False and ctx.models.get("m").active_version == 1
    assert worse["deploy"]["reason"] == ("Not activated: the active version 1 has no cross-validated r2, so the "
                                         "holdout r2 decided: 0.65 is not better than its 0.7.")
    assert worse["deploy"]["basis"] == "holdout"
    assert worse["cv"]["method"] == "kfold" and _train(ctx, 0.75, None)["deploy"]["reason"].startswith(
        "Activated: this version has no cross-validated r2, so the holdout r2 decided: 0.75 is better")


def test_most_recent_activates_every_version_and_says_so(ctx: ServiceContext) -> None:
    _model(ctx)
    update_model(ctx, "m", ModelSpec(deploy="most_recent"))
    _train(ctx, 0.70, _cv(0.71, 0.02))
    second = _train(ctx, 0.10, _cv(0.10, 0.01))
    assert second["activated"] is True and second["deploy"]["basis"] is None
    assert "every new version" in second["deploy"]["reason"]


def test_an_active_version_without_the_metric_is_said_plainly(ctx: ServiceContext) -> None:
    _model(ctx)
    run = ctx.runs.create("m", RunKind.TRAIN, RunTrigger.CLI)  # a version with no r2 at all (as imported)
    ctx.versions.add("m", manifest={"task": "regression", "metrics": {"mae": 3.0}}, signature="x", artifact=b"x",
                     artifact_sha256="0" * 64, run_id=run.id, activate=True)
    decided = _train(ctx, 0.7, _cv(0.7, 0.02))
    assert decided["activated"] is True
    assert decided["deploy"]["reason"] == ("Activated: the active version 1 has no r2 to compare with, neither "
                                           "cross-validated nor holdout.")
