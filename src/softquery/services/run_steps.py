"""The supervisor's half of a run's steps: it reads the source, the child computes.

``train_in_child`` streams the train query to a training job child and
returns its ``TrainOutput``. ``predict_with_child`` runs the batch prediction
here (``predict_to_table``: read, check, write, swap) with a job child that
only answers predict requests. Neither child gets a source URL or opens a
database; the protocol is described in ``softquery.services.job_child``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from softquery.data.arrow_bytes import batch_to_bytes, schema_to_bytes
from softquery.data.feed import SourceFeed, waiting
from softquery.domain import Run
from softquery.prediction.batch import PredictJob, PredictOutput, predict_to_table
from softquery.sandbox import Limits, memory_error_message
from softquery.services.child_session import ChildSession, unexpected
from softquery.services.context import ServiceContext
from softquery.services.job_child import JobPayload
from softquery.services.progress import Listener, RunProgress
from softquery.services.training import TrainJob
from softquery.training.pipeline import TrainOutput


def _kind(message: Any) -> Any:
    return message[0] if isinstance(message, tuple) and message else None


def train_in_child(ctx: ServiceContext, run: Run, job: TrainJob, limits: Limits, progress: RunProgress,
                   listener: Listener | None = None) -> TrainOutput:
    payload = JobPayload("train", job.child, memory_error_message(limits))
    feed = SourceFeed(job.source_url, job.train_sql, what="train query", chunk_rows=None,
                      timeout=job.statement_timeout_seconds, probe=(job.predict_sql, "predict query"))
    # The query starts first: it runs while the child starts (a cold forkserver takes seconds).
    with feed.start(), ChildSession.start(ctx, run, payload, limits, progress, listener) as session:
        rows = -1  # the schema goes first
        while _kind(message := session.receive()) == "next":
            if rows < 0:
                progress("reading training rows", 0.05)
                predict_columns = waiting(feed.probed_schema, session.tick).names
                schema = waiting(feed.schema, session.tick)
                session.send(("schema", schema_to_bytes(schema), predict_columns))
                rows = 0
            elif (batch := waiting(feed.get, session.tick)) is None:
                session.send(("end",))
            else:
                rows += batch.num_rows
                session.send(("batch", batch_to_bytes(batch)))
                progress("reading training rows", None, f"{rows:,} rows")
        if _kind(message) not in ("result", "error"):
            raise unexpected(message, "a training result")
        out = session.finish(message)
        if not isinstance(out, TrainOutput):
            raise unexpected(("result", type(out).__name__), "a training result")
        return out


class ChildModel:
    """``ModelCalls`` over a job child that loaded the version (``predict_to_table``)."""

    def __init__(self, session: ChildSession):
        self.session = session
        self.captured: dict[str, Any] = {}

    def _reply(self, message: Any, expected: str) -> Any:
        if _kind(message) == "error":
            self.session.finish(message)  # raises the run's error
        if _kind(message) != expected:
            raise unexpected(message, repr(expected))
        return message

    def loaded(self) -> None:
        self._reply(self.session.receive(), "ready")

    def predict(self, features: pa.RecordBatch, want_proba: bool, first_row: int = 0) -> tuple[Any, Any]:
        reply = self._reply(self.session.request(("predict", batch_to_bytes(features), want_proba, first_row)),
                            "predictions")
        if len(reply) != 3:
            raise unexpected(reply, "predictions and probabilities")
        return reply[1], reply[2]

    def idle(self) -> None:
        self.session.tick()

    def may_commit(self) -> bool:
        return not self.session.ctx.runs.stop_requested(self.session.run.id)

    def finished(self) -> None:
        message = self.session.request(("done",))
        if _kind(message) not in ("result", "error"):
            raise unexpected(message, "the end of the prediction")
        out = self.session.finish(message)
        self.captured = out if isinstance(out, dict) else {}


def predict_with_child(ctx: ServiceContext, run: Run, job: PredictJob, limits: Limits, progress: RunProgress,
                       listener: Listener | None = None) -> PredictOutput:
    payload = JobPayload("predict", job.child, memory_error_message(limits))
    with ChildSession.start(ctx, run, payload, limits, progress, listener) as session:
        model = ChildModel(session)
        out = predict_to_table(job, progress, model)
    out.stdout, out.stderr = str(model.captured.get("stdout", "")), str(model.captured.get("stderr", ""))
    return out
