"""Batch prediction: stream the predict query through a trained model into a table.

Runs where user code may run (a job child); it never touches the metadata DB.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from softquery.artifacts import serialize
from softquery.data import FeatureSpec, check_predict_schema, frame_for_prediction, open_source
from softquery.data.connection import DEFAULT_STATEMENT_TIMEOUT_SECONDS
from softquery.data.sources import dialect_of
from softquery.errors import RunStoppedError
from softquery.prediction.output import output_batch
from softquery.prediction.spool import SINGLE_WRITER_DIALECTS, BatchSpool
from softquery.prediction.table_writer import TableWriter, open_writer
from softquery.training.capture import Captured, capture_output
from softquery.training.fit import Progress, as_predictions, call_user, predict_proba_or_none


@dataclass
class PredictSpec:
    model: str
    version: int
    run_id: str
    artifact: bytes          # already verified by the trusted parent
    manifest: dict[str, Any]
    source_url: str
    predict_sql: str
    output_table: str
    write_mode: str
    chunk_rows: int = 100_000
    log_limit: int = 200_000
    capture_output: bool = True
    statement_timeout_seconds: float | None = DEFAULT_STATEMENT_TIMEOUT_SECONDS


@dataclass
class PredictOutput:
    version: int
    table: str
    rows: int
    write_mode: str
    notes: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""


def predict_to_table(spec: PredictSpec, progress: Progress,
                     confirm_commit: Callable[[], bool] = lambda: True) -> PredictOutput:
    """Write predictions; ``confirm_commit`` is asked right before the swap (False = abort)."""
    data = spec.manifest["data"]
    features = [FeatureSpec(**f) for f in data["features"]]
    id_columns: list[str] = list(data.get("id_columns") or [])
    classes = spec.manifest.get("classes")
    progress("loading the model", 0.02, f"version {spec.version}")
    trained = serialize.loads(spec.artifact, spec.manifest["code"])
    predicted_at = datetime.now(UTC)
    rows = 0
    progress("reading rows to predict", 0.05)
    capture = capture_output(spec.log_limit) if spec.capture_output else contextlib.nullcontext(Captured())
    spooled = dialect_of(spec.source_url) in SINGLE_WRITER_DIALECTS
    with capture as captured, open_writer(spec.source_url, spec.output_table, spec.write_mode,
                                          run_id=spec.run_id) as table, BatchSpool() as spool:
        writer: TableWriter | BatchSpool = spool if spooled else table
        with open_source(spec.source_url, timeout=spec.statement_timeout_seconds) as conn:
            schema, batches = conn.read_batches(spec.predict_sql, what="predict query", chunk_rows=spec.chunk_rows)
            check_predict_schema(schema, features, id_columns, data.get("label"), version=spec.version)
            ids = [c for c in id_columns if c in schema.names]
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                X = frame_for_prediction(batch, features)
                preds = as_predictions(call_user(trained.predict, "predict(X)", X), len(X))
                proba = predict_proba_or_none(trained, X) if classes else None
                writer.write(output_batch(
                    batch, id_columns=ids, predictions=preds, proba=proba, classes=classes,
                    version=spec.version, run_id=spec.run_id, predicted_at=predicted_at,
                ))
                rows += batch.num_rows
                progress("predicting", None, f"{rows:,} rows written")
        if spooled:  # the read is closed now: the file accepts the writes
            progress("writing the output table", 0.9, f"{rows:,} rows")
            for out in spool.batches():
                table.write(out)
        if rows and not confirm_commit():
            table.abort()
            raise RunStoppedError("The run was stopped before its output table was swapped in; "
                                "the previous table is unchanged.")
        progress("swapping in the output table", 0.98)
        written = table.commit() if rows else 0
        if not rows:
            table.abort()
    notes = [] if rows else ["The predict query returned no rows; the output table was left unchanged."]
    return PredictOutput(version=spec.version, table=spec.output_table, rows=written,
                         write_mode=spec.write_mode, notes=notes,
                         stdout=captured.stdout, stderr=captured.stderr)
