"""The front page: every model as a card or as a row of a table, with search, filters, sort
and pages; Train / Predict / Stop on each card, guarded while a run of the model is going."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.domain import RunKind, RunTrigger
from softquery.errors import InvalidInputError, SoftqueryError
from softquery.http.route_policies import allow
from softquery.services import demo as demo_svc
from softquery.services import model_catalog as catalog
from softquery.services import models as models_svc
from softquery.services import runs as runs_svc
from softquery.web.deps import ctx_of, executor_of, page_router
from softquery.web.list_view import VIEW_COOKIE, list_context, table_rows, view_of
from softquery.web.summaries import model_card
from softquery.web.templating import is_htmx, render

router = page_router()
KINDS = {"train": RunKind.TRAIN, "predict": RunKind.PREDICT}


def _page_number(text: str) -> int:
    try:
        return max(1, int(text or "1"))
    except ValueError:
        raise InvalidInputError(f"Page {text!r} is not a page number.", details={"field": "page"}) from None


@router.get("/", dependencies=[allow(Action.READ)])
@router.get("/models", dependencies=[allow(Action.READ)])
def models_page(request: Request, q: str = "", owner: str = "", status: str = "", schedule: str = "",
                sort: str = "name", order: str = "asc", view: str = "", page: str = "1") -> Response:
    ctx = ctx_of(request)
    shown = view_of(view, request.cookies.get(VIEW_COOKIE))
    query = catalog.ModelQuery(search=q.strip(), owner=owner, status=status, schedule=schedule,
                               sort=sort or "name", descending=order == "desc", page=_page_number(page))
    listing = catalog.find_models(ctx, query)
    context: dict[str, Any] = {
        "nav": "models", "demo_exists": demo_svc.demo_exists(ctx),
        "has_executor": executor_of(request) is not None, "notice": request.query_params.get("notice"),
        **list_context(query, listing, shown),
    }
    if shown == "table":
        context["rows"] = table_rows(ctx, listing.rows)
    else:
        context["cards"] = [model_card(ctx, row.model) for row in listing.rows]
    response = render(request, "models.html", context)
    if view in ("cards", "table"):
        response.set_cookie(VIEW_COOKIE, view, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


def _card(request: Request, name: str, **extra: Any) -> Response:
    """The model's card; ``confirm`` (a run kind) asks before starting it, ``card_error`` says what
    went wrong on the card itself (status 200 so htmx swaps it in; the real one in a header)."""
    ctx = ctx_of(request)
    card = model_card(ctx, models_svc.get_model(ctx, name))
    status = extra.pop("status", 200)
    if extra.get("too_late"):
        extra["stop_notice"] = runs_svc.too_late_words(extra["too_late"])
    return render(request, "partials/model_card.html",
                  {"card": card, "has_executor": executor_of(request) is not None, **extra},
                  headers={"X-Softquery-Status": str(status)} if status != 200 else None)


@router.get("/models/{name}/card", dependencies=[allow(Action.READ)])
def model_card_fragment(request: Request, name: str, too_late: int | None = None) -> Response:
    """The live part of the front page: polled every 2 s while a run is queued or running
    (``too_late``: keep saying that a stop came after the training stored that version)."""
    return _card(request, name, too_late=too_late)


def _start_page(request: Request, name: str, kind: RunKind, *, error: str | None = None,
                status_code: int = 200) -> Response:
    ctx = ctx_of(request)
    card = model_card(ctx, models_svc.get_model(ctx, name))
    return render(request, "run_start.html", {"nav": "models", "card": card, "kind": kind, "error": error},
                  status_code=status_code)


def _start(request: Request, name: str, kind: RunKind, again: str) -> Response:
    """Start a run; while another run of the model is queued or running, ask first (unless
    ``again``): in place on the card (htmx), or on the run's own page."""
    ctx = ctx_of(request)
    models_svc.get_model(ctx, name)
    htmx = is_htmx(request)
    if runs_svc.going_runs(ctx, name) and not again:
        if htmx:
            return _card(request, name, confirm=kind.value)
        return RedirectResponse(f"/models/{name}/{kind.value}", status_code=303)
    try:
        runs_svc.start_run(ctx, name, kind, RunTrigger.WEB, executor_of(request))
    except SoftqueryError as exc:
        if htmx:
            return _card(request, name, card_error=exc.message, status=exc.http_status)
        return _start_page(request, name, kind, error=exc.message, status_code=exc.http_status)
    if htmx:
        return _card(request, name)
    return RedirectResponse(f"/#model-{name}", status_code=303)


@router.get("/models/{name}/train", dependencies=[allow(Action.CHANGE_MODEL)])
@router.get("/models/{name}/predict", dependencies=[allow(Action.CHANGE_MODEL)])
def start_page(request: Request, name: str) -> Response:
    """What Train or Predict would do, with its button (and the runs still going, if any)."""
    return _start_page(request, name, KINDS[request.url.path.rsplit("/", 1)[1]])


@router.post("/models/{name}/train", dependencies=[allow(Action.CHANGE_MODEL)])
def train(request: Request, name: str, again: Annotated[str, Form()] = "") -> Response:
    return _start(request, name, RunKind.TRAIN, again)


@router.post("/models/{name}/predict", dependencies=[allow(Action.CHANGE_MODEL)])
def predict(request: Request, name: str, again: Annotated[str, Form()] = "") -> Response:
    return _start(request, name, RunKind.PREDICT, again)


@router.post("/models/{name}/stop", dependencies=[allow(Action.CHANGE_MODEL)])
def stop(request: Request, name: str) -> Response:
    """Stop every run of the model that is still queued or running."""
    ctx = ctx_of(request)
    models_svc.get_model(ctx, name)
    too_late = None  # a training that had already stored its version: said as information, not an error
    try:
        for run in runs_svc.going_runs(ctx, name):
            too_late = runs_svc.stop_or_too_late(ctx, run.id, executor_of(request)) or too_late
    except SoftqueryError as exc:
        if not is_htmx(request):
            raise
        return _card(request, name, card_error=exc.message, status=exc.http_status)
    if is_htmx(request):
        return _card(request, name, too_late=too_late)
    if too_late:  # without htmx: the model page's card says it
        return RedirectResponse(f"/models/{name}?too_late={too_late}", status_code=303)
    return RedirectResponse(f"/#model-{name}", status_code=303)


@router.post("/demo", dependencies=[allow(Action.ADMIN)])
def load_demo(request: Request) -> Response:
    demo_svc.create_demo(ctx_of(request))
    return RedirectResponse("/?notice=demo", status_code=303)
