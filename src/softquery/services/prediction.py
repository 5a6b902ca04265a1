"""Use case: batch prediction — the trusted half (verified job in, result out).

The supervisor runs ``softquery.prediction.batch.predict_to_table`` itself
(reading the predict query, writing the table); the untrusted half
(unpickling, running predict) is ``softquery.prediction.predict_rows``, run in
a job child that gets ``PredictJob.child`` only: no source URL.
"""

from __future__ import annotations

from typing import Any

from softquery.artifacts.signing import verify
from softquery.domain import Run
from softquery.prediction.batch import PredictJob, PredictOutput
from softquery.prediction.predict_rows import PredictSpec
from softquery.services.context import ServiceContext
from softquery.services.interrupted_writes import recover_before_write
from softquery.services.output_tables import claim_target
from softquery.services.versions import get_version


def predict_spec(ctx: ServiceContext, run: Run, *, capture_output: bool = False) -> PredictJob:
    """Everything the supervisor needs; the artifact's signature is checked here, before it leaves."""
    model = ctx.models.get(run.model)
    version = get_version(ctx, model.name)
    artifact = ctx.versions.artifact(model.name, version.version)
    verify(ctx.secret_key(), version.manifest, artifact, version.signature,
           label=f"Version {version.version} of model {model.name!r}")
    source_url = ctx.sources.get(model.source).url
    claim_target(ctx, model, source_url)  # a model writes only the table it created
    recover_before_write(ctx, source_url)  # undo a killed earlier write first: it blocks reading
    manifest = version.manifest
    child = PredictSpec(
        version=version.version, artifact=artifact, code=manifest["code"],
        features=list(manifest["data"]["features"]), classes=manifest.get("classes"),
        log_limit=ctx.settings.max_log_chars, capture_output=capture_output,
    )
    return PredictJob(
        model=model.name, version=version.version, run_id=run.id, manifest=manifest,
        source_url=source_url, predict_sql=model.predict_sql, output_table=model.target_table,
        write_mode=model.write_mode.value, child=child, chunk_rows=ctx.settings.chunk_rows,
        statement_timeout_seconds=ctx.settings.statement_timeout_seconds,
    )


def record_prediction(out: PredictOutput) -> dict[str, Any]:
    return {"version": out.version, "table": out.table, "rows": out.rows,
            "write_mode": out.write_mode, "notes": out.notes}
