"""The serving worker: the untrusted half of online prediction, in a sandboxed child.

It runs in a ``Sandbox`` child (own session, dies with the server, scrubbed
environment, memory/process/file limits, BLAS/OpenMP threads pinned to 1) and
stays alive, holding loaded versions, until the server closes the channel.

Messages on the socket are the sandbox's (``softquery.sandbox.protocol``):

* in (from the trusted server): ``("load", id, key, artifact, code, features)``,
  ``("unload", key)``, ``("predict", id, key, batch, want_proba)`` where ``batch`` is an
  Arrow RecordBatch typed from the version's feature schema;
* out (decoded by the server with the sandbox's allow-list: model code could forge them):
  ``{"id", "ok": True, "predictions", "probabilities"}`` or ``{"id", "ok": False, "error"}``,
  holding JSON's types only (lists, dicts, str, int, float, bool, None), as the server's
  HTTP answers do: any other value becomes its ``str``.

Requests that are already waiting for the same version are predicted together in
one call (micro-batching); each request gets back exactly its own rows. Predicting
itself (X from the rows, predict, the checks) is ``prediction.predict_rows``, the path
batch prediction's job child takes too.
"""

from __future__ import annotations

import json
import math
import traceback
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from softquery.errors import SoftqueryError
from softquery.prediction.predict_rows import LoadedModel, RowNames
from softquery.sandbox import protocol

MAX_BATCHED_ROWS = 2000  # a micro-batch stops growing at this many rows
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})
_PLAIN_KINDS = "biufU"  # numpy kinds whose tolist() holds JSON scalars only
REQUEST_ROWS = RowNames(where="of the request (counting from 0)")  # a failed group is answered one by one


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _as_json(value: Any) -> Any:
    """``value`` with JSON's types only (what a JSON round trip with ``default=str`` gives)."""
    return json.loads(json.dumps(value, default=str))


def _as_list(values: np.ndarray) -> list[Any]:
    out = values.tolist()
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        return [_json_value(v) for v in out]
    if values.dtype.kind in _PLAIN_KINDS or (values.ndim == 1 and all(type(v) in _JSON_SCALARS for v in out)):
        plain: list[Any] = out
        return plain
    return list(_as_json(out))


def _error_dict(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SoftqueryError):
        return exc.to_dict() | {"status": exc.http_status}
    if isinstance(exc, MemoryError):
        return {"code": "memory_limit", "message": "The serving worker ran out of memory.", "details": {}}
    return {"code": "prediction_failed",
            "message": f"The model failed while predicting ({type(exc).__name__}: {exc}).",
            "details": {"traceback": traceback.format_exc(limit=20)}}


def _reply(conn: Connection, message: dict[str, Any]) -> None:
    protocol.send(conn, message)


def _error_reply(conn: Connection, request_id: Any, error: dict[str, Any]) -> None:
    _reply(conn, {"id": request_id, "ok": False, "error": _as_json(error)})


def _rows(payload: Any) -> int:
    return int(payload.shape[0]) if isinstance(payload, np.ndarray) else int(payload.num_rows)


def _answer(conn: Connection, models: dict[Any, LoadedModel], group: list[tuple[Any, ...]]) -> None:
    """Predict a group of requests for one version in one call; reply to each."""
    key, want_proba = group[0][2], group[0][4]
    loaded = models.get(key)
    if loaded is None:
        for message in group:
            _error_reply(conn, message[1], {
                "code": "not_loaded", "message": "The version is not loaded in this worker.", "details": {}})
        return
    try:
        preds, proba = loaded.checked_predict([m[3] for m in group], want_proba, REQUEST_ROWS)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the requests
        if len(group) > 1:  # find whose rows failed: answer one by one
            for message in group:
                _answer(conn, models, [message])
            return
        _error_reply(conn, group[0][1], _error_dict(exc))
        return
    start = 0
    for message in group:
        n = _rows(message[3])
        part = preds[start:start + n]
        reply: dict[str, Any] = {"id": message[1], "ok": True, "predictions": _as_list(part)}
        if proba is not None:
            probabilities = proba[start:start + n].tolist()
            reply["probabilities"] = probabilities if proba.dtype.kind in _PLAIN_KINDS else _as_json(probabilities)
        _reply(conn, reply)
        start += n


def _load(conn: Connection, models: dict[Any, LoadedModel], message: tuple[Any, ...]) -> None:
    _, request_id, key, artifact, code, features = message
    try:
        models[key] = LoadedModel.load(artifact, code, features)  # the server verified the signature
        _reply(conn, {"id": request_id, "ok": True})
    except BaseException as exc:  # noqa: BLE001
        _error_reply(conn, request_id, _error_dict(exc))


def serving_worker_main(conn: Connection, payload: Any) -> None:
    """Serve until the server closes the channel (then return: the sandbox exits 0)."""
    models: dict[Any, LoadedModel] = {}
    pending: list[tuple[Any, ...]] = []
    while True:
        if not pending:
            try:
                pending.append(protocol.receive(conn))
            except (EOFError, OSError):
                return
        # Take whatever else is already waiting (bounded), so queued requests batch up.
        rows = 0
        while len(pending) < 256 and rows < MAX_BATCHED_ROWS and conn.poll(0):
            try:
                message = protocol.receive(conn)
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
