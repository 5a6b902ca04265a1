"""Query previews (SQL only, with a row limit) and the tables of a source; a failing query is a
result with ``error``."""

from __future__ import annotations

from fastapi import APIRouter

from softquery.api.deps import Ctx
from softquery.api.schemas.preview import (
    ModelPreviewPublic,
    ModelPreviewRequest,
    QueryPreviewPublic,
    QueryPreviewRequest,
    SourceCatalogPublic,
)
from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.services import preview as svc
from softquery.services import source_catalog

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


@router.get("/sources/{name}/tables", response_model=SourceCatalogPublic, dependencies=[allow(Action.EDIT)])
def source_tables(name: str, ctx: Ctx) -> SourceCatalogPublic:
    """Tables and views of the source with their columns and row counts (an estimate or a count
    that stops at a cap on big tables), for the editor's table browser; read-only, like a preview."""
    return SourceCatalogPublic.of(source_catalog.describe_source(ctx, name))
