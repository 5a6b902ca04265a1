"""What a job child does: the untrusted half of a run, talking to its supervisor.

Messages to the supervisor: ("progress", phase, fraction, detail),
("result", TrainOutput | PredictOutput), ("error", error dict),
("confirm_commit",) — answered with ("commit", bool).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from softquery.errors import SoftqueryError


@dataclass
class JobPayload:
    kind: str                 # "train" | "predict"
    spec: Any                 # TrainSpec | PredictSpec
    memory_message: str = "The run ran out of memory."


def job_child_main(conn: Connection, payload: JobPayload) -> None:
    def progress(phase: str, fraction: float | None = None, detail: str = "") -> None:
        conn.send(("progress", phase, fraction, detail))

    def confirm_commit() -> bool:
        conn.send(("confirm_commit",))
        reply = conn.recv()
        return bool(reply == ("commit", True))

    try:
        if payload.kind == "train":
            from softquery.training.pipeline import train_from_source

            conn.send(("result", train_from_source(payload.spec, progress)))
        else:
            from softquery.prediction.batch import predict_to_table

            conn.send(("result", predict_to_table(payload.spec, progress, confirm_commit)))
    except SoftqueryError as exc:
        conn.send(("error", exc.to_dict()))
    except MemoryError:
        conn.send(("error", {"code": "memory_limit", "message": payload.memory_message, "details": {}}))
    except Exception as exc:
        conn.send(("error", {
            "code": "internal_error",
            "message": f"softquery hit an unexpected error ({type(exc).__name__}: {exc}).",
            "details": {"traceback": traceback.format_exc()},
        }))
