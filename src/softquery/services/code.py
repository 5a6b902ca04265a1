"""Use cases for model code: static checks and templates. Nothing here executes user code."""

from __future__ import annotations

from dataclasses import dataclass

from softquery.modelcode.checks import CodeProblem, check_code
from softquery.modelcode.template_search_spaces import template_parameters
from softquery.modelcode.templates import TemplateInfo, list_templates
from softquery.modelcode.templates import template_code as _template_code

__all__ = ["CodeProblem", "TemplateDetail", "TemplateInfo", "check_model_code", "get_template", "template_code",
           "templates", "search_parameters"]


@dataclass(frozen=True)
class TemplateDetail:
    info: TemplateInfo
    code: str
    search_parameters: list[dict[str, object]]


def check_model_code(code: str) -> list[CodeProblem]:
    """Syntax, ``class Model`` and method-signature problems, each at its line (compile + ast only)."""
    return check_code(code)


def templates() -> list[TemplateInfo]:
    return list_templates()


def template_code(name: str) -> str:
    """The Python source of one template, as shown in the model editor; ``NotFoundError``
    lists the available names."""
    return _template_code(name)


def get_template(name: str) -> TemplateDetail:
    """One template with its code; ``NotFoundError`` lists the available names."""
    code = template_code(name)
    info = next(t for t in list_templates() if t.name == name)
    return TemplateDetail(info=info, code=code, search_parameters=search_parameters(name))


def search_parameters(name: str) -> list[dict[str, object]]:
    """The template's parameters a hyperparameter search may name (name, call, keyword, type,
    default range and grid)."""
    return [p.as_dict() for p in template_parameters(name)]
