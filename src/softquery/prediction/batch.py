"""Batch prediction: stream the predict query through a trained model into a table.

Runs in the trusted supervisor, never where user code runs: it reads the
predict query (``SourceFeed``), checks its schema, hands each batch's feature
columns to the model through ``ModelCalls`` (a job child in production),
checks the answers, builds the output rows from its own copy of the batch
(ids, provenance) and writes them through the staging table. It never
touches the metadata DB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from softquery.data import FeatureSpec, check_predict_schema
from softquery.data.connection import DEFAULT_STATEMENT_TIMEOUT_SECONDS
from softquery.data.feed import SourceFeed, waiting
from softquery.data.source_urls import dialect_of
from softquery.errors import ModelCodeError, RunStoppedError
from softquery.prediction.output import legacy_names, output_batch
from softquery.prediction.predict_rows import QUERY_ROWS, PredictSpec, checked_predictions
from softquery.prediction.spool import SINGLE_WRITER_DIALECTS, BatchSpool
from softquery.prediction.table_writer import TableWriter, open_writer
from softquery.training.answers import RowNames
from softquery.training.fit import Progress


@dataclass
class PredictJob:
    """The supervisor's whole description of a batch prediction; only ``child`` (a
    ``PredictSpec``, which has no URL) ever goes to the job child."""

    model: str
    version: int
    run_id: str
    manifest: dict[str, Any]
    source_url: str
    predict_sql: str
    output_table: str
    write_mode: str
    child: PredictSpec
    chunk_rows: int = 100_000
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


class ModelCalls(Protocol):
    """The model as the supervisor reaches it (``softquery.services.run_steps.ChildModel``)."""

    def loaded(self) -> None:
        """Wait until the model is loaded; a load failure is raised here."""

    def predict(self, features: pa.RecordBatch, want_proba: bool, first_row: int = 0) -> tuple[Any, Any]:
        """(predictions, probabilities or None) for the rows of ``features`` — unchecked here;
        ``first_row``: how many rows of the query came before them (for messages)."""

    def idle(self) -> None:
        """Called while rows are awaited or written: keep the run alive (may raise when
        it must end)."""

    def finished(self) -> None:
        """Every batch is predicted: let the model go (its failure to end is raised here,
        before anything is swapped in)."""

    def may_commit(self) -> bool:
        """Asked right before the swap: False aborts (the previous table stays)."""


def _predicted(model: ModelCalls, batch: pa.RecordBatch, features: list[str],
               classes: list[Any] | None, first_row: int) -> tuple[np.ndarray, np.ndarray | None]:
    preds, proba = model.predict(batch.select(features), bool(classes), first_row)
    return checked_predictions(preds, proba, batch.num_rows, classes, RowNames(where=QUERY_ROWS, first=first_row))


def _output(batch: pa.RecordBatch, preds: np.ndarray, proba: np.ndarray | None, **kwargs: Any) -> pa.RecordBatch:
    try:
        return output_batch(batch, predictions=preds, proba=proba, **kwargs)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise ModelCodeError(f"predict(X) returned values that cannot be written to a table ({exc}).",
                             details={"dtype": str(preds.dtype)}) from exc


def predict_to_table(job: PredictJob, progress: Progress, model: ModelCalls) -> PredictOutput:
    data = job.manifest["data"]
    features = [FeatureSpec(**f) for f in data["features"]]
    names = [f.name for f in features]
    id_columns: list[str] = list(data.get("id_columns") or [])
    classes = job.manifest.get("classes")
    predicted_at = datetime.now(UTC)
    rows = 0
    spooled = dialect_of(job.source_url) in SINGLE_WRITER_DIALECTS
    feed = SourceFeed(job.source_url, job.predict_sql, what="predict query", chunk_rows=job.chunk_rows,
                      timeout=job.statement_timeout_seconds)
    with open_writer(job.source_url, job.output_table, job.write_mode, run_id=job.run_id,
                     aliases=legacy_names(classes)) as table, \
            BatchSpool() as spool, feed.start():
        writer: TableWriter | BatchSpool = spool if spooled else table
        progress("loading the model", 0.02, f"version {job.version}")
        model.loaded()
        progress("reading rows to predict", 0.05)
        schema = waiting(feed.schema, model.idle)
        check_predict_schema(schema, features, id_columns, data.get("label"), version=job.version)
        ids = [c for c in id_columns if c in schema.names]
        while (batch := waiting(feed.get, model.idle)) is not None:
            if batch.num_rows == 0:
                continue
            preds, proba = _predicted(model, batch, names, classes, rows)
            writer.write(_output(batch, preds, proba, id_columns=ids, classes=classes, version=job.version,
                                 run_id=job.run_id, predicted_at=predicted_at))
            rows += batch.num_rows
            progress("predicting", None, f"{rows:,} rows written")
        model.finished()
        if spooled:  # the read is closed now: the file accepts the writes
            progress("writing the output table", 0.9, f"{rows:,} rows")
            for out in spool.batches():
                model.idle()
                table.write(out)
        if rows and not model.may_commit():
            table.abort()
            raise RunStoppedError("The run was stopped before its output table was swapped in; "
                                  "the previous table is unchanged.")
        progress("swapping in the output table", 0.98)
        written = table.commit() if rows else 0
        if not rows:
            table.abort()
    notes = list(table.notes) if rows else ["The predict query returned no rows; the output table was left unchanged."]
    return PredictOutput(version=job.version, table=job.output_table, rows=written,
                         write_mode=job.write_mode, notes=notes)
