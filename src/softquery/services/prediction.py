"""Use case: run the predict query through the active version into the output table."""

from __future__ import annotations

from typing import Any

from softquery.data import FeatureSpec, check_predict_schema, frame_for_prediction, open_source
from softquery.prediction.output import output_batch
from softquery.prediction.table_writer import open_writer
from softquery.services.context import ServiceContext
from softquery.services.progress import RunProgress
from softquery.services.versions import get_version, load_version
from softquery.store.clock import utcnow
from softquery.training.capture import capture_output
from softquery.training.fit import as_predictions, call_user, predict_proba_or_none


def execute_predict(ctx: ServiceContext, run_id: str, model_name: str, progress: RunProgress) -> dict[str, Any]:
    model = ctx.models.get(model_name)
    version = get_version(ctx, model_name)
    url = ctx.sources.get(model.source).url
    progress("loading version", 0.02, f"version {version.version}", force=True)
    trained = load_version(ctx, version)
    data = version.manifest["data"]
    features = [FeatureSpec(**f) for f in data["features"]]
    id_columns: list[str] = list(data.get("id_columns") or [])
    classes = version.manifest.get("classes")
    predicted_at = utcnow()
    rows = 0
    progress("reading rows to predict", 0.05)
    with capture_output(ctx.settings.max_log_chars) as captured, \
            open_writer(url, model.target_table, model.write_mode.value, run_id=run_id) as writer:
        with open_source(url) as conn:
            schema, batches = conn.read_batches(model.predict_sql, what="predict query",
                                                chunk_rows=ctx.settings.chunk_rows)
            check_predict_schema(schema, features, id_columns, data.get("label"))
            ids = [c for c in id_columns if c in schema.names]
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                X = frame_for_prediction(batch, features)
                preds = as_predictions(call_user(trained.predict, "predict(X)", X), len(X))
                proba = predict_proba_or_none(trained, X) if classes else None
                writer.write(output_batch(
                    batch, id_columns=ids, predictions=preds, proba=proba, classes=classes,
                    version=version.version, run_id=run_id, predicted_at=predicted_at,
                ))
                rows += batch.num_rows
                progress("predicting", None, f"{rows:,} rows written")
        progress("swapping in the output table", 0.98)
        written = writer.commit() if rows else 0
        if not rows:
            writer.abort()
    ctx.runs.update(run_id, stdout=captured.stdout, stderr=captured.stderr)
    notes = [] if rows else ["The predict query returned no rows; the output table was left unchanged."]
    return {"version": version.version, "table": model.target_table, "rows": written,
            "write_mode": model.write_mode.value, "notes": notes}
