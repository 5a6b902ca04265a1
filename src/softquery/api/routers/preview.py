"""Query previews: SQL only, with a row limit; a failing query is a result with ``error``."""

from __future__ import annotations

from fastapi import APIRouter

from softquery.api.deps import Ctx
from softquery.api.schemas.preview import (
    ModelPreviewPublic,
    ModelPreviewRequest,
    QueryPreviewPublic,
    QueryPreviewRequest,
)
from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.services import preview as svc

router = APIRouter(tags=["preview"])


@router.post("/sources/{name}/preview", response_model=QueryPreviewPublic, dependencies=[allow(Action.EDIT)])
def preview_query(name: str, body: QueryPreviewRequest, ctx: Ctx) -> QueryPreviewPublic:
    """First rows and column types of a query; the database's message in ``error`` if it fails."""
    return QueryPreviewPublic.of(svc.preview_query(ctx, name, body.sql, what="query", limit=body.limit))


@router.post("/models/preview", response_model=ModelPreviewPublic, dependencies=[allow(Action.EDIT)])
def preview_model(body: ModelPreviewRequest, ctx: Ctx) -> ModelPreviewPublic:
    """Both queries of a model definition plus the detected label, id columns and features."""
    return ModelPreviewPublic.of(svc.preview_model(
        ctx, body.source, body.train_sql, body.predict_sql, label=body.label,
        id_columns=body.id_columns, limit=body.limit))
