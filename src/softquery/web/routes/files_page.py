"""The files folder (``SOFTQUERY_FILES_DIR``): the files SQL scripts load and save, and an
upload form for editors and admins (multipart, with the CSRF field like every form)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.errors import SoftqueryError
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
        "uploaded": request.query_params.get("uploaded"), "error": None, "name": "", **extra,
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
    return RedirectResponse(f"/files?uploaded={entry.path}", status_code=303)
