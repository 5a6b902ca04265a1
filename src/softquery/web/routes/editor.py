"""The model editor: create and change a model (duplicate and delete: ``copy_and_delete``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.domain import DeployStrategy, RunKind, WriteMode
from softquery.errors import SoftqueryError
from softquery.http.route_policies import allow
from softquery.services import code as code_svc
from softquery.services import models as models_svc
from softquery.services import preview as preview_svc
from softquery.services import sources as sources_svc
from softquery.web.deps import ctx_of, page_router
from softquery.web.forms import SCHEDULE_PRESETS, EditorForm, FormErrors, errors_of, to_spec
from softquery.web.templating import render

router = page_router()
PREVIEW_ROWS = 10


@lru_cache(maxsize=1)
def _timezones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


@lru_cache(maxsize=1)
def _templates() -> list[dict[str, str]]:
    return [{"name": t.name, "title": t.title, "description": t.description, "task": t.task,
             "code": code_svc.template_code(t.name)} for t in code_svc.templates()]


def _editor(request: Request, form: EditorForm, *, creating: bool, errors: FormErrors | None = None,
            status_code: int = 200, extra: dict[str, Any] | None = None) -> Response:
    ctx = ctx_of(request)
    errors = errors or FormErrors()
    problems = errors.code_problems or [p.to_dict() for p in code_svc.check_model_code(form.code)]
    return render(request, "editor.html", {
        "nav": "create" if creating else "models", "creating": creating, "form": form,
        "errors": errors, "code_problems": problems, "sources": sources_svc.list_sources(ctx),
        "templates": _templates(), "write_modes": [w.value for w in WriteMode],
        "deploys": [d.value for d in DeployStrategy], "actions": [k.value for k in RunKind],
        "presets": SCHEDULE_PRESETS, "timezones": _timezones(), **(extra or {}),
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
    try:
        models_svc.create_model(ctx, form.name.strip(), to_spec(form, updating=False))
    except SoftqueryError as exc:
        return _editor(request, form, creating=True, errors=errors_of(exc))
    return RedirectResponse(f"/models/{form.name.strip()}?saved=1", status_code=303)


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
    return RedirectResponse(f"/models/{name}/edit?saved=1", status_code=303)


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
