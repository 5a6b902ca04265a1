"""One sandboxed job child that predicts rows for a SQL statement (no run behind it).

The same child as a batch prediction's (``services.job_child``, kind "predict": it gets a
``PredictSpec`` — the verified artifact, the code, the feature specs — and never a source
URL) under the same sandbox and limits; only the supervisor differs: a statement has no
run to heartbeat or log to, so this one just keeps the wall-time limit and ends the child
when the statement is done. Messages to the child go from a thread (a child that stops
reading cannot block the statement); replies are decoded with the protocol's allow-list
and checked here (``checked_predictions``) before they are used.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import numpy as np
import pyarrow as pa

from softquery.data.arrow_bytes import batch_to_bytes
from softquery.errors import LimitExceededError, ModelCodeError, SoftqueryError
from softquery.prediction.predict_rows import PredictSpec, checked_predictions
from softquery.sandbox import Limits, Sandbox, memory_error_message, prepare_forkserver
from softquery.services.child_session import Sender
from softquery.services.job_child import JobPayload, job_child_main
from softquery.training.answers import RowNames

STATEMENT_ROWS = "of the statement's input (counting from 0)"


def warm_up() -> None:
    """Start the job children's forkserver in the background (a cold one takes 1-2 s: a fresh
    interpreter importing numpy, pandas, scikit-learn), while the statement reads its rows."""
    threading.Thread(target=prepare_forkserver, name="softquery-forkserver-start", daemon=True).start()


class ModelChild:
    """A job child holding one version; ``predict`` batches, then ``finish``/``close``."""

    def __init__(self, spec: PredictSpec, limits: Limits, label: str):
        self.label = label  # "model m version 3", for messages
        self.classes = spec.classes
        self.memory_message = memory_error_message(limits)
        payload = JobPayload("predict", spec, self.memory_message)
        self.sandbox = Sandbox.start(job_child_main, payload, limits=limits, name=f"sql-{label.replace(' ', '-')}")
        self._sender = Sender(self.sandbox.message_fd())
        self.output: list[str] = []
        self._ready = False

    def _reply(self, expected: str) -> tuple[Any, ...]:
        message: Any = self.sandbox.next_reply(lambda _stream, text: self._keep(text))
        kind = message[0] if isinstance(message, tuple) and message else None
        if kind == expected:
            return tuple(message)
        if kind == "error" and len(message) == 2 and isinstance(message[1], dict):
            error = message[1]
            code = str(error.get("code") or "model_code_error")
            cls = {"model_code_error": ModelCodeError, "memory_limit": LimitExceededError}.get(code, SoftqueryError)
            raise cls(f"{self.label}: {error.get('message') or 'the model code failed'}", code=code,
                      details=dict(error.get("details") or {}))
        if message is None:
            info = self.sandbox.wait(5.0)
            if info is None:
                raise LimitExceededError(f"{self.label}: the model's process stopped answering.")
            raise LimitExceededError(f"{self.label}: {info.message}", code=info.status,
                                     details={"exit_code": info.exit_code, "signal": info.signal})
        shown = kind if kind is not None else type(message).__name__
        raise ModelCodeError(f"{self.label}: the model's process sent {str(shown)[:80]!r} where softquery "
                             f"expected {expected!r}; the statement was stopped.")

    def _keep(self, text: str) -> None:
        if sum(len(t) for t in self.output) < 20_000:
            self.output.append(text)

    def predict(self, features: pa.RecordBatch, first_row: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """Checked (predictions, probabilities or None) for the rows of ``features``."""
        if not self._ready:
            self._reply("ready")
            self._ready = True
        self._sender.send(("predict", batch_to_bytes(features), bool(self.classes), first_row))
        reply = self._reply("predictions")
        if len(reply) != 3:
            raise ModelCodeError(f"{self.label}: the model's process sent a malformed answer.")
        return checked_predictions(reply[1], reply[2], features.num_rows, self.classes,
                                   RowNames(where=STATEMENT_ROWS, first=first_row))

    def finish(self) -> None:
        """Every batch is predicted: let the child end (its failure to end is raised here)."""
        if self._ready:
            self._sender.send(("done",))
            self._reply("result")

    def close(self) -> None:
        self._sender.close(2.0)
        with contextlib.suppress(Exception):
            self.sandbox.close()

    def __enter__(self) -> ModelChild:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

