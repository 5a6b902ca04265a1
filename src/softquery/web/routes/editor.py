"""The model editor: create and change a model (Save & Train / Save & Predict, its last-run
panel); duplicate and delete are in ``copy_and_delete``."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.domain import DeployStrategy, Model, RunKind, RunTrigger, WriteMode
from softquery.errors import SoftqueryError
from softquery.http.route_policies import allow
from softquery.services import code as code_svc
from softquery.services import models as models_svc
from softquery.services import preview as preview_svc
from softquery.services import runs as runs_svc
from softquery.services import sources as sources_svc
from softquery.services.model_selection import search_rows
from softquery.web.deps import ctx_of, executor_of, page_router
from softquery.web.forms import (
    SCHEDULE_PRESETS,
    THEN_RUN,
    EditorForm,
    FormErrors,
    errors_of,
    to_spec,
)
from softquery.web.summaries import is_active, last_run
from softquery.web.templating import render

router = page_router()
PREVIEW_ROWS = 10


@lru_cache(maxsize=1)
def _timezones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


@lru_cache(maxsize=1)
def _templates() -> list[dict[str, Any]]:
    """Each template for the editor's picker: its code, and its search parameters (name and hint),
    whose rows the search form shows when the template is chosen."""
    out: list[dict[str, Any]] = []
    for t in code_svc.templates():
        code = code_svc.template_code(t.name)
        out.append({"name": t.name, "title": t.title, "description": t.description, "task": t.task, "code": code,
                    "search": [{"name": r.name, "hint": r.hint} for r in search_rows(code, t.name, None) if r.name]})
    return out


def _default_folds(server_folds: int) -> str:
    """What an empty folds field means on this server (SOFTQUERY_CV_FOLDS): "5", or "off" for 0 or 1."""
    return str(server_folds) if server_folds >= 2 else "off"


def _run_panel(request: Request, model: Model) -> dict[str, Any]:
    """What the editor's last-run panel shows (partials/editor_run.html)."""
    run = last_run(ctx_of(request), model.name)
    return {"model": model, "run": run, "live": is_active(run), "has_executor": executor_of(request) is not None}


def _editor(request: Request, form: EditorForm, *, creating: bool, errors: FormErrors | None = None,
            status_code: int = 200, extra: dict[str, Any] | None = None) -> Response:
    ctx = ctx_of(request)
    errors = errors or FormErrors()
    if not creating:
        extra = {**_run_panel(request, models_svc.get_model(ctx, form.name)), **(extra or {})}
    problems = errors.code_problems or [p.to_dict() for p in code_svc.check_model_code(form.code)]
    return render(request, "editor.html", {
        "nav": "create" if creating else "models", "creating": creating, "form": form,
        "errors": errors, "code_problems": problems, "sources": sources_svc.list_sources(ctx),
        "templates": _templates(), "write_modes": [w.value for w in WriteMode],
        "deploys": [d.value for d in DeployStrategy], "actions": [k.value for k in RunKind],
        "presets": SCHEDULE_PRESETS, "timezones": _timezones(), "default_folds": _default_folds(ctx.settings.cv_folds),
        **(extra or {}),
    }, status_code=status_code)


@router.get("/new", dependencies=[allow(Action.CREATE_MODEL)])
def new_model(request: Request, template: str = "linear_regression") -> Response:
    ctx = ctx_of(request)
    sources = sources_svc.list_sources(ctx)
    known = {t["name"]: t["code"] for t in _templates()}
    form = EditorForm(source=sources[0].name if len(sources) == 1 else "",
                      template=template if template in known else "",
                      code=known.get(template, ""))
    return _editor(request, form, creating=True)


@router.post("/new", dependencies=[allow(Action.CREATE_MODEL)])
def create_model(request: Request, form: Annotated[EditorForm, Form()]) -> Response:
    ctx = ctx_of(request)
    name = form.name.strip()
    try:
        models_svc.create_model(ctx, name, to_spec(form, updating=False))
    except SoftqueryError as exc:
        return _editor(request, form, creating=True, errors=errors_of(exc))
    if form.then in THEN_RUN:  # Save & Train: the editor is where the run is watched
        return _start_after_save(request, name, form.then)
    return RedirectResponse(f"/models/{name}?saved=1", status_code=303)


def _start_after_save(request: Request, name: str, then: str) -> Response:
    """Save & Train / Save & Predict: the model is saved; start the run, back to the editor."""
    ctx = ctx_of(request)
    try:
        runs_svc.start_run(ctx, name, THEN_RUN[then], RunTrigger.WEB, executor_of(request))
    except SoftqueryError as exc:
        model = models_svc.get_model(ctx, name)
        return _editor(request, EditorForm.of(model), creating=False, extra={"saved": "1"},
                       errors=FormErrors(general=f"The run did not start: {exc.message}"))
    return RedirectResponse(f"/models/{name}/edit?saved=1", status_code=303)


@router.get("/models/{name}/edit", dependencies=[allow(Action.CHANGE_MODEL)])
def edit_model(request: Request, name: str) -> Response:
    model = models_svc.get_model(ctx_of(request), name)
    return _editor(request, EditorForm.of(model), creating=False,
                   extra={"saved": request.query_params.get("saved")})


@router.post("/models/{name}/edit", dependencies=[allow(Action.CHANGE_MODEL)])
def update_model(request: Request, name: str, form: Annotated[EditorForm, Form()]) -> Response:
    ctx = ctx_of(request)
    models_svc.get_model(ctx, name)
    form.name = name
    try:
        models_svc.update_model(ctx, name, to_spec(form, updating=True))
    except SoftqueryError as exc:
        return _editor(request, form, creating=False, errors=errors_of(exc))
    if form.then in THEN_RUN:
        return _start_after_save(request, name, form.then)
    return RedirectResponse(f"/models/{name}/edit?saved=1", status_code=303)


@router.get("/models/{name}/edit/run", dependencies=[allow(Action.READ)])
def editor_run(request: Request, name: str) -> Response:
    """The editor's last-run panel: polled every 2 s while the run is queued or running."""
    model = models_svc.get_model(ctx_of(request), name)
    return render(request, "partials/editor_run.html", _run_panel(request, model))


@router.post("/editor/preview", dependencies=[allow(Action.EDIT)])
def preview(request: Request, form: Annotated[EditorForm, Form()]) -> Response:
    """First rows and column types of both queries, and the label/ids/features training would use."""
    if not form.source:
        return render(request, "partials/preview.html",
                      {"problem": "Choose a data source first; the queries run on it."})
    result = preview_svc.preview_model(ctx_of(request), form.source, form.train_sql, form.predict_sql,
                                       label=form.label.strip() or None,
                                       id_columns=form.id_column_list() or None, limit=PREVIEW_ROWS)
    return render(request, "partials/preview.html", {"preview": result, "form": form})
