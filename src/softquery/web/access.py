"""Who is looking at a page, and what the page may offer them.

Templates ask ``can("change_model", model)`` and get the answer of the same
``softquery.auth.policy.decide`` the server enforces with, so a control is shown
exactly when pressing it would be allowed. ``csrf_field()`` is the hidden input
every state-changing form carries (empty for bearer-token requests, which need none).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from jinja2 import pass_context
from markupsafe import Markup, escape

from softquery.auth.policy import Action, decide
from softquery.domain import Model
from softquery.domain.accounts import Principal, Role
from softquery.http.authentication import CSRF_FIELD

ROLE_RULE = ("Viewers read; editors create models and change the models they own; "
             "admins do everything, including users, data sources and the audit log.")


def principal_of(request: Request) -> Principal | None:
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal


def allowed(principal: Principal | None, action: Action, model: Model | None = None) -> bool:
    if principal is None:
        return False
    return decide(principal, action, model=model.name if model else None,
                  owner_id=model.owner_id if model else None).allowed


def csrf_token_of(request: Request) -> str:
    principal = principal_of(request)
    return (principal.csrf_token or "") if principal is not None else ""


@pass_context
def can(context: Any, action: str, model: Model | None = None) -> bool:
    """``{% if can("change_model", m) %}``: may the viewer of this page do ``action``?"""
    return allowed(principal_of(context["request"]), Action(action), model)


@pass_context
def csrf_field(context: Any) -> Markup:
    """The hidden ``csrf_token`` input of a state-changing form."""
    token = csrf_token_of(context["request"])
    if not token:
        return Markup("")
    return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')


def is_admin(principal: Principal | None) -> bool:
    return principal is not None and principal.role is Role.ADMIN
