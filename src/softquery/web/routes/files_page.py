"""The files folder (``SOFTQUERY_FILES_DIR``): the files SQL scripts load and save, a download
link per file (everyone who may list them), and for editors and admins an upload form
(multipart) and a Delete button per file (POST, with the CSRF field like every form)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.errors import SoftqueryError
from softquery.http.file_download import download_response
from softquery.http.route_policies import allow
from softquery.services import file_uploads
from softquery.services import files as files_svc
from softquery.web.deps import ctx_of, page_router
from softquery.web.plain_words import plain
from softquery.web.templating import render

router = page_router()


def _page(request: Request, *, status_code: int = 200, **extra: object) -> Response:
    ctx = ctx_of(request)
    return render(request, "files.html", {
        "nav": "files",
        "files": [{"path": f.path, "size": f.size, "modified": datetime.fromtimestamp(f.modified, UTC)}
                  for f in files_svc.list_files(ctx)], "max_bytes": files_svc.MAX_UPLOAD_BYTES,
        "uploaded": request.query_params.get("uploaded"), "deleted": request.query_params.get("deleted"),
        "error": None, "delete_error": None, "name": "", **extra,
    }, status_code=status_code)


@router.get("/files", dependencies=[allow(Action.READ)])
def files_page(request: Request) -> Response:
    return _page(request)


@router.post("/files", dependencies=[allow(Action.EDIT)])
def upload(request: Request, file: Annotated[UploadFile, File()], name: Annotated[str, Form()] = "",
           overwrite: Annotated[str, Form()] = "") -> Response:
    """Upload ``file`` as ``name`` (default: the file's own name) into the files folder."""
    target = name.strip() or (file.filename or "")
    try:
        entry = file_uploads.save_upload(ctx_of(request), target, file.file, overwrite=bool(overwrite))
    except SoftqueryError as exc:
        return _page(request, error=plain(exc.message), name=name)  # the form again, as the other forms answer
    return RedirectResponse(f"/files?uploaded={quote(entry.path, safe='/')}", status_code=303)


@router.get("/files/download/{path:path}", dependencies=[allow(Action.READ)])
def download(request: Request, path: str) -> Response:
    """The file, streamed as an attachment (see ``softquery.http.file_download``)."""
    return download_response(files_svc.open_for_reading(ctx_of(request), path))


@router.post("/files/delete", dependencies=[allow(Action.EDIT)])
def delete(request: Request, path: Annotated[str, Form()] = "") -> Response:
    """Delete one file (and the folders it leaves empty); the page again with a message."""
    try:
        deleted = files_svc.delete_file(ctx_of(request), path)
    except SoftqueryError as exc:
        return _page(request, status_code=exc.http_status, delete_error=plain(exc.message))
    return RedirectResponse(f"/files?deleted={quote(deleted, safe='/')}", status_code=303)
