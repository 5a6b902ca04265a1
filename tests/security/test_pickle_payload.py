"""A pickled ``__reduce__`` payload written straight into the artifact store is refused by its
signature and never executed: not in the API process, not in a serving worker, not in a job.

The payload would create a marker file when unpickled (``io.open(marker, "w")``, or
``os.system("touch …")``). The marker file never appearing is the proof for every process;
a ``sys.addaudithook`` hook on ``pickle.find_class`` is the proof for the API process
itself (TestClient runs the app in this process), independent of the serving workers.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.api.conftest import assert_envelope, train_now
from tests.security.world import CLI_MODEL, World, build_world

from softquery.artifacts.signing import sign
from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.errors import ArtifactIntegrityError
from softquery.services import export, versions
from softquery.services.runs import execute_here, submit_run
from softquery.store.tables import artifacts, models
from softquery.store.tables import versions as versions_table

HEADER = b"SQMODEL1\n"  # softquery.artifacts.serialize's format header: the payload passes it
DANGEROUS = {("io", "open"), ("builtins", "open"), ("posix", "system"), ("os", "system"),
             ("nt", "system"), ("subprocess", "Popen"), ("builtins", "exec"), ("builtins", "eval")}
_FOUND: list[tuple[str, str]] = []
_HOOKED = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "pickle.find_class" and tuple(args[:2]) in DANGEROUS:
        _FOUND.append((str(args[0]), str(args[1])))


@pytest.fixture
def unpickled_here() -> Iterator[list[tuple[str, str]]]:
    """Every dangerous global any unpickler in THIS process resolved during the test."""
    global _HOOKED
    if not _HOOKED:  # audit hooks cannot be removed: one per process, cheap when idle
        sys.addaudithook(_hook)
        _HOOKED = True
    _FOUND.clear()
    yield _FOUND
    _FOUND.clear()


class OpenPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


class SystemPayload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


PAYLOADS = {"open": OpenPayload, "system": SystemPayload}


@dataclass
class Attack:
    marker: Path
    artifact: bytes


def _version_id(world: World, model: str, number: int) -> int:
    with world.ctx.engine.connect() as conn:
        return int(conn.execute(
            select(versions_table.c.id).join(models, models.c.id == versions_table.c.model_id)
            .where(models.c.name == model, versions_table.c.version == number)).scalar_one())


def _plant(world: World, payload: str, tamper: str) -> Attack:
    """Write the payload into the artifact store the way an attacker with DB access would.

    tamper: ``bytes`` (artifact only), ``manifest`` (also the manifest's size/sha256 and the
    version row's columns, and model code that would itself create the marker on import),
    ``resigned`` (and a signature made with a key the attacker guessed).
    """
    marker = world.ctx.settings.home.parent / f"pwned-{payload}-{tamper}"
    artifact = HEADER + pickle.dumps(PAYLOADS[payload](marker), protocol=5)
    version_id = _version_id(world, CLI_MODEL, 1)
    with world.ctx.engine.begin() as conn:
        conn.execute(update(artifacts).where(artifacts.c.version_id == version_id).values(data=artifact))
        if tamper != "bytes":
            manifest = dict(world.ctx.versions.get(CLI_MODEL, 1).manifest)
            digest = hashlib.sha256(artifact).hexdigest()
            manifest["artifact"] = {**manifest["artifact"], "size": len(artifact), "sha256": digest}
            manifest["code"] = f"open({str(marker)!r}, 'w').close()\n" + str(manifest["code"])
            values: dict[str, Any] = {"manifest": manifest, "artifact_sha256": digest,
                                      "artifact_size": len(artifact)}
            if tamper == "resigned":
                values["signature"] = sign(b"development-secret-guess", manifest, artifact)
            conn.execute(update(versions_table).where(versions_table.c.id == version_id).values(**values))
    assert not marker.exists()
    return Attack(marker, artifact)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = build_world(tmp_path)
    train_now(built.ctx, CLI_MODEL)
    try:
        yield built
    finally:
        built.ctx.close()


def test_the_payload_really_runs_when_unpickled(tmp_path: Path) -> None:
    """Control (in a throwaway interpreter): without the signature check the marker appears."""
    for name, payload in PAYLOADS.items():
        marker = tmp_path / f"control-{name}"
        data = pickle.dumps(payload(marker), protocol=5)
        subprocess.run([sys.executable, "-c", "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"],
                       input=data, check=True, timeout=60)
        assert marker.exists(), name


def test_the_hook_sees_unpickling_in_this_process(unpickled_here: list[tuple[str, str]]) -> None:
    """Control: resolving a dangerous global (without calling it) is recorded."""
    assert pickle.loads(b"cbuiltins\neval\n.") is eval  # noqa: S301 - resolves, never calls
    assert unpickled_here == [("builtins", "eval")]


@pytest.mark.parametrize("tamper", ["bytes", "manifest", "resigned"])
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_http_paths_refuse_the_payload(world: World, unpickled_here: list[tuple[str, str]],
                                       payload: str, tamper: str) -> None:
    from tests import authkit

    attack = _plant(world, payload, tamper)
    with world.client() as client:
        client.headers.update(authkit.bearer(world.ctx))
        row = {"rows": [{"price": 120.0}]}
        for url in (f"/api/v1/models/{CLI_MODEL}/predict", f"/api/v1/models/{CLI_MODEL}/predict?version=1"):
            error = assert_envelope(client.post(url, json=row), 409, "artifact_tampered")
            assert "integrity check" in error["message"] and "Retrain" in error["message"]
        mlsql = client.post("/model/predict", data={
            "sql": f"select {CLI_MODEL}(price) as p1", "data": '[{"price": 120.0}]', "dataType": "row"})
        assert_envelope(mlsql, 409, "artifact_tampered")
        for url in (f"/api/v1/models/{CLI_MODEL}/export.json",
                    f"/api/v1/models/{CLI_MODEL}/versions/1/export.json"):
            assert_envelope(client.get(url), 409, "artifact_tampered")
        # pages that show the version read its manifest only: they work and load nothing
        assert client.get(f"/models/{CLI_MODEL}").status_code == 200
        assert client.get(f"/api/v1/models/{CLI_MODEL}/versions/1").status_code == 200
        # activating is allowed (it loads nothing); predicting with it is then refused
        assert client.post(f"/api/v1/models/{CLI_MODEL}/versions/1/activate").status_code == 200
        assert_envelope(client.post(f"/api/v1/models/{CLI_MODEL}/predict", json=row), 409,
                        "artifact_tampered")
        workers = client.get("/api/v1/serving/workers").json()["workers"]
    assert not attack.marker.exists(), "the payload ran"
    assert unpickled_here == [], "the API process unpickled the payload"
    for worker in workers:  # no serving worker holds the tampered version
        assert not worker.get("loaded"), worker


@pytest.mark.parametrize("tamper", ["bytes", "manifest", "resigned"])
def test_batch_prediction_job_refuses_the_payload(world: World, unpickled_here: list[tuple[str, str]],
                                                  tamper: str) -> None:
    attack = _plant(world, "open", tamper)
    versions.activate_version(world.ctx, CLI_MODEL, 1)
    run = submit_run(world.ctx, CLI_MODEL, RunKind.PREDICT, RunTrigger.CLI, None)
    done = execute_here(world.ctx, run.id)  # supervised here, the job itself in a sandboxed child
    assert done.status is RunStatus.FAILED, done
    assert done.error_code == "artifact_tampered", (done.error_code, done.error_message)
    assert "integrity check" in (done.error_message or "")
    assert not attack.marker.exists(), "the payload ran in the job"
    assert unpickled_here == []


@pytest.mark.parametrize("tamper", ["bytes", "manifest", "resigned"])
def test_in_process_loaders_verify_before_unpickling(world: World, unpickled_here: list[tuple[str, str]],
                                                     tamper: str) -> None:
    """The CLI's in-process export and ``load_version`` check the signature first."""
    attack = _plant(world, "system", tamper)
    with pytest.raises(ArtifactIntegrityError):
        export.export_json(world.ctx, CLI_MODEL, 1)
    with pytest.raises(ArtifactIntegrityError):
        versions.load_version(world.ctx, world.ctx.versions.get(CLI_MODEL, 1))
    with pytest.raises(ArtifactIntegrityError):
        export.export_json_isolated(world.ctx, CLI_MODEL, 1)
    assert not attack.marker.exists()
    assert unpickled_here == []


def test_training_again_gives_a_trusted_version(world: World) -> None:
    """What the error message tells the analyst to do works: retrain, and predict again."""
    from tests import authkit

    attack = _plant(world, "open", "bytes")
    train_now(world.ctx, CLI_MODEL)
    assert world.ctx.models.get(CLI_MODEL).active_version == 2
    with world.client() as client:
        client.headers.update(authkit.bearer(world.ctx))
        response = client.post(f"/api/v1/models/{CLI_MODEL}/predict", json={"rows": [{"price": 120.0}]})
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 2
    assert not attack.marker.exists()
