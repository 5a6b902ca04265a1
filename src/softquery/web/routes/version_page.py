"""A version's own page: its manifest, metrics, code (diffed against the active version), its run,
and Activate."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import Response

from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.services import models as models_svc
from softquery.services import versions as versions_svc
from softquery.services.numbers import MAX_STORED_NUMBER
from softquery.web import model_view, search_view, version_view
from softquery.web.deps import ctx_of, page_router
from softquery.web.summaries import active_version
from softquery.web.templating import render

router = page_router()


@router.get("/models/{name}/versions/{number}", dependencies=[allow(Action.READ)])
def version_page(request: Request, name: str,
                 number: Annotated[int, Path(ge=1, le=MAX_STORED_NUMBER)]) -> Response:
    ctx = ctx_of(request)
    model = models_svc.get_model(ctx, name)
    version = versions_svc.get_version(ctx, name, number)
    active = active_version(ctx, model)
    is_active = active is not None and active.version == version.version
    code = version_view.code_of(version)
    diff = [] if is_active or active is None else version_view.code_diff(version_view.code_of(active), code)
    return render(request, "version.html", {
        "nav": "models", "model": model, "version": version, "active": active, "is_active": is_active,
        "manifest": model_view.manifest_sections(version),
        "metrics": version_view.metric_rows(version, active),
        "cv": version_view.cv_table(version),
        "evaluation": model_view.evaluation(version),
        "code": code, "diff": diff, "diff_stats": version_view.diff_stats(diff),
        "run_id": version.manifest.get("run_id"),
        "notice": request.query_params.get("notice"),
        "search": search_view.search_of(version),
    })
