"""The model page, in tabs: overview (charts, manifest), versions (activate / roll back), runs,
output preview, and how to use it elsewhere (export, HTTP snippets with a predict token)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.domain.accounts import Via
from softquery.errors import PermissionDeniedError
from softquery.http.route_policies import allow
from softquery.identifiers import check_identifier
from softquery.services import accounts
from softquery.services import models as models_svc
from softquery.services import preview as preview_svc
from softquery.services import runs as runs_svc
from softquery.services import tokens as tokens_svc
from softquery.services import versions as versions_svc
from softquery.services.numbers import MAX_STORED_NUMBER
from softquery.services.schedule_words import schedule_words
from softquery.services.tokens import NewToken
from softquery.web import access, model_view, version_view
from softquery.web.deps import ctx_of, executor_of, page_router
from softquery.web.summaries import model_card, safe_versions
from softquery.web.templating import is_htmx, render

router = page_router()
OUTPUT_PREVIEW_ROWS = 20
# the page's tabs: (key in ?tab=, title)
TABS = (("overview", "Overview"), ("versions", "Versions"), ("runs", "Runs"), ("output", "Output"),
        ("use", "Use it elsewhere"))
TAB_KEYS = {key for key, _ in TABS}


def _tab(request: Request, default: str = "overview") -> str:
    wanted = request.query_params.get("tab", default)
    return wanted if wanted in TAB_KEYS else "overview"


def _context(request: Request, name: str, new_token: NewToken | None = None) -> dict[str, Any]:
    ctx = ctx_of(request)
    model = models_svc.get_model(ctx, name)
    card = model_card(ctx, model)
    versions = sorted(safe_versions(ctx, name), key=lambda v: -v.version)
    active = card.active
    return {
        "nav": "models", "card": card, "model": model, "versions": versions, "active": active,
        "has_executor": executor_of(request) is not None,
        "tabs": TABS, "tab": _tab(request, "use" if new_token else "overview"),
        "schedule": schedule_words(model),
        "history": model_view.metric_history(versions),
        "evaluation": model_view.evaluation(active),
        "active_cv_method": version_view.cv_method(active),
        "manifest": model_view.manifest_sections(active) if active else None,
        "export_note": model_view.export_note(model, active),
        "format_exports": model_view.format_exports(model, active),
        "snippets": model_view.http_snippets(name, active, str(request.base_url),
                                             new_token.token if new_token else None),
        "new_token": new_token,
        "runs": runs_svc.list_runs(ctx, name, None, 10),
        "saved": request.query_params.get("saved"),
        "notice": request.query_params.get("notice"),
        **_too_late(request),
        "people": [u.username for u in accounts.list_users(ctx) if u.active]
        if access.is_admin(access.principal_of(request)) else [],
    }


def _too_late(request: Request) -> dict[str, Any]:
    """?too_late=N (a stop without htmx came after the training stored version N): the card says so."""
    text = request.query_params.get("too_late", "")
    return {"too_late": int(text), "stop_notice": runs_svc.too_late_words(int(text))} if text.isdigit() else {}


@router.get("/models/{name}", dependencies=[allow(Action.READ)])
def model_page(request: Request, name: str) -> Response:
    return render(request, "model.html", _context(request, name))


@router.post("/models/{name}/predict-token", dependencies=[allow(Action.OWN_ACCOUNT)])
def create_predict_token(request: Request, name: str) -> Response:
    """A predict token limited to this model, filled into the HTTP snippets and shown once
    (in this response only: never in a URL, never stored)."""
    ctx = ctx_of(request)
    model = models_svc.get_model(ctx, name)
    principal = access.principal_of(request)
    assert principal is not None  # allow() ran
    if not access.allowed(principal, Action.PREDICT_ONLINE, model):
        raise PermissionDeniedError(f"You may not call model {name!r} over HTTP, so no token was made for it.")
    new = tokens_svc.create_model_token(
        ctx, principal.username, name,
        parent_token_id=principal.token_id if principal.via is Via.TOKEN else None)
    context = _context(request, name, new)
    response = render(request, "partials/http_snippets.html" if is_htmx(request) else "model.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/models/{name}/versions/{number}/activate", dependencies=[allow(Action.CHANGE_MODEL)])
def activate(request: Request, name: str, number: Annotated[int, Path(ge=1, le=MAX_STORED_NUMBER)],
             back: Annotated[str, Form()] = "") -> Response:
    """Make version ``number`` the active one; back to the page the button was on."""
    versions_svc.activate_version(ctx_of(request), name, number)
    if back == "version":
        return RedirectResponse(f"/models/{name}/versions/{number}?notice=activated", status_code=303)
    return RedirectResponse(f"/models/{name}?tab=versions&notice=activated-{number}", status_code=303)


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
