"""API tokens: created per user, shown once, stored hashed, with expiry, scope, revocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from softquery.auth import credentials
from softquery.clock import utcnow
from softquery.domain.accounts import ApiToken, Principal, Role, TokenScope, Via
from softquery.errors import InvalidInputError, NotFoundError
from softquery.identifiers import check_identifier
from softquery.services import audit
from softquery.services.context import ServiceContext
from softquery.services.numbers import check_number

MAX_DAYS = 3660
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: str  # the secret: shown once, never stored
    info: ApiToken


def parse_scope(value: str) -> TokenScope:
    try:
        return TokenScope(value.lower())
    except ValueError:
        raise InvalidInputError(f"{value!r} is not a token scope; choose predict or full.",
                                details={"field": "scope"}) from None


def create_token(ctx: ServiceContext, username: str, *, name: str = "", scope: TokenScope = TokenScope.FULL,
                 models: list[str] | None = None, days: int | None = None,
                 parent_token_id: int | None = None) -> NewToken:
    """A new token for ``username``; ``models`` limits a ``predict`` token to those models.

    ``parent_token_id``: the token this request came with (a token made with a token). The
    new one expires no later than its parent and stops working when the parent is revoked,
    so a token cannot outlive its own revocation through the tokens it made."""
    user = ctx.users.get(username)
    days = ctx.settings.token_days if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"A token lives 1 to {MAX_DAYS} days; {days} is out of range.",
                                details={"field": "days"})
    if models is not None:
        if scope is not TokenScope.PREDICT:
            raise InvalidInputError("Only a `predict` token can be limited to named models.",
                                    details={"field": "models"})
        if not models:
            raise InvalidInputError("Name at least one model for this `predict` token, or leave the list out "
                                    "to let it call every model.", details={"field": "models"})
        models = sorted({check_identifier(m, "model name") for m in models})
        _check_models_exist(ctx, models)
    expires_at = utcnow() + timedelta(days=days)
    if parent_token_id is not None:
        expires_at = min(expires_at, ctx.tokens.get(parent_token_id).expires_at)
    token, prefix = credentials.new_api_token()
    info = ctx.tokens.add(user.id, name.strip()[:100] or f"token {prefix}", prefix, credentials.digest(token),
                          scope, models, expires_at, parent_id=parent_token_id)
    audit.record(ctx, "token.create", "token", f"{info.id} ({info.prefix})",
                 {"user": username, "scope": scope.value, "models": models, "days": days})
    return NewToken(token, info)


def create_model_token(ctx: ServiceContext, username: str, model: str, *,
                       parent_token_id: int | None = None) -> NewToken:
    """A ``predict`` token of ``username`` limited to ``model`` (the model page's button),
    named after the model, with the server's usual lifetime."""
    return create_token(ctx, username, name=f"{model}: predict (model page)", scope=TokenScope.PREDICT,
                        models=[model], parent_token_id=parent_token_id)


def _check_models_exist(ctx: ServiceContext, names: list[str]) -> None:
    """404 naming every model in ``names`` that does not exist (a typo would make a useless token)."""
    known = {m.name for m in ctx.models.list()}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(repr(n) for n in unknown)
        what = f"is no model named {listed}" if len(unknown) == 1 else f"are no models named {listed}"
        raise NotFoundError(f"There {what}, so no token was created. See `softquery model list`.",
                            details={"field": "models", "models": unknown})


def list_tokens(ctx: ServiceContext, username: str | None = None) -> list[ApiToken]:
    user_id = ctx.users.get(username).id if username else None
    return ctx.tokens.list(user_id)


def revoke_token(ctx: ServiceContext, token_id: int) -> ApiToken:
    """Revoke a token; anyone but an admin may revoke only their own.

    Someone else's token is "not found", in the very words of a missing one (no leak)."""
    actor = ctx.actor
    check_number(token_id, "Token ids", "token")
    try:
        token = ctx.tokens.get(token_id)
    except NotFoundError:
        token = None
    if token is None or (actor.role is not Role.ADMIN and token.user_id != actor.user_id):
        raise NotFoundError(f"There is no API token with id {token_id}. See `softquery token list`.",
                            details={"token": token_id})
    if token.revoked_at is not None:
        return token  # already revoked: nothing changes, nothing to record
    ctx.tokens.revoke(token_id, utcnow())
    audit.record(ctx, "token.revoke", "token", f"{token.id} ({token.prefix})", {"user": token.username})
    return ctx.tokens.get(token_id)


def _parents_valid(ctx: ServiceContext, info: ApiToken, now: datetime) -> bool:
    parent_id, depth = info.parent_id, 0
    while parent_id is not None and depth < 100:
        try:
            parent = ctx.tokens.get(parent_id)
        except NotFoundError:
            return False
        if parent.revoked_at is not None or parent.expires_at <= now:
            return False
        parent_id, depth = parent.parent_id, depth + 1
    return parent_id is None


def token_principal(ctx: ServiceContext, token: str) -> Principal | None:
    """The principal a bearer token stands for; None when unknown, expired, revoked or disabled."""
    if not token.startswith(credentials.TOKEN_PREFIX) or len(token) > 200:
        return None
    found = ctx.tokens.find(credentials.digest(token))
    if found is None:
        return None
    info, user = found
    now = utcnow()
    if info.revoked_at is not None or info.expires_at <= now or not user.active:
        return None
    if not _parents_valid(ctx, info, now):
        return None
    if info.last_used_at is None or now - info.last_used_at > TOUCH_EVERY:
        ctx.tokens.touch(info.id, now)
    return Principal(username=user.username, role=user.role, via=Via.TOKEN, user_id=user.id,
                     scope=info.scope, models=frozenset(info.models) if info.models is not None else None,
                     token_id=info.id)
