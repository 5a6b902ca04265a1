"""Model definitions: list, create, get, update (PATCH), delete, duplicate."""

from __future__ import annotations

from fastapi import APIRouter, Response

from softquery.api.deps import Ctx
from softquery.api.schemas.models import ModelCreate, ModelDuplicate, ModelPublic, ModelUpdate
from softquery.auth.policy import Action
from softquery.domain import Model
from softquery.http.route_policies import allow
from softquery.services import models as svc
from softquery.services.context import ServiceContext

router = APIRouter(tags=["models"])


def _public(ctx: ServiceContext, model: Model) -> ModelPublic:
    return ModelPublic.of(svc.model_overview(ctx, model))


@router.get("/models", response_model=list[ModelPublic], dependencies=[allow(Action.READ)])
def list_models(ctx: Ctx) -> list[ModelPublic]:
    return [_public(ctx, m) for m in svc.list_models(ctx)]


@router.post("/models", status_code=201, response_model=ModelPublic, dependencies=[allow(Action.CREATE_MODEL)])
def create_model(body: ModelCreate, ctx: Ctx) -> ModelPublic:
    """Create a model; the code is checked statically (422 with the problems and their lines)."""
    return _public(ctx, svc.create_model(ctx, body.name, body.to_spec()).model)


@router.get("/models/{name}", response_model=ModelPublic, dependencies=[allow(Action.READ)])
def get_model(name: str, ctx: Ctx) -> ModelPublic:
    return _public(ctx, svc.get_model(ctx, name))


@router.patch("/models/{name}", response_model=ModelPublic, dependencies=[allow(Action.CHANGE_MODEL)])
def update_model(name: str, body: ModelUpdate, ctx: Ctx) -> ModelPublic:
    """Change only the fields given; null resets label, id_columns, output_table, schedule, limits."""
    return _public(ctx, svc.update_model(ctx, name, body.to_spec()).model)


@router.delete("/models/{name}", status_code=204, response_class=Response, dependencies=[allow(Action.CHANGE_MODEL)])
def delete_model(name: str, ctx: Ctx) -> Response:
    """Delete the model with its versions and runs (its output table stays)."""
    svc.delete_model(ctx, name)
    return Response(status_code=204)


@router.post("/models/{name}/duplicate", status_code=201, response_model=ModelPublic, dependencies=[allow(Action.CREATE_MODEL)])
def duplicate_model(name: str, body: ModelDuplicate, ctx: Ctx) -> ModelPublic:
    """Copy the definition (no versions) to ``new_name``."""
    return _public(ctx, svc.duplicate_model(ctx, name, body.new_name))
