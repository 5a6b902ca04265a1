"""Use case: batch prediction — the trusted half (verified spec in, result out).

The untrusted half (unpickling, running predict, writing the table) is
``softquery.prediction.batch.predict_to_table``, run in a job child.
"""

from __future__ import annotations

from typing import Any

from softquery.artifacts.signing import verify
from softquery.domain import Run
from softquery.prediction.batch import PredictOutput, PredictSpec
from softquery.services.context import ServiceContext
from softquery.services.output_tables import claim_target
from softquery.services.versions import get_version


def predict_spec(ctx: ServiceContext, run: Run, *, capture_output: bool = False) -> PredictSpec:
    """Everything a job child needs; the artifact's signature is checked here, before it leaves."""
    model = ctx.models.get(run.model)
    version = get_version(ctx, model.name)
    artifact = ctx.versions.artifact(model.name, version.version)
    verify(ctx.secret_key(), version.manifest, artifact, version.signature,
           label=f"Version {version.version} of model {model.name!r}")
    source_url = ctx.sources.get(model.source).url
    claim_target(ctx, model, source_url)  # a model writes only the table it created
    return PredictSpec(
        model=model.name, version=version.version, run_id=run.id, artifact=artifact,
        manifest=version.manifest, source_url=source_url,
        predict_sql=model.predict_sql, output_table=model.target_table,
        write_mode=model.write_mode.value, chunk_rows=ctx.settings.chunk_rows,
        log_limit=ctx.settings.max_log_chars, capture_output=capture_output,
        statement_timeout_seconds=ctx.settings.statement_timeout_seconds,
    )


def record_prediction(out: PredictOutput) -> dict[str, Any]:
    return {"version": out.version, "table": out.table, "rows": out.rows,
            "write_mode": out.write_mode, "notes": out.notes}
