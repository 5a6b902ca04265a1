"""Online predictions: POST /models/{name}/predict (softquery, MLflow and TF-Serving bodies)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.services.numbers import MAX_STORED_NUMBER
from softquery.services.online import VERSION_HEADER, OnlinePredictor
from softquery.serving.failures import PayloadTooLargeError

router = APIRouter(tags=["predict"])

_ROW = {"type": "object", "additionalProperties": True, "description": "column: value"}
PREDICT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "description": "Exactly one of the keys. Every feature column the version was trained on, "
                   "with values of its type (null allowed); id columns may be sent; others are refused.",
    "oneOf": [
        {"type": "object", "required": ["rows"], "properties": {"rows": {"type": "array", "items": _ROW}}},
        {"type": "object", "required": ["dataframe_records"],
         "properties": {"dataframe_records": {"type": "array", "items": _ROW}}},
        {"type": "object", "required": ["dataframe_split"], "properties": {"dataframe_split": {
            "type": "object", "properties": {"columns": {"type": "array", "items": {"type": "string"}},
                                             "data": {"type": "array", "items": {"type": "array"}}}}}},
        {"type": "object", "required": ["instances"], "properties": {"instances": {"type": "array"}}},
    ],
    "example": {"rows": [{"price": 120.0, "rooms": 3}]},
}}}}}
PREDICT_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "`{model, version, predictions}`; classifiers add `probabilities` (two classes: "
                         "of `positive_class`, and `probability_column` names the batch table's column "
                         "of them, e.g. `probability_malignant`; more: one object of class → probability "
                         "per row). "
                         f"The `{VERSION_HEADER}` header names the version that answered.",
          "content": {"application/json": {"schema": {"type": "object"}}}},
    404: {"description": "No such model or version."},
    409: {"description": "The model has no trained version, or its artifact failed its integrity check."},
    413: {"description": "Too many rows or too large a body."},
    422: {"description": "The rows do not match the version's feature schema (one problem per entry in "
                         "`details.problems`)."},
    503: {"description": "The serving worker stopped while answering; retry."},
}


async def get_online(request: Request) -> OnlinePredictor:  # async: no threadpool hop
    online: OnlinePredictor = request.app.state.online
    return online


Online = Annotated[OnlinePredictor, Depends(get_online)]


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is larger than ``limit`` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise _too_large(int(length), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"The request body is larger than {limit:,} bytes (SOFTQUERY_SERVING_MAX_BODY_BYTES). "
        "Send fewer rows per request, or use a batch prediction.",
        details={"bytes": size, "max_bytes": limit})


@router.post("/models/{name}/predict", response_class=Response, openapi_extra=PREDICT_BODY,
             responses=PREDICT_DOC, dependencies=[allow(Action.PREDICT_ONLINE)])
async def predict(name: str, request: Request, online: Online,
                  version: Annotated[int | None, Query(ge=1, le=MAX_STORED_NUMBER,
                                                      description="Pin a version (default: the active one).")] = None,
                  ) -> Response:
    """Predict the given rows with the active version (or `?version=N`), in a serving worker."""
    raw = await read_body(request, online.settings.serving_max_body_bytes)
    answer = await online.predict(name, raw, version)
    return Response(answer.body(), media_type="application/json",
                    headers={VERSION_HEADER: str(answer.version.key.version)})


@router.get("/serving/workers", dependencies=[allow(Action.READ)])
async def serving_workers(online: Online) -> dict[str, Any]:
    """The serving workers: pid, owner, loaded versions, requests in flight; restarts after a crash,
    and workers retired (for another owner's models, or to hide a data source added since)."""
    return {"workers": online.pool.status(), "restarts": online.pool.restarts, "retired": online.pool.retired}
