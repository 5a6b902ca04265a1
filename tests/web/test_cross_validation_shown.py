"""Cross-validation is shown beside the holdout metrics: the model page's versions, the version page's
CV table, the API's version answers and the run summary; a version trained before CV was recorded
(its manifest has no "cv") shows "not measured" everywhere and breaks nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from tests.web.conftest import FakeExecutor, client_for, open_home, train_now
from tests.web.html import element, has_testid

from softquery.services.context import ServiceContext
from softquery.services.cv_figures import mean_pm_std
from softquery.store.tables import versions as versions_table


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceContext]:
    """house_quality trained twice; version 1's manifest loses its "cv", as before CV was recorded."""
    context = open_home(Path(tmp_path_factory.mktemp("cv")) / "home", demo=True)
    train_now(context, "house_quality")
    train_now(context, "house_quality")
    with context.engine.begin() as conn:
        row = conn.execute(select(versions_table.c.id, versions_table.c.manifest)
                           .where(versions_table.c.version == 1)).one()
        manifest = {k: v for k, v in row.manifest.items() if k != "cv"}
        conn.execute(update(versions_table).where(versions_table.c.id == row.id).values(manifest=manifest))
    yield context
    context.close()


@pytest.fixture(scope="module")
def client(ctx: ServiceContext) -> Iterator[TestClient]:
    with client_for(ctx, FakeExecutor()) as c:
        yield c


def _part(html: str, testid: str, end: str) -> str:
    """From the element with data-testid=testid to the first ``end`` after it ('' when absent)."""
    start = html.find(f'data-testid="{testid}"')
    return "" if start < 0 else html[start:html.index(end, start)]


def _cv(ctx: ServiceContext) -> dict:  # type: ignore[type-arg]
    cv = ctx.versions.get("house_quality", 2).manifest["cv"]
    assert cv["method"] == "kfold" and cv["folds"] == 5
    return cv  # type: ignore[no-any-return]


def test_the_version_page_shows_the_cv_table(client: TestClient, ctx: ServiceContext) -> None:
    cv = _cv(ctx)
    html = client.get("/models/house_quality/versions/2").text
    table = _part(html, "cv-table", "</table>")
    r2 = cv["metrics"]["r2"]
    assert mean_pm_std(r2["mean"], r2["std"]) in table
    assert table.count('data-testid="cv-fold"') == 5 * len(cv["metrics"])
    assert "5-fold on" in element(html, "cv-method")
    old = client.get("/models/house_quality/versions/1")
    assert old.status_code == 200 and not has_testid(old.text, "cv-table")
    assert "Not measured: this version was trained before" in element(old.text, "cv-none")


def test_the_model_page_shows_each_versions_cv(client: TestClient, ctx: ServiceContext) -> None:
    r2 = _cv(ctx)["metrics"]["r2"]
    html = client.get("/models/house_quality?tab=versions").text
    cells = re.findall(r'data-testid="version-cv">([^<]*)<', html)
    assert cells == [f"r2 {mean_pm_std(r2['mean'], r2['std'])}", "not measured"]  # v2 first, v1
    assert f"r2 {mean_pm_std(r2['mean'], r2['std'])}" in element(html, "overview-cv")


def test_the_api_answers_the_cv(client: TestClient, ctx: ServiceContext) -> None:
    cv = _cv(ctx)
    listed = {v["version"]: v for v in client.get("/api/v1/models/house_quality/versions").json()}
    assert listed[1]["cv"] is None and listed[1]["key_metric_cv_mean"] is None
    assert listed[2]["cv"]["method_text"] == "5-fold" and listed[2]["cv"]["metrics"] == cv["metrics"]
    assert listed[2]["key_metric_cv_mean"] == cv["metrics"]["r2"]["mean"]
    detail = client.get("/api/v1/models/house_quality/versions/1").json()
    assert detail["cv"] is None


def test_the_run_says_what_cv_measured(client: TestClient, ctx: ServiceContext) -> None:
    run = ctx.runs.list("house_quality", None, 1)[0]
    train = client.get(f"/api/v1/runs/{run.id}").json()["result"]["train"]
    assert train["cv"]["method"] == "kfold" and set(train["cv"]["metrics"]["r2"]) == {"mean", "std"}
    assert train["deploy"]["reason"].startswith("Activated: the model activates every new version")
    r2 = _cv(ctx)["metrics"]["r2"]
    assert f"CV r2 {mean_pm_std(r2['mean'], r2['std'])} (5-fold)" in _part(client.get(f"/runs/{run.id}").text,
                                                                            "run-summary", "</p>")


def test_a_search_trials_scores_round_mean_and_std_alike(client: TestClient, ctx: ServiceContext) -> None:
    """Review item 17: "0.35 ± 0.0657" -> both to the std's first significant digit, as everywhere."""
    selection = {"kind": "search", "method": "grid", "objective": "r2", "direction": "maximize", "folds": 3,
                 "chosen": 1, "reason": "the best CV r2", "trials": [
                     {"number": 1, "params": {"alpha": 1}, "cv_mean": 0.3512, "cv_std": 0.0657, "seconds": 0.1}]}
    ctx.versions.add("wine_cultivar", manifest={"task": "classification", "metrics": {}, "selection": selection},
                     signature="x", artifact=b"x", artifact_sha256="0" * 64, run_id=None, activate=False)
    html = client.get("/models/wine_cultivar/versions/1").text
    assert element(html, "trial-score").endswith(">0.35 ± 0.07</"), element(html, "trial-score")


def test_ordered_folds_are_described_as_training_on_earlier_rows(client: TestClient, ctx: ServiceContext) -> None:
    """Review item 8: ordered folds do not train "on the other rows"; the holdout of the latest rows is said."""
    cv = {"method": "ordered", "folds": 3, "rows": 40, "order_column": "day", "seconds": 0.0, "notes": [],
          "metrics": {"mae": {"mean": 1.0, "std": 0.1, "folds": [0.9, 1.0, 1.1]}}}
    split = {"method": "ordered", "test_fraction": 0.2, "seed": 0, "train_rows": 32, "test_rows": 8,
             "order_column": "day"}
    ctx.versions.add("diabetes_progression", manifest={"task": "regression", "metrics": {"mae": 1.0}, "cv": cv,
                                                       "evaluation": {"split": split}},
                     signature="x", artifact=b"x", artifact_sha256="0" * 64, run_id=None, activate=False)
    html = client.get("/models/diabetes_progression/versions/1").text
    method = element(html, "cv-method")
    assert "each fold trains on earlier rows and is measured on the next ones" in method, method
    assert "other rows" not in method
    assert "Measured on the latest 20% of the rows by day" in element(html, "holdout-split")
    kfold = element(client.get("/models/house_quality/versions/2").text, "cv-method")
    assert "each fold trains a fresh model on the other rows" in kfold
