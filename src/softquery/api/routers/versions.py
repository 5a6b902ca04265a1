"""Trained versions: list, show (manifest), activate (also rollback), JSON / ONNX / MLflow export download."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response

from softquery.api.deps import Ctx
from softquery.api.schemas.versions import VersionDetailPublic, VersionPublic
from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.services import export as export_svc
from softquery.services import model_exports as exports_svc
from softquery.services import versions as svc
from softquery.services.context import ServiceContext
from softquery.services.numbers import MAX_STORED_NUMBER

router = APIRouter(tags=["versions"])
Number = Annotated[int, Path(ge=1, le=MAX_STORED_NUMBER, description="The version number.")]

EXPORT_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "The linear model's coefficients and preprocessing, as a JSON download.",
          "content": {"application/json": {"schema": {"type": "object"}}}},
}


@router.get("/models/{name}/versions", response_model=list[VersionPublic], dependencies=[allow(Action.READ)])
def list_versions(name: str, ctx: Ctx) -> list[VersionPublic]:
    return [VersionPublic.of(v) for v in svc.list_versions(ctx, name)]


@router.get("/models/{name}/versions/{number}", response_model=VersionDetailPublic, dependencies=[allow(Action.READ)])
def show_version(name: str, number: Number, ctx: Ctx) -> VersionDetailPublic:
    return VersionDetailPublic.of(svc.get_version(ctx, name, number))


@router.post("/models/{name}/versions/{number}/activate", response_model=VersionPublic, dependencies=[allow(Action.CHANGE_MODEL)])
def activate_version(name: str, number: Number, ctx: Ctx) -> VersionPublic:
    """Make this version the one batch and online predictions use (rollback included)."""
    return VersionPublic.of(svc.activate_version(ctx, name, number))


def _download(ctx: ServiceContext, name: str, number: int | None) -> Response:
    data = export_svc.export_json_isolated(ctx, name, number)  # model code runs in a job child
    filename = f"{name}_v{data['version']}.json"
    return Response(content=json.dumps(data, indent=2) + "\n", media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/models/{name}/export.json", response_class=Response, responses=EXPORT_DOC, dependencies=[allow(Action.READ)])
def export_active(name: str, ctx: Ctx) -> Response:
    """JSON export of the active version (409 before any version; 422 for a non-linear model)."""
    return _download(ctx, name, None)


@router.get("/models/{name}/versions/{number}/export.json", response_class=Response,
            responses=EXPORT_DOC, dependencies=[allow(Action.READ)])
def export_version(name: str, number: Number, ctx: Ctx) -> Response:
    """JSON export of one version (422 for a non-linear model)."""
    return _download(ctx, name, number)


FORMAT_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "The ONNX file (onnx) or the MLflow model directory as a zip (mlflow), checked "
                         "against the version's predictions (1e-6 relative).",
          "content": {"application/octet-stream": {}, "application/zip": {}}},
}
Format = Annotated[Literal["onnx", "mlflow"], Path(description="onnx or mlflow")]


def _format_download(ctx: ServiceContext, name: str, fmt: str, number: int | None) -> Response:
    result = exports_svc.export_version(ctx, name, fmt, number)  # model code runs in the export child
    filename, data, media_type = exports_svc.download(result)
    return Response(content=data, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/models/{name}/export/{fmt}", response_class=Response, responses=FORMAT_DOC,
            dependencies=[allow(Action.READ)])
def export_active_as(name: str, fmt: Format, ctx: Ctx) -> Response:
    """ONNX or MLflow export of the active version (422 with the reason for a model that cannot convert)."""
    return _format_download(ctx, name, fmt, None)


@router.get("/models/{name}/versions/{number}/export/{fmt}", response_class=Response, responses=FORMAT_DOC,
            dependencies=[allow(Action.READ)])
def export_version_as(name: str, number: Number, fmt: Format, ctx: Ctx) -> Response:
    """ONNX or MLflow export of one version."""
    return _format_download(ctx, name, fmt, number)
