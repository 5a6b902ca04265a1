"""The serving worker: the untrusted half of online prediction, in a sandboxed child.

It runs in a ``Sandbox`` child (own session, dies with the server, scrubbed
environment, memory/process/file limits, BLAS/OpenMP threads pinned to 1) and
stays alive, holding loaded versions, until the server closes the channel.

Protocol on the message socket (``multiprocessing.Connection`` framing):

* in (from the trusted server, pickled): ``("load", id, key, artifact, code, features)``,
  ``("unload", key)``, ``("predict", id, key, batch, want_proba)`` where ``batch`` is an
  Arrow RecordBatch typed from the version's feature schema;
* out (JSON, never pickle: the server must not unpickle what model code could forge):
  ``{"id", "ok": true, "predictions", "probabilities"}`` or ``{"id", "ok": false, "error"}``.

Requests that are already waiting for the same version are predicted together in
one call (micro-batching); each request gets back exactly its own rows. Predicting
itself (X from the rows, predict, the checks) is ``prediction.predict_rows``, the path
batch prediction's job child takes too.
"""

from __future__ import annotations

import json
import math
import pickle
import traceback
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from softquery.errors import SoftqueryError
from softquery.prediction.predict_rows import LoadedModel

MAX_BATCHED_ROWS = 2000  # a micro-batch stops growing at this many rows


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _as_list(values: np.ndarray) -> list[Any]:
    out = values.tolist()
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        return [_json_value(v) for v in out]
    return out


def _error_dict(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SoftqueryError):
        return exc.to_dict() | {"status": exc.http_status}
    if isinstance(exc, MemoryError):
        return {"code": "memory_limit", "message": "The serving worker ran out of memory.", "details": {}}
    return {"code": "prediction_failed",
            "message": f"The model failed while predicting ({type(exc).__name__}: {exc}).",
            "details": {"traceback": traceback.format_exc(limit=20)}}


def _reply(conn: Connection, message: dict[str, Any]) -> None:
    conn.send_bytes(json.dumps(message, default=str).encode())


def _rows(payload: Any) -> int:
    return int(payload.shape[0]) if isinstance(payload, np.ndarray) else int(payload.num_rows)


def _answer(conn: Connection, models: dict[Any, LoadedModel], group: list[tuple[Any, ...]]) -> None:
    """Predict a group of requests for one version in one call; reply to each."""
    key, want_proba = group[0][2], group[0][4]
    loaded = models.get(key)
    if loaded is None:
        for message in group:
            _reply(conn, {"id": message[1], "ok": False, "error": {
                "code": "not_loaded", "message": "The version is not loaded in this worker.", "details": {}}})
        return
    try:
        preds, proba = loaded.checked_predict([m[3] for m in group], want_proba)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the requests
        if len(group) > 1:  # find whose rows failed: answer one by one
            for message in group:
                _answer(conn, models, [message])
            return
        _reply(conn, {"id": group[0][1], "ok": False, "error": _error_dict(exc)})
        return
    start = 0
    for message in group:
        n = _rows(message[3])
        part = preds[start:start + n]
        reply: dict[str, Any] = {"id": message[1], "ok": True, "predictions": _as_list(part)}
        if proba is not None:
            reply["probabilities"] = proba[start:start + n].tolist()
        _reply(conn, reply)
        start += n


def _load(conn: Connection, models: dict[Any, LoadedModel], message: tuple[Any, ...]) -> None:
    _, request_id, key, artifact, code, features = message
    try:
        models[key] = LoadedModel.load(artifact, code, features)  # the server verified the signature
        _reply(conn, {"id": request_id, "ok": True})
    except BaseException as exc:  # noqa: BLE001
        _reply(conn, {"id": request_id, "ok": False, "error": _error_dict(exc)})


def serving_worker_main(conn: Connection, payload: Any) -> None:
    """Serve until the server closes the channel (then return: the sandbox exits 0)."""
    models: dict[Any, LoadedModel] = {}
    pending: list[tuple[Any, ...]] = []
    while True:
        if not pending:
            try:
                pending.append(pickle.loads(conn.recv_bytes()))
            except (EOFError, OSError):
                return
        # Take whatever else is already waiting (bounded), so queued requests batch up.
        rows = 0
        while len(pending) < 256 and rows < MAX_BATCHED_ROWS and conn.poll(0):
            try:
                message = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError):
                return
            pending.append(message)
            if message[0] == "predict":
                rows += _rows(message[3])
        message = pending.pop(0)
        kind = message[0]
        if kind == "load":
            _load(conn, models, message)
        elif kind == "unload":
            models.pop(message[1], None)
        elif kind == "predict":
            group = [message]
            rows = _rows(message[3])
            # Consecutive predicts for the same version (and payload type) join the group.
            while (pending and pending[0][0] == "predict" and pending[0][2] == message[2]
                   and pending[0][4] == message[4] and type(pending[0][3]) is type(message[3])
                   and rows + _rows(pending[0][3]) <= MAX_BATCHED_ROWS):
                nxt = pending.pop(0)
                rows += _rows(nxt[3])
                group.append(nxt)
            _answer(conn, models, group)
