"""The files folder (``SOFTQUERY_FILES_DIR``): list, download, delete.

Everyone who may read lists and downloads (streamed, always an attachment: see
``softquery.http.file_download``); editors and admins delete. Paths are resolved by
``services.files``: ``..``, other absolute paths, symlinks and hidden parts are refused.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from softquery.api.deps import Ctx
from softquery.api.schemas.files import FilePublic
from softquery.auth.policy import Action
from softquery.http.file_download import download_response
from softquery.http.route_policies import allow
from softquery.services import files as files_svc

router = APIRouter(tags=["files"])

REFUSED: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such file (or a folder)."},
    422: {"description": "The path leaves the files folder (`..`, another absolute path, a symlink) or has "
          "a hidden part (`.name`: softquery's own files)."},
}


@router.get("/files", response_model=list[FilePublic], dependencies=[allow(Action.READ)])
def list_files(ctx: Ctx) -> list[FilePublic]:
    """Every file in the files folder (hidden ones and symlinks left out), by path."""
    return [FilePublic.of(e) for e in files_svc.list_files(ctx)]


@router.get("/files/{path:path}", response_class=StreamingResponse, dependencies=[allow(Action.READ)],
            responses={200: {"content": {"application/octet-stream": {}},
                             "description": "The file's bytes, as an attachment."}, **REFUSED})
def download_file(path: str, ctx: Ctx) -> StreamingResponse:
    """Download a file: streamed, `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff`."""
    return download_response(files_svc.open_for_reading(ctx, path))


@router.delete("/files/{path:path}", status_code=204, dependencies=[allow(Action.EDIT)], responses=REFUSED)
def delete_file(path: str, ctx: Ctx) -> Response:
    """Delete a file (never a folder); folders it leaves empty are removed too. Audited."""
    files_svc.delete_file(ctx, path)
    return Response(status_code=204)
