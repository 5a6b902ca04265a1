"""One's own account: password, and API tokens (created and shown once, listed, revoked)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from softquery.auth.policy import Action
from softquery.domain.accounts import TokenScope, Via
from softquery.errors import SoftqueryError
from softquery.http.authentication import set_session_cookie
from softquery.http.route_policies import allow
from softquery.services import accounts
from softquery.services import models as models_svc
from softquery.services import tokens as tokens_svc
from softquery.services.numbers import MAX_STORED_NUMBER
from softquery.web.access import principal_of
from softquery.web.account_forms import TokenForm, change_password, token_days
from softquery.web.deps import ctx_of, page_router
from softquery.web.plain_words import plain
from softquery.web.templating import render

router = page_router()
NOTICES = {"password": "Your password is set. Use it with your username on the login page from now on.",
           "revoked": "The token is revoked: requests with it now get 401."}


def _username(request: Request) -> str:
    principal = principal_of(request)
    assert principal is not None  # allow() ran
    return principal.username


def _page(request: Request, **extra: Any) -> Response:
    """The account page (a refused form re-renders it with 200 and the error by its field,
    like the editor: the browser logs no failed request)."""
    ctx = ctx_of(request)
    username = _username(request)
    tokens = tokens_svc.list_tokens(ctx, username)
    principal = principal_of(request)
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "nav": "account", "user": accounts.get_user(ctx, username), "tokens": tokens,
        "expired_ids": {t.id for t in tokens if t.expires_at <= now},
        "model_names": [m.name for m in models_svc.list_models(ctx)],
        "scopes": [s.value for s in TokenScope], "default_days": ctx.settings.token_days,
        "welcome": request.query_params.get("welcome") == "1",
        "resetting": principal is not None and principal.password_reset,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        "password_errors": {}, "token_errors": {}, "token_form": TokenForm(), "new_token": None,
    }
    context.update(extra)
    return render(request, "account.html", context)


@router.get("/account", dependencies=[allow(Action.OWN_ACCOUNT)])
def account_page(request: Request) -> Response:
    return _page(request)


@router.post("/account/password", dependencies=[allow(Action.OWN_ACCOUNT)])
def set_password(request: Request, current_password: Annotated[str, Form()] = "",
                 new_password: Annotated[str, Form()] = "",
                 confirm_password: Annotated[str, Form()] = "") -> Response:
    ctx = ctx_of(request)
    try:
        change_password(ctx, _username(request), current_password, new_password, confirm_password)
    except SoftqueryError as exc:
        field = str(exc.details.get("field") or "new_password")
        return _page(request, password_errors={field: plain(exc.message)})
    response = RedirectResponse("/account?notice=password", status_code=303)
    principal = principal_of(request)
    if principal is not None and principal.via is Via.SESSION:
        # the change ended every session of this user (other browsers too); this one goes on
        set_session_cookie(response, request, accounts.open_session(ctx, principal.username, "password_change"))
    return response


@router.post("/account/tokens", dependencies=[allow(Action.OWN_ACCOUNT)])
def create_token(request: Request, name: Annotated[str, Form()] = "",
                 scope: Annotated[str, Form()] = TokenScope.PREDICT.value,
                 models: Annotated[list[str] | None, Form()] = None,
                 days: Annotated[str, Form()] = "") -> Response:
    """Create a token and show it once (in this response only: never in a URL, never stored)."""
    ctx = ctx_of(request)
    form = TokenForm(name=name, scope=scope, models=tuple(m for m in (models or []) if m), days=days)
    try:
        parsed = tokens_svc.parse_scope(scope)
        limit = list(form.models) if parsed is TokenScope.PREDICT and form.models else None
        new = tokens_svc.create_token(ctx, _username(request), name=name, scope=parsed, models=limit,
                                      days=token_days(form, ctx.settings.token_days))
    except SoftqueryError as exc:
        field = str(exc.details.get("field") or "name")
        return _page(request, token_errors={field: plain(exc.message)}, token_form=form)
    response = _page(request, new_token=new)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke", dependencies=[allow(Action.OWN_ACCOUNT)])
def revoke_token(request: Request, token_id: Annotated[int, Path(ge=1, le=MAX_STORED_NUMBER)]) -> Response:
    tokens_svc.revoke_token(ctx_of(request), token_id)
    return RedirectResponse("/account?notice=revoked#tokens", status_code=303)
