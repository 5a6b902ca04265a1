"""Use case: online prediction over HTTP — the trusted half.

This process resolves which version answers (cached, see ``serving.versions``),
checks the request's rows against that version's signed feature schema, verifies
the artifact's signature before its bytes go to a serving worker, and shapes the
answer like a batch prediction (``predictions``; for two classes the probability of
the positive class, with ``positive_class`` and ``probability_column``, the batch
table's column of the same numbers; one probability per class otherwise). Model code
only runs in the serving workers (``serving.pool``).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from softquery.artifacts.signing import verify
from softquery.data import FeatureSpec
from softquery.errors import ConflictError
from softquery.prediction.output import output_probability_columns
from softquery.sandbox import Limits
from softquery.services.context import ServiceContext
from softquery.services.sandbox_policy import isolation_of
from softquery.services.versions import get_version
from softquery.serving.failures import WorkerUnavailableError
from softquery.serving.inputs import Rows, Schema, parse_json, row_count, to_batch
from softquery.serving.pool import LoadSpec, ServingPool, VersionKey
from softquery.serving.version_cache import VersionCache
from softquery.training.metrics import positive_class

VERSION_HEADER = "X-Softquery-Model-Version"


@dataclass(frozen=True)
class ServedVersion:
    key: VersionKey
    schema: Schema
    classes: list[Any] | None

    @property
    def positive_index(self) -> int | None:
        if self.classes and len(self.classes) == 2:
            return self.classes.index(positive_class(self.classes))
        return None


@dataclass
class Answer:
    version: ServedVersion
    predictions: list[Any]
    probabilities: list[Any] | None  # binary: positive-class probability; else {class: p} per row

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.version.key.model, "version": self.version.key.version,
                               "predictions": self.predictions}
        if self.probabilities is not None:
            out["probabilities"] = self.probabilities
            index = self.version.positive_index
            if index is not None and self.version.classes:
                out["positive_class"] = self.version.classes[index]
                out["probability_column"] = output_probability_columns(self.version.classes)[0]
        return out

    def body(self) -> bytes:
        return json.dumps(self.as_dict(), separators=(",", ":"), default=str).encode()


def pool_for(ctx: ServiceContext) -> ServingPool:
    settings = ctx.settings

    def limits() -> Limits:
        return Limits(wall_seconds=None, memory_mb=settings.memory_limit_mb, max_processes=settings.max_processes,
                      max_file_mb=settings.max_file_mb, threads=1, isolation=isolation_of(ctx))

    return ServingPool(workers=settings.serving_workers, max_versions=settings.serving_max_versions,
                       limits=limits, timeout=settings.serving_timeout_seconds,
                       refresh=settings.serving_refresh_seconds)


def owner_group(owner_id: int | None) -> str:
    """Whose serving workers hold a model's versions: its owner's (admin-made models: the admins')."""
    return "admins" if owner_id is None else f"user:{owner_id}"


class OnlinePredictor:
    """Online prediction for one app: version cache + serving pool."""

    def __init__(self, ctx: ServiceContext, pool: ServingPool | None = None):
        self.ctx = ctx
        self.settings = ctx.settings
        self.pool = pool or pool_for(ctx)
        self.versions: VersionCache[ServedVersion] = VersionCache(self._read_version,
                                                                  ctx.settings.serving_refresh_seconds)

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.versions.listen()

    async def aclose(self) -> None:
        self.versions.stop()
        await self.pool.aclose()

    def close(self) -> None:
        self.versions.stop()
        self.pool.close()

    # -- versions ---------------------------------------------------------------------
    def _read_version(self, model: str, number: int | None) -> ServedVersion:
        owner = owner_group(self.ctx.models.get(model).owner_id)  # 404 unknown model
        version = get_version(self.ctx, model, number)  # 404 unknown version, 409 none trained
        data = version.manifest.get("data") or {}
        features = [FeatureSpec(**f) for f in data.get("features") or []]
        classes = version.manifest.get("classes")
        return ServedVersion(
            key=VersionKey(model, version.version, version.signature, owner),
            schema=Schema(features, list(data.get("id_columns") or [])),
            classes=list(classes) if classes else None,
        )

    async def served_version(self, model: str, number: int | None) -> ServedVersion:
        self.versions.listen()
        served = self.versions.cached(model, number)
        if served is None:
            served = await asyncio.to_thread(self.versions.read, model, number)
        return served

    def _load_spec(self, key: VersionKey) -> LoadSpec:
        """Fetch and verify the artifact (here, in the trusted process) before a worker sees it.

        The model's owner is read again: a version goes only to a worker of the owner the
        model has when it is loaded (not one read before an owner change)."""
        owner = owner_group(self.ctx.models.get(key.model).owner_id)
        version = self.ctx.versions.get(key.model, key.version)
        if version.signature != key.signature or owner != key.owner:
            self.versions.changed()
            what = "was replaced" if version.signature != key.signature else "changed owner"
            raise ConflictError(f"{key.label()} {what} while this request was answered; retry it.",
                                details={"model": key.model, "version": key.version})
        artifact = self.ctx.versions.artifact(key.model, key.version)
        verify(self.ctx.secret_key(), version.manifest, artifact, version.signature,
               label=f"Version {key.version} of model {key.model!r}")
        features = (version.manifest.get("data") or {}).get("features") or []
        return LoadSpec(artifact=artifact, code=version.manifest["code"], features=list(features))

    async def _loader(self, key: VersionKey) -> LoadSpec:
        return await asyncio.to_thread(self._load_spec, key)

    # -- predicting -----------------------------------------------------------------
    async def predict_batch(self, served: ServedVersion, batch: Rows) -> Answer:
        reply = await self.pool.predict(served.key, self._loader, batch, want_proba=bool(served.classes))
        predictions = reply.get("predictions")
        rows = row_count(batch)
        if not isinstance(predictions, list) or len(predictions) != rows:
            raise WorkerUnavailableError(
                f"The serving worker answered {served.key.label()} with a malformed reply.")
        return Answer(served, predictions, _probabilities(served, reply.get("probabilities"), rows))

    async def predict(self, model: str, raw_body: bytes, number: int | None = None) -> Answer:
        served = await self.served_version(model, number)
        body = parse_json(raw_body)
        batch = to_batch(body, served.schema, max_rows=self.settings.serving_max_rows,
                         version=served.key.version)
        return await self.predict_batch(served, batch)


def _probabilities(served: ServedVersion, proba: Any, rows: int) -> list[Any] | None:
    classes = served.classes
    if not classes or not isinstance(proba, list) or len(proba) != rows:
        return None
    if not all(isinstance(row, list) and len(row) == len(classes) for row in proba):
        return None  # batch prediction also leaves probabilities out when the shape differs
    index = served.positive_index
    if index is not None:
        return [row[index] for row in proba]
    names = [str(c) for c in classes]
    return [dict(zip(names, row, strict=True)) for row in proba]
