"""Data sources: list (passwords masked), create (tested unless test=false), test, delete."""

from __future__ import annotations

from fastapi import APIRouter, Response

from softquery.api.deps import Ctx
from softquery.api.schemas.sources import SourceCreate, SourcePublic, SourceTestPublic
from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.services import sources as svc

router = APIRouter(tags=["sources"])


@router.get("/sources", response_model=list[SourcePublic], dependencies=[allow(Action.READ)])
def list_sources(ctx: Ctx) -> list[SourcePublic]:
    return [SourcePublic.of(v) for v in svc.list_sources(ctx)]


@router.post("/sources", status_code=201, response_model=SourcePublic, dependencies=[allow(Action.MANAGE_SOURCES)])
def create_source(body: SourceCreate, ctx: Ctx) -> SourcePublic:
    return SourcePublic.of(svc.add_source(ctx, body.name, body.url, test=body.test))


@router.post("/sources/{name}/test", response_model=SourceTestPublic, dependencies=[allow(Action.MANAGE_SOURCES)])
def test_source(name: str, ctx: Ctx) -> SourceTestPublic:
    """Connect and run `select 1`; 422 (source_error) with the database's message when it fails."""
    return SourceTestPublic(**SourcePublic.of(svc.test_source(ctx, name)).model_dump(), ok=True)


@router.delete("/sources/{name}", status_code=204, response_class=Response, dependencies=[allow(Action.MANAGE_SOURCES)])
def delete_source(name: str, ctx: Ctx) -> Response:
    """Remove the source; 409 while models use it."""
    svc.remove_source(ctx, name)
    return Response(status_code=204)
