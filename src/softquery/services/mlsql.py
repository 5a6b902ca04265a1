"""Use case: MLSQL's online predict (``POST /model/predict`` with sql, data, dataType=row).

``select pj(vec_dense(features)) as p1`` predicts every row of ``data`` with the
active version of model ``pj`` (or of the model ``register … as pj`` named, ``sql_functions``): the call's arguments map, in order, onto the
features the version was trained on; ``vec_dense(col)`` passes the row's JSON
list as a vector (for a model trained on an array column, or, as the only
argument, spread over a model's numeric features in order). The answer is one
JSON object per row, with one key per select item.
"""

from __future__ import annotations

import json
from typing import Any

from softquery.errors import InvalidInputError, PermissionDeniedError, SchemaMismatchError
from softquery.services.online import OnlinePredictor, ServedVersion
from softquery.services.sql_functions import model_called
from softquery.serving.inputs import parse_json, to_batch
from softquery.sql.online_select import Call, parse_select


def _data_rows(data: str) -> list[dict[str, Any]]:
    rows = parse_json(data, "The data field")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise InvalidInputError('The data field must be a JSON list of row objects, like [{"features": [0.1, 2.0]}].')
    if not rows:
        raise InvalidInputError("The data field holds no rows.")
    return rows


def _vector(value: Any, call: Call, column: str, row: int) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # nested past the parser's depth: not a vector either
            value = None
    if not isinstance(value, list):
        raise InvalidInputError(f"{call.text()}: row {row} column {column!r} is not a JSON list of numbers, "
                                "which vec_dense needs.", details={"row": row, "column": column})
    return value


def _model_rows(call: Call, served: ServedVersion, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    features = served.schema.features
    names = [f.name for f in features]
    spread = (len(call.args) == 1 and call.args[0].vector and len(features) > 1
              and all(f.kind in ("numeric", "boolean") for f in features))
    if not spread and len(call.args) != len(features):
        raise InvalidInputError(
            f"{call.text()}: model {call.model!r} (version {served.key.version}) takes {len(features)} "
            f"input column(s) ({', '.join(names)}); the call passes {len(call.args)}.",
            details={"model": call.model, "features": names})
    out = []
    for i, row in enumerate(rows):
        values = []
        for arg in call.args:
            if arg.column not in row:
                raise InvalidInputError(f"{call.text()}: row {i} of data has no column {arg.column!r}.",
                                        details={"row": i, "column": arg.column})
            value = row[arg.column]
            values.append(_vector(value, call, arg.column, i) if arg.vector else value)
        if spread:
            vector = values[0]
            if len(vector) != len(features):
                raise InvalidInputError(
                    f"{call.text()}: row {i} has a vector of {len(vector)} numbers; model {call.model!r} "
                    f"takes {len(features)} ({', '.join(names)}).", details={"row": i})
            values = vector
        out.append(dict(zip(names, values, strict=True)))
    return out


async def mlsql_predict(online: OnlinePredictor, sql: str, data: str, data_type: str, *,
                        allowed_models: frozenset[str] | None = None) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """(rows of {alias: prediction}, {model: version that answered}); ``allowed_models``: the
    only models the caller's token may call (None: any)."""
    if data_type != "row":
        raise InvalidInputError(f"dataType {data_type!r} is not supported; use dataType=row.",
                                details={"dataType": data_type})
    calls = parse_select(sql)
    # a model, or a function made with ``register … as fn``
    models = {c.model: model_called(online.ctx, c.model) for c in calls}
    refused = sorted(set(models.values()) - allowed_models) if allowed_models is not None else []
    if refused:
        raise PermissionDeniedError(
            f"This API token may only call the models: {', '.join(sorted(allowed_models or ())) or 'none'}; "
            f"the query also calls {', '.join(refused)}.", details={"models": refused})
    rows = _data_rows(data)
    if len(rows) > online.settings.serving_max_rows:
        from softquery.serving.failures import PayloadTooLargeError

        raise PayloadTooLargeError(f"The data field has {len(rows):,} rows; at most "
                                   f"{online.settings.serving_max_rows:,} are accepted per request.")
    answers: list[dict[str, Any]] = [{} for _ in rows]
    versions: dict[str, int] = {}
    for call in calls:
        served = await online.served_version(models[call.model], None)
        try:
            batch = to_batch({"rows": _model_rows(call, served, rows)}, served.schema,
                             max_rows=online.settings.serving_max_rows, version=served.key.version)
        except SchemaMismatchError as exc:  # name the select item: its columns are the model's
            raise SchemaMismatchError(f"{call.text()}: {exc.message}", details=exc.details) from None
        answer = await online.predict_batch(served, batch)
        versions[models[call.model]] = served.key.version
        for out, prediction in zip(answers, answer.predictions, strict=True):
            out[call.alias] = prediction
    return answers, versions
