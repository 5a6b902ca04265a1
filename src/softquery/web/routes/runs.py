"""Runs: all runs with filters, one run with its error, traceback and a live log tail."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.domain import Model, RunStatus
from softquery.errors import InvalidInputError, NotFoundError
from softquery.http.route_policies import allow
from softquery.services import models as models_svc
from softquery.services import runs as runs_svc
from softquery.web.deps import ctx_of, executor_of, page_router
from softquery.web.templating import is_htmx, render

router = page_router()
RUNS_SHOWN = 200


def _status(value: str) -> RunStatus | None:
    if not value:
        return None
    try:
        return RunStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in RunStatus)
        raise InvalidInputError(f"Status {value!r} is not a run status; choose one of: {choices}.") from None


@router.get("/runs", dependencies=[allow(Action.READ)])
def runs_page(request: Request, model: str = "", status: str = "") -> Response:
    ctx = ctx_of(request)
    runs = runs_svc.list_runs(ctx, model or None, _status(status), RUNS_SHOWN)
    filtered = bool(model or status)
    context = {
        "nav": "runs", "runs": runs, "show_model": True, "model": model, "status": status,
        "models": [m.name for m in models_svc.list_models(ctx)], "statuses": [s.value for s in RunStatus],
        "live": any(not r.status.finished for r in runs),
        "empty_text": "No runs match these filters." if filtered else
        "No runs yet. Press Train on a model on the Models page to start one.",
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "runs-list":
        return render(request, "partials/runs_list.html", context)
    return render(request, "runs.html", context)


def _run_context(request: Request, run_id: str, too_late: int | None = None,
                 ended: str | None = None) -> dict[str, object]:
    """``too_late``: a stop came after the training stored this version (said as information, and
    kept while the part is polled, so the person sees the run finish)."""
    ctx = ctx_of(request)
    run = runs_svc.get_run(ctx, run_id)
    try:
        run_model: Model | None = models_svc.get_model(ctx, run.model)  # its owner may stop the run
    except NotFoundError:
        run_model = None
    return {"nav": "runs", "run": run, "run_model": run_model, "live": not run.status.finished,
            "has_executor": executor_of(request) is not None, "too_late": too_late,
            "stop_notice": runs_svc.too_late_words(too_late) if too_late else None,
            "ended_notice": ended}


@router.get("/runs/{run_id}", dependencies=[allow(Action.READ)])
def run_page(request: Request, run_id: str, too_late: int | None = None, ended: str = "") -> Response:
    """``ended``: a Stop without htmx found the run already ended (said as information)."""
    run = runs_svc.get_run(ctx_of(request), run_id)
    words = runs_svc.ended_words(run.id, run.status) if ended and run.status.finished else None
    return render(request, "run.html", _run_context(request, run_id, too_late, words))


@router.get("/runs/{run_id}/live", dependencies=[allow(Action.READ)])
def run_live(request: Request, run_id: str, too_late: int | None = None) -> Response:
    """The status, error and log part of a run page; polled every 2 s until the run finishes."""
    return render(request, "partials/run_live.html", _run_context(request, run_id, too_late))


@router.post("/runs/{run_id}/stop", dependencies=[allow(Action.CHANGE_MODEL)])
def stop_run(request: Request, run_id: str) -> Response:
    ctx = ctx_of(request)
    run = runs_svc.get_run(ctx, run_id)
    if run.status.finished:  # nothing to stop: say so, the status stays as it was
        if is_htmx(request):
            return render(request, "partials/run_live.html",
                          _run_context(request, run_id, ended=runs_svc.ended_words(run.id, run.status)))
        return RedirectResponse(f"/runs/{run_id}?ended=1", status_code=303)
    too_late = runs_svc.stop_or_too_late(ctx, run_id, executor_of(request))
    if is_htmx(request):
        return render(request, "partials/run_live.html", _run_context(request, run_id, too_late))
    return RedirectResponse(f"/runs/{run_id}" + (f"?too_late={too_late}" if too_late else ""), status_code=303)
