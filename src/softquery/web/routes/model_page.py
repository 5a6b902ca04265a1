"""The model page: versions (activate / roll back), charts, manifest, runs, export, output preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.identifiers import check_identifier
from softquery.services import accounts
from softquery.services import models as models_svc
from softquery.services import preview as preview_svc
from softquery.services import runs as runs_svc
from softquery.services import versions as versions_svc
from softquery.services.numbers import MAX_STORED_NUMBER
from softquery.web import access, model_view
from softquery.web.deps import ctx_of, executor_of, page_router
from softquery.web.summaries import model_card, safe_versions
from softquery.web.templating import render

router = page_router()
OUTPUT_PREVIEW_ROWS = 20


@router.get("/models/{name}", dependencies=[allow(Action.READ)])
def model_page(request: Request, name: str) -> Response:
    ctx = ctx_of(request)
    model = models_svc.get_model(ctx, name)
    card = model_card(ctx, model)
    versions = sorted(safe_versions(ctx, name), key=lambda v: -v.version)
    active = card.active
    return render(request, "model.html", {
        "nav": "models", "card": card, "model": model, "versions": versions, "active": active,
        "has_executor": executor_of(request) is not None,
        "history": model_view.metric_history(versions),
        "evaluation": model_view.evaluation(active),
        "manifest": model_view.manifest_sections(active) if active else None,
        "export_note": model_view.export_note(model, active),
        "snippets": model_view.http_snippets(name, active, str(request.base_url)),
        "runs": runs_svc.list_runs(ctx, name, None, 10),
        "saved": request.query_params.get("saved"),
        "notice": request.query_params.get("notice"),
        "people": [u.username for u in accounts.list_users(ctx) if u.active]
        if access.is_admin(access.principal_of(request)) else [],
    })


@router.post("/models/{name}/versions/{number}/activate", dependencies=[allow(Action.CHANGE_MODEL)])
def activate(request: Request, name: str, number: Annotated[int, Path(ge=1, le=MAX_STORED_NUMBER)]) -> Response:
    versions_svc.activate_version(ctx_of(request), name, number)
    return RedirectResponse(f"/models/{name}?notice=activated-{number}#versions", status_code=303)


@router.post("/models/{name}/owner", dependencies=[allow(Action.ADMIN)])
def set_owner(request: Request, name: str, owner: Annotated[str, Form()] = "") -> Response:
    """Admins hand a model to someone else (then that editor may change it)."""
    models_svc.set_owner(ctx_of(request), name, owner.strip() or None)
    return RedirectResponse(f"/models/{name}?notice=owner", status_code=303)


@router.get("/models/{name}/output", dependencies=[allow(Action.READ)])
def output_preview(request: Request, name: str) -> Response:
    """First rows of the prediction table (a fragment, loaded after the page)."""
    ctx = ctx_of(request)
    model = models_svc.get_model(ctx, name)
    table = check_identifier(model.target_table, "output table")  # validated, then ANSI-quoted
    sql = f'select * from "{table}"'  # noqa: S608
    result = preview_svc.preview_query(ctx, model.source, sql,
                                       what="output table", limit=OUTPUT_PREVIEW_ROWS)
    return render(request, "partials/output_preview.html", {"q": result, "model": model, "marks": {}})
