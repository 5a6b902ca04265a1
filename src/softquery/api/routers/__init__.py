"""One router per resource, all under /api/v1 and behind ONE access dependency.

``api_router`` carries ``require_access`` for every route it includes, so a new
router is protected by being included here. Only ``health`` stays outside.
"""

from fastapi import APIRouter, Depends

from softquery.api.routers import (
    audit,
    code,
    files,
    me,
    models,
    predict,
    preview,
    runs,
    sources,
    sql,
    tokens,
    users,
    versions,
)
from softquery.http.authentication import require_access

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """A fresh router (no module-level state shared between apps)."""
    router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(require_access)])
    # predict first: the hot path of online prediction is matched before ~40 other routes
    # (it cannot shadow anything: no other route ends in /predict);
    # then preview: POST /models/preview must not be read as a model called "preview"
    for module in (predict, preview, models, runs, versions, code, sources, sql, files, me, tokens, users, audit):
        router.include_router(module.router)
    return router
