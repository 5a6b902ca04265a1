"""The front page: every model with its status, Train / Predict / Stop, last run and logs."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.domain import RunKind, RunTrigger
from softquery.http.route_policies import allow
from softquery.services import demo as demo_svc
from softquery.services import models as models_svc
from softquery.services import runs as runs_svc
from softquery.web.deps import ctx_of, executor_of, page_router
from softquery.web.summaries import model_card
from softquery.web.templating import is_htmx, render

router = page_router()


@router.get("/", dependencies=[allow(Action.READ)])
@router.get("/models", dependencies=[allow(Action.READ)])
def models_page(request: Request) -> Response:
    ctx = ctx_of(request)
    cards = [model_card(ctx, m) for m in models_svc.list_models(ctx)]
    return render(request, "models.html", {
        "nav": "models", "cards": cards, "demo_exists": demo_svc.demo_exists(ctx),
        "has_executor": executor_of(request) is not None,
        "notice": request.query_params.get("notice"),
    })


def _card(request: Request, name: str, *, status_code: int = 200) -> Response:
    ctx = ctx_of(request)
    card = model_card(ctx, models_svc.get_model(ctx, name))
    return render(request, "partials/model_card.html",
                  {"card": card, "has_executor": executor_of(request) is not None},
                  status_code=status_code)


@router.get("/models/{name}/card", dependencies=[allow(Action.READ)])
def model_card_fragment(request: Request, name: str) -> Response:
    """The live part of the front page: polled every 2 s while a run is queued or running."""
    return _card(request, name)


def _start(request: Request, name: str, kind: RunKind) -> Response:
    ctx = ctx_of(request)
    runs_svc.start_run(ctx, name, kind, RunTrigger.WEB, executor_of(request))
    if is_htmx(request):
        return _card(request, name)
    return RedirectResponse(f"/#model-{name}", status_code=303)


@router.post("/models/{name}/train", dependencies=[allow(Action.CHANGE_MODEL)])
def train(request: Request, name: str) -> Response:
    return _start(request, name, RunKind.TRAIN)


@router.post("/models/{name}/predict", dependencies=[allow(Action.CHANGE_MODEL)])
def predict(request: Request, name: str) -> Response:
    return _start(request, name, RunKind.PREDICT)


@router.post("/models/{name}/stop", dependencies=[allow(Action.CHANGE_MODEL)])
def stop(request: Request, name: str) -> Response:
    """Stop the model's newest run if it is still queued or running."""
    ctx = ctx_of(request)
    models_svc.get_model(ctx, name)
    for run in runs_svc.list_runs(ctx, name, None, 20):
        if not run.status.finished:
            runs_svc.stop_run(ctx, run.id, executor_of(request))
    if is_htmx(request):
        return _card(request, name)
    return RedirectResponse(f"/#model-{name}", status_code=303)


@router.post("/demo", dependencies=[allow(Action.ADMIN)])
def load_demo(request: Request) -> Response:
    demo_svc.create_demo(ctx_of(request))
    return RedirectResponse("/?notice=demo", status_code=303)
