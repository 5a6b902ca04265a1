"""What a job child does: the untrusted half of a run, talking to its supervisor.

The child opens no database and never sees a data-source URL: the supervisor
reads the source and writes the output table; the child gets Arrow data and
answers. Strict request/reply on the message socket (one side sends at a time):

* train — child: ("next",); supervisor: ("schema", schema_bytes, predict_columns)
  first, then ("batch", batch_bytes) per batch and ("end",); the child trains
  and sends ("result", TrainOutput);
* predict — child: ("ready",) once the model is loaded; supervisor:
  ("predict", batch_bytes, want_proba, first_row) → child: ("predictions", predictions,
  probabilities or None); supervisor: ("done",) → child: ("result", {"stdout",
  "stderr"}).

Any time: ("progress", phase, fraction, detail); on failure ("error", error dict)
and the child ends. ``*_bytes`` are Arrow IPC (``softquery.data.arrow_bytes``).
"""

from __future__ import annotations

import contextlib
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import pyarrow as pa

from softquery.data.arrow_bytes import batch_from_bytes, schema_from_bytes
from softquery.data.fingerprint import Fingerprinter
from softquery.errors import SoftqueryError
from softquery.prediction.predict_rows import QUERY_ROWS, LoadedModel, PredictSpec
from softquery.sandbox import protocol
from softquery.training.answers import RowNames
from softquery.training.capture import Captured, capture_output
from softquery.training.pipeline import train_from_rows
from softquery.training.search import never_back
from softquery.training.spec import TrainSpec


@dataclass
class JobPayload:
    kind: str                       # "train" | "predict"
    spec: TrainSpec | PredictSpec   # neither has a source URL
    memory_message: str = "The run ran out of memory."

    def __post_init__(self) -> None:
        wanted = TrainSpec if self.kind == "train" else PredictSpec
        if type(self.spec) is not wanted:  # a parent-side job (with its URL) never leaves
            raise TypeError(f"a {self.kind} job child gets a {wanted.__name__}, not {type(self.spec).__name__}")


class _ProtocolError(Exception):
    pass


def _expect(conn: Connection, *kinds: str) -> tuple[Any, ...]:
    message = protocol.receive(conn)
    if not (isinstance(message, tuple) and message and message[0] in kinds):
        raise _ProtocolError(f"expected {kinds} from the supervisor, got {message!r:.100}")
    return message


def _hash_beside(hasher: Fingerprinter, pool: ThreadPoolExecutor, pending: list[Future[None]],
                 batch: pa.RecordBatch) -> None:
    """Hash ``batch`` in ``pool``'s thread while the supervisor reads the next one (both
    release the GIL); inline when no thread can start (a process limit of 1)."""
    try:
        pending.append(pool.submit(hasher.add, batch))
    except RuntimeError:  # "can't start new thread"
        hasher.add(batch)


def _train(conn: Connection, spec: TrainSpec, progress: Any) -> None:
    def read_rows() -> tuple[pa.Table, list[str], str]:
        protocol.send(conn, ("next",))
        _, schema_bytes, predict_columns = _expect(conn, "schema")
        schema = schema_from_bytes(schema_bytes)
        hasher = Fingerprinter(schema)
        batches: list[pa.RecordBatch] = []
        pending: list[Future[None]] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fingerprint") as pool:
            while True:
                protocol.send(conn, ("next",))
                message = _expect(conn, "batch", "end")
                if message[0] == "end":
                    break
                batches.append(batch_from_bytes(message[1]))
                _hash_beside(hasher, pool, pending, batches[-1])
            for done in pending:
                done.result()
        # the thread has ended here: the fits that follow may fork
        table = pa.Table.from_batches(batches, schema=schema)
        return table, list(predict_columns), hasher.hexdigest(table)

    protocol.send(conn, ("result", train_from_rows(spec, read_rows, never_back(progress))))


def _predict(conn: Connection, spec: PredictSpec) -> None:
    capture = capture_output(spec.log_limit) if spec.capture_output else contextlib.nullcontext(Captured())
    with capture as captured:
        model = LoadedModel.of_spec(spec)
        protocol.send(conn, ("ready",))
        while (message := _expect(conn, "predict", "done"))[0] == "predict":
            first = int(message[3]) if len(message) > 3 else 0  # rows of the query before this batch
            preds, proba = model.checked_predict(batch_from_bytes(message[1]), bool(message[2]),
                                                 RowNames(where=QUERY_ROWS, first=first))
            protocol.send(conn, ("predictions", preds, proba))
    protocol.send(conn, ("result", {"stdout": captured.stdout, "stderr": captured.stderr}))


def job_child_main(conn: Connection, payload: JobPayload) -> None:
    def progress(phase: str, fraction: float | None = None, detail: str = "") -> None:
        protocol.send(conn, ("progress", phase, fraction, detail))

    try:
        if payload.kind == "train":
            assert isinstance(payload.spec, TrainSpec)
            _train(conn, payload.spec, progress)
        else:
            assert isinstance(payload.spec, PredictSpec)
            _predict(conn, payload.spec)
    except SoftqueryError as exc:
        protocol.send(conn, ("error", exc.to_dict()))
    except MemoryError:
        protocol.send(conn, ("error", {"code": "memory_limit", "message": payload.memory_message, "details": {}}))
    except EOFError:
        return  # the supervisor is done with this child
    except Exception as exc:
        protocol.send(conn, ("error", {
            "code": "internal_error",
            "message": f"softquery hit an unexpected error ({type(exc).__name__}: {exc}).",
            "details": {"traceback": traceback.format_exc()},
        }))
