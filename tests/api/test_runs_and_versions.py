"""Actions (202 with the run), runs, versions, activation and the JSON export download."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from softquery.api.schemas import RunLogs, RunPublic
from softquery.api.schemas.models import ModelPublic
from softquery.api.schemas.versions import VersionDetailPublic, VersionPublic
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.services.context import ServiceContext
from softquery.store.tables import artifacts

from .conftest import FakeExecutor, assert_envelope, train_now


def test_actions_queue_runs_with_202(client: TestClient, executor: FakeExecutor) -> None:
    trained = client.post("/api/v1/models/house_quality/train")
    assert trained.status_code == 202
    run = RunPublic.model_validate(trained.json())
    assert (run.model, run.kind, run.status, run.trigger) == ("house_quality", "train", "queued", "api")
    both = client.post("/api/v1/models/house_quality/train?and_predict=true").json()
    assert both["kind"] == "train_then_predict"
    via_runs = client.post("/api/v1/models/house_quality/runs", json={"kind": "train_then_predict"})
    assert via_runs.status_code == 202 and via_runs.json()["kind"] == "train_then_predict"
    default = client.post("/api/v1/models/house_quality/runs", json={})
    assert default.status_code == 202 and default.json()["kind"] == "train"
    assert executor.submitted == [run.id, both["id"], via_runs.json()["id"], default.json()["id"]]


def test_action_errors(client: TestClient, executor: FakeExecutor) -> None:
    assert_envelope(client.post("/api/v1/models/nope/train"), 404, "not_found")
    assert_envelope(client.post("/api/v1/models/nope/runs", json={"kind": "train"}), 404, "not_found")
    assert_envelope(client.post("/api/v1/models/house_quality/runs", json={"kind": "dance"}), 422,
                    "invalid_input")
    error = assert_envelope(client.post("/api/v1/models/house_quality/batch-predict"), 409, "no_version")
    assert "Train it first" in error["message"]
    assert_envelope(client.post("/api/v1/models/house_quality/runs", json={"kind": "predict"}), 409,
                    "no_version")
    assert executor.submitted == []
    # the online-prediction path (issue 5) is not a batch run: no version yet → 409, nothing queued
    assert_envelope(client.post("/api/v1/models/house_quality/predict", json={"rows": [{"price": 1.0}]}),
                    409, "no_version")
    assert executor.submitted == []


def test_runs_list_show_logs_stop(client: TestClient, executor: FakeExecutor) -> None:
    first = client.post("/api/v1/models/house_quality/train").json()
    second = client.post("/api/v1/models/iris_species/train?and_predict=true").json()
    listed = [RunPublic.model_validate(r) for r in client.get("/api/v1/runs").json()]
    assert {r.id for r in listed} == {first["id"], second["id"]}
    by_model = client.get("/api/v1/runs", params={"model": "house_quality"}).json()
    assert [r["id"] for r in by_model] == [first["id"]]
    assert [r["id"] for r in client.get("/api/v1/models/iris_species/runs").json()] == [second["id"]]
    by_kind = client.get("/api/v1/runs", params={"kind": "train_then_predict"}).json()
    assert [r["id"] for r in by_kind] == [second["id"]]
    assert client.get("/api/v1/runs", params={"status": "succeeded"}).json() == []
    assert len(client.get("/api/v1/runs", params={"limit": 1}).json()) == 1
    shown = client.get(f"/api/v1/runs/{first['id']}")
    assert shown.status_code == 200 and shown.json()["id"] == first["id"]
    logs = RunLogs.model_validate(client.get(f"/api/v1/runs/{first['id']}/logs").json())
    assert logs.stdout == "" and logs.status == "queued"
    stopped = client.post(f"/api/v1/runs/{first['id']}/stop")
    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"
    assert executor.cancelled == [first["id"]]
    again = client.post(f"/api/v1/runs/{first['id']}/stop")
    assert again.json()["status"] == "cancelled"
    last = client.get("/api/v1/models/house_quality").json()["last_run"]
    assert last["id"] == first["id"] and last["status"] == "cancelled"


def test_run_errors(client: TestClient) -> None:
    for path in ("/api/v1/runs/nope", "/api/v1/runs/nope/logs"):
        assert_envelope(client.get(path), 404, "not_found")
    assert_envelope(client.post("/api/v1/runs/nope/stop"), 404, "not_found")
    assert_envelope(client.get("/api/v1/runs", params={"model": "nope"}), 404, "not_found")
    assert_envelope(client.get("/api/v1/runs", params={"status": "sleeping"}), 422, "invalid_input")
    assert_envelope(client.get("/api/v1/runs", params={"limit": 0}), 422, "invalid_input")
    assert_envelope(client.get("/api/v1/models/nope/runs"), 404, "not_found")


def test_versions_show_activate_and_export(client: TestClient, ctx: ServiceContext) -> None:
    assert client.get("/api/v1/models/house_quality/versions").json() == []
    train_now(ctx, "house_quality")
    train_now(ctx, "house_quality")
    listed = [VersionPublic.model_validate(v) for v in client.get("/api/v1/models/house_quality/versions").json()]
    assert [(v.version, v.active) for v in listed] == [(1, False), (2, True)]
    assert listed[0].task == "regression" and listed[0].key_metric == "r2" and listed[0].rows
    detail = VersionDetailPublic.model_validate(client.get("/api/v1/models/house_quality/versions/1").json())
    assert detail.manifest["version"] == 1 and detail.manifest["data"]["label"] == "quality"
    assert "signature" not in client.get("/api/v1/models/house_quality/versions/1").text

    model = ModelPublic.model_validate(client.get("/api/v1/models/house_quality").json())
    assert model.active_version == 2 and model.active_metric is not None
    assert model.active_metric.name == "r2" and model.active_metric.value == listed[1].key_metric_value
    assert model.last_run is not None and model.last_run.status == "succeeded"

    activated = client.post("/api/v1/models/house_quality/versions/1/activate")
    assert activated.status_code == 200 and activated.json()["active"] is True
    assert client.get("/api/v1/models/house_quality").json()["active_version"] == 1

    active = client.get("/api/v1/models/house_quality/export.json")
    assert active.status_code == 200
    assert active.headers["content-disposition"] == 'attachment; filename="house_quality_v1.json"'
    assert active.json()["version"] == 1 and active.json()["model"] == "house_quality"
    assert "coefficients" in active.json()
    pinned = client.get("/api/v1/models/house_quality/versions/2/export.json")
    assert pinned.status_code == 200 and pinned.json()["version"] == 2
    assert 'filename="house_quality_v2.json"' in pinned.headers["content-disposition"]

    queued = client.post("/api/v1/models/house_quality/batch-predict")
    assert queued.status_code == 202 and queued.json()["kind"] == "predict"


def test_version_errors(client: TestClient, ctx: ServiceContext) -> None:
    assert_envelope(client.get("/api/v1/models/nope/versions"), 404, "not_found")
    assert_envelope(client.get("/api/v1/models/house_quality/versions/1"), 404, "not_found")
    assert_envelope(client.get("/api/v1/models/house_quality/versions/one"), 422, "invalid_input")
    assert_envelope(client.post("/api/v1/models/house_quality/versions/1/activate"), 404, "not_found")
    assert_envelope(client.get("/api/v1/models/house_quality/export.json"), 409, "no_version")
    assert_envelope(client.get("/api/v1/models/house_quality/versions/1/export.json"), 404, "not_found")
    assert_envelope(client.get("/api/v1/models/nope/export.json"), 404, "not_found")
    train_now(ctx, "iris_species")  # a random forest: JSON export is for linear models only
    error = assert_envelope(client.get("/api/v1/models/iris_species/export.json"), 422, "invalid_input")
    assert "linear" in error["message"]


def test_export_unpickles_only_in_a_job_child(client: TestClient, ctx: ServiceContext,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The API process never loads a model: the in-process export path is never taken,
    and a tampered artifact is refused by its signature before any child starts."""
    from softquery.services import export

    def in_process(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the API process must not unpickle model artifacts")

    monkeypatch.setattr(export, "export_json", in_process)
    monkeypatch.setattr(export, "load_version", in_process)
    train_now(ctx, "house_quality")
    assert client.get("/api/v1/models/house_quality/export.json").status_code == 200
    with ctx.engine.begin() as conn:
        conn.execute(update(artifacts).values(data=b"tampered"))
    assert_envelope(client.get("/api/v1/models/house_quality/export.json"), 409, "artifact_tampered")


def test_a_stop_on_an_ended_run_says_nothing_was_stopped(client: TestClient, ctx: ServiceContext,
                                                         executor: FakeExecutor) -> None:
    """REVIEW_19 #13: the answer keeps the status and says, in `message`, that the run had ended."""
    ended = {}
    for status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        run = ctx.runs.create("house_quality", RunKind.TRAIN, RunTrigger.API)
        ctx.runs.mark_running(run.id)
        ctx.runs.finish(run.id, status)
        ended[status] = run.id
    done = client.post(f"/api/v1/runs/{ended[RunStatus.SUCCEEDED]}/stop")
    assert done.status_code == 200 and done.json()["status"] == "succeeded"
    assert done.json()["message"] == f"Run {ended[RunStatus.SUCCEEDED]} had already succeeded; nothing to stop."
    failed = client.post(f"/api/v1/runs/{ended[RunStatus.FAILED]}/stop").json()
    assert failed["status"] == "failed" and failed["message"].endswith("had already failed; nothing to stop.")
    assert executor.cancelled == []
    queued = client.post("/api/v1/models/house_quality/runs", json={"kind": "train"}).json()
    stopped = client.post(f"/api/v1/runs/{queued['id']}/stop").json()
    assert stopped["status"] == "cancelled" and stopped["message"] is None  # a stop that stopped something
