"""Admin pages: people (add, role, disable/enable, one-time login links) and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.domain.accounts import Role
from softquery.errors import SoftqueryError
from softquery.http.route_policies import allow
from softquery.services import accounts
from softquery.services import audit as audit_svc
from softquery.web.deps import ctx_of, page_router
from softquery.web.plain_words import plain
from softquery.web.templating import render

router = page_router()
AUDIT_PAGE = 50
KNOWN_ACTIONS = ("model.create", "model.update", "model.delete", "model.duplicate", "model.schedule",
                 "model.set_owner", "model.train", "model.predict", "version.activate", "run.stop",
                 "source.add", "source.remove", "user.add", "user.set_role", "user.disable", "user.enable",
                 "user.set_password", "user.login_link", "token.create", "token.revoke",
                 "session.login", "session.logout")
NOTICES = {"role": "Role changed for {name}.", "disabled": "{name} is disabled: their sessions ended and "
           "their API tokens stopped working.", "enabled": "{name} may log in again."}


def _users_page(request: Request, **extra: Any) -> Response:
    """The users page; a refused form re-renders it (200) with the error on top."""
    notice = NOTICES.get(request.query_params.get("notice", ""), "")
    context: dict[str, Any] = {
        "nav": "users", "users": accounts.list_users(ctx_of(request)), "roles": [r.value for r in Role],
        "notice": notice.format(name=request.query_params.get("name", "")) if notice else None,
        "error": None, "errors": {}, "new_link": None, "form_username": "", "form_role": Role.EDITOR.value,
    }
    context.update(extra)
    return render(request, "admin_users.html", context)


def _with_link(request: Request, username: str, secret: str, *, added: bool) -> Response:
    settings = ctx_of(request).settings
    # SOFTQUERY_PUBLIC_URL when set: the Host header of this request is the client's to choose
    link = accounts.login_url(settings.public_url or str(request.base_url), secret)
    response = _users_page(request, new_link={"username": username, "url": link, "added": added,
                                              "hours": f"{settings.login_link_hours:g}"})
    response.headers["Cache-Control"] = "no-store"  # the link is a credential
    return response


@router.get("/admin/users", dependencies=[allow(Action.ADMIN)])
def users_page(request: Request) -> Response:
    return _users_page(request)


@router.post("/admin/users", dependencies=[allow(Action.ADMIN)])
def add_user(request: Request, username: Annotated[str, Form()] = "",
             role: Annotated[str, Form()] = Role.EDITOR.value) -> Response:
    """Add a user without a password and show their one-time login link (here, once)."""
    ctx = ctx_of(request)
    try:
        user = accounts.add_user(ctx, username.strip(), accounts.parse_role(role))
        secret = accounts.new_login_link(ctx, user.username)
    except SoftqueryError as exc:
        field = "role" if exc.details.get("field") == "role" else "username"
        return _users_page(request, errors={field: plain(exc.message)}, form_username=username, form_role=role)
    return _with_link(request, user.username, secret, added=True)


@router.post("/admin/users/{username}/role", dependencies=[allow(Action.ADMIN)])
def set_role(request: Request, username: str, role: Annotated[str, Form()] = "") -> Response:
    try:
        accounts.set_role(ctx_of(request), username, accounts.parse_role(role))
    except SoftqueryError as exc:
        return _users_page(request, error=plain(exc.message))
    return RedirectResponse(f"/admin/users?notice=role&name={username}", status_code=303)


@router.post("/admin/users/{username}/disable", dependencies=[allow(Action.ADMIN)])
def disable(request: Request, username: str) -> Response:
    try:
        accounts.disable_user(ctx_of(request), username)
    except SoftqueryError as exc:
        return _users_page(request, error=plain(exc.message))
    return RedirectResponse(f"/admin/users?notice=disabled&name={username}", status_code=303)


@router.post("/admin/users/{username}/enable", dependencies=[allow(Action.ADMIN)])
def enable(request: Request, username: str) -> Response:
    accounts.enable_user(ctx_of(request), username)
    return RedirectResponse(f"/admin/users?notice=enabled&name={username}", status_code=303)


@router.post("/admin/users/{username}/link", dependencies=[allow(Action.ADMIN)])
def new_link(request: Request, username: str) -> Response:
    """A new one-time login link (for a new colleague, or someone who forgot their password)."""
    try:
        secret = accounts.new_login_link(ctx_of(request), username)
    except SoftqueryError as exc:
        return _users_page(request, error=plain(exc.message))
    return _with_link(request, username, secret, added=False)


@router.get("/admin/audit", dependencies=[allow(Action.ADMIN)])
def audit_page(request: Request, actor: str = "", target: str = "", action: str = "",
               page: Annotated[int, Query(ge=1, le=10**9)] = 1) -> Response:
    events = audit_svc.list_events(ctx_of(request), limit=AUDIT_PAGE + 1, offset=(page - 1) * AUDIT_PAGE,
                                   actor=actor.strip() or None, target=target.strip() or None,
                                   action=action.strip() or None)
    filters = {"actor": actor.strip(), "target": target.strip(), "action": action.strip()}
    return render(request, "admin_audit.html", {
        "nav": "audit", "events": events[:AUDIT_PAGE], "has_next": len(events) > AUDIT_PAGE,
        "page": page, "filters": filters, "filtered": any(filters.values()), "known_actions": KNOWN_ACTIONS,
    })
