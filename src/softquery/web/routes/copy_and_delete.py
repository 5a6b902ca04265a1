"""Duplicate a model (also one the user may not change: the copy is theirs) and delete one
(after a confirmation page). Both are pages of their own, so reloading them shows the form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.errors import AlreadyExistsError, SoftqueryError
from softquery.http.route_policies import allow
from softquery.services import models as models_svc
from softquery.web.deps import ctx_of, page_router
from softquery.web.templating import render

router = page_router()


def _duplicate_page(request: Request, name: str, *, new_name: str | None = None, error: str | None = None,
                    suggestion: str | None = None) -> Response:
    ctx = ctx_of(request)
    model = models_svc.get_model(ctx, name)
    return render(request, "duplicate.html", {
        "nav": "models", "model": model, "new_name": models_svc.suggest_copy_name(ctx, name)
        if new_name is None else new_name, "errors": {"new_name": error} if error else {},
        "suggestion": suggestion})


@router.get("/models/{name}/duplicate", dependencies=[allow(Action.CREATE_MODEL)])
def duplicate_form(request: Request, name: str) -> Response:
    """The copy's name, prefilled with a free one (``name_copy``, ``name_copy_2`` …)."""
    return _duplicate_page(request, name)


@router.post("/models/{name}/duplicate", dependencies=[allow(Action.CREATE_MODEL)])
def duplicate_model(request: Request, name: str, new_name: Annotated[str, Form()] = "") -> Response:
    ctx = ctx_of(request)
    models_svc.get_model(ctx, name)
    wanted = new_name.strip()
    try:
        models_svc.duplicate_model(ctx, name, wanted)
    except AlreadyExistsError:
        free = models_svc.suggest_copy_name(ctx, name, taken=wanted)
        return _duplicate_page(request, name, new_name=new_name, suggestion=free,
                               error=f"A model named {wanted} already exists. Choose another name, "
                                     f"for example {free}.")
    except SoftqueryError as exc:
        return _duplicate_page(request, name, new_name=new_name, error=exc.message)
    return RedirectResponse(f"/models/{wanted}/edit?saved=copied", status_code=303)


@router.get("/models/{name}/delete", dependencies=[allow(Action.CHANGE_MODEL)])
def confirm_delete(request: Request, name: str) -> Response:
    model = models_svc.get_model(ctx_of(request), name)
    return render(request, "confirm_delete.html", {"nav": "models", "model": model})


@router.post("/models/{name}/delete", dependencies=[allow(Action.CHANGE_MODEL)])
def delete_model(request: Request, name: str, confirm: Annotated[str, Form()] = "") -> Response:
    ctx = ctx_of(request)
    model = models_svc.get_model(ctx, name)
    if confirm != name:
        return render(request, "confirm_delete.html", {"nav": "models", "model": model})
    models_svc.delete_model(ctx, name)
    return RedirectResponse("/?notice=deleted", status_code=303)
