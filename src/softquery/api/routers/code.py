"""Model code: templates and the static check (compile + ast; code is never executed)."""

from __future__ import annotations

from fastapi import APIRouter

from softquery.api.schemas.code import (
    CodeCheckPublic,
    CodeCheckRequest,
    TemplateDetailPublic,
    TemplatePublic,
)
from softquery.auth.policy import Action
from softquery.http.route_policies import allow
from softquery.services import code as svc

router = APIRouter()


@router.get("/templates", response_model=list[TemplatePublic], tags=["templates"], dependencies=[allow(Action.READ)])
def list_templates() -> list[TemplatePublic]:
    return [TemplatePublic.of(t) for t in svc.templates()]


@router.get("/templates/{name}", response_model=TemplateDetailPublic, tags=["templates"], dependencies=[allow(Action.READ)])
def get_template(name: str) -> TemplateDetailPublic:
    found = svc.get_template(name)
    return TemplateDetailPublic(**TemplatePublic.of(found.info).model_dump(), code=found.code,
                                search_parameters=found.search_parameters)


@router.post("/code/check", response_model=CodeCheckPublic, tags=["code"], dependencies=[allow(Action.EDIT)])
def check_code(body: CodeCheckRequest) -> CodeCheckPublic:
    """Syntax, `class Model` and signature problems at their lines; 200 even when there are some."""
    return CodeCheckPublic.of(svc.check_model_code(body.code))
