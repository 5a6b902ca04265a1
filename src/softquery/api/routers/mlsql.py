"""MLSQL-compatible online predict: POST /model/predict (form fields sql, data, dataType).

Included by ``create_app`` behind the same access dependency as /api/v1: it runs models.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from softquery.auth.policy import Action
from softquery.domain.accounts import Principal
from softquery.http.route_policies import allow
from softquery.services.mlsql import mlsql_predict
from softquery.services.online import VERSION_HEADER, OnlinePredictor

router = APIRouter(tags=["mlsql"])


@router.post("/model/predict", response_class=Response, responses={200: {
    "description": 'One JSON object per data row, keyed by the select aliases: `[{"p1": 5.6}]`.',
    "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}, dependencies=[allow(Action.PREDICT_ONLINE, models_checked_by_route=True)])
async def model_predict(
    request: Request,
    sql: Annotated[str, Form(description="select my_model(vec_dense(features)) as p1")],
    data: Annotated[str, Form(description='JSON list of row objects: [{"features": [0.1, 2.0]}]')],
    data_type: Annotated[str, Form(alias="dataType", description="Only `row`.")] = "row",
) -> Response:
    """MLSQL's API-mode request: predict ``data`` with the models called in ``sql``."""
    online: OnlinePredictor = request.app.state.online
    principal: Principal = request.state.principal
    rows, versions = await mlsql_predict(online, sql, data, data_type, allowed_models=principal.models)
    header = ",".join(f"{m}={v}" for m, v in versions.items())
    return Response(json.dumps(rows, separators=(",", ":"), default=str), media_type="application/json",
                    headers={VERSION_HEADER: header})
