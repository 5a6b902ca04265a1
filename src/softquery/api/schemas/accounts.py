"""Accounts: who am I, API tokens, users, the audit log.

Secrets never appear in a response, except once: the new token in ``TokenCreated``
and the one-time login link in ``UserCreated`` / ``LoginLinkPublic``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from softquery.api.schemas.patterns import IDENTIFIER_PATTERN, USERNAME_PATTERN, documented
from softquery.auth.passwords import MIN_LENGTH
from softquery.domain.accounts import ApiToken, AuditEvent, Principal, Role, TokenScope, User, Via
from softquery.services.tokens import MAX_DAYS


class MePublic(BaseModel):
    username: str
    role: Role
    authenticated_by: Via = Field(description="session (web login cookie) or token (Authorization: Bearer).")
    scope: TokenScope = Field(description="full for sessions; the token's scope otherwise.")
    models: list[str] | None = Field(description="The models a predict token may call; null: all.")
    token_id: int | None = Field(description="The id of the API token used, if any.")
    csrf_token: str | None = Field(
        description="Session only: send it as the X-CSRF-Token header with POST, PUT, PATCH and DELETE.")

    @classmethod
    def of(cls, principal: Principal) -> MePublic:
        return cls(username=principal.username, role=principal.role, authenticated_by=principal.via,
                   scope=principal.scope, models=sorted(principal.models) if principal.models is not None else None,
                   token_id=principal.token_id,
                   csrf_token=principal.csrf_token if principal.via is Via.SESSION else None)


# `models` only with the predict scope (JSON Schema: the scope is predict, or models is null/absent)
_MODELS_NEED_PREDICT: JsonDict = {"anyOf": [{"required": ["scope"], "properties": {"scope": {"const": "predict"}}},
                                  {"properties": {"models": {"type": "null"}}}]}


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_MODELS_NEED_PREDICT)

    name: str = Field("", max_length=100, description="What the token is for, e.g. 'nightly scoring'.")
    scope: TokenScope = Field(TokenScope.FULL, description="predict: online prediction only; full: "
                                                           "everything the user may do.")
    models: list[Annotated[str, Field(json_schema_extra=documented(IDENTIFIER_PATTERN))]] | None = Field(
        None, max_length=1000, json_schema_extra={"minItems": 1},
        description="predict scope only: the models it may call (at least one); null: all.")
    days: int | None = Field(None, ge=1, le=MAX_DAYS, description="Lifetime in days; null: the server's "
                                                                  "default (SOFTQUERY_TOKEN_DAYS).")
    user: str | None = Field(None, json_schema_extra=documented(USERNAME_PATTERN),
                             description="Admins only: create the token for this user; null: yourself.")


class TokenPublic(BaseModel):
    id: int
    user: str
    name: str
    prefix: str = Field(description="The public start of the token (the secret part is never shown again).")
    scope: TokenScope
    models: list[str] | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    active: bool = Field(description="Neither revoked nor expired.")

    @classmethod
    def of(cls, token: ApiToken, now: datetime) -> TokenPublic:
        return cls(id=token.id, user=token.username, name=token.name, prefix=token.prefix, scope=token.scope,
                   models=token.models, created_at=token.created_at, expires_at=token.expires_at,
                   revoked_at=token.revoked_at, last_used_at=token.last_used_at,
                   active=token.revoked_at is None and token.expires_at > now)


class TokenCreated(TokenPublic):
    token: str = Field(description="The token: shown this once. Send it as `Authorization: Bearer <token>`.")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(json_schema_extra=documented(USERNAME_PATTERN), description="1-63 letters, digits and _ . @ - "
                                                                 "(starting with a letter or digit).")
    role: Role = Role.VIEWER
    password: str | None = Field(None, max_length=1024, json_schema_extra={"minLength": MIN_LENGTH},
                                 description=f"At least {MIN_LENGTH} characters; null: the answer carries "
                                             "a one-time login link.")


class UserUpdate(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = Field(None, description="true: no more logins, sessions end, tokens stop working.")


class UserPublic(BaseModel):
    username: str
    role: Role
    active: bool
    has_password: bool
    created_at: datetime
    disabled_at: datetime | None
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(username=user.username, role=user.role, active=user.active, has_password=user.has_password,
                   created_at=user.created_at, disabled_at=user.disabled_at, last_login_at=user.last_login_at)


class UserCreated(UserPublic):
    login_url: str | None = Field(description="Without a password: a one-time login link (shown once).")


class LoginLinkPublic(BaseModel):
    username: str
    login_url: str = Field(description="Works once, for SOFTQUERY_LOGIN_LINK_HOURS; shown once.")
    expires_at: datetime


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    actor: str = Field(description="A username, or cli:<os user> / system:<name>.")
    action: str = Field(description="e.g. model.create, model.train, version.activate, token.revoke.")
    target_type: str
    target: str
    details: dict[str, Any]
    ip: str | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventPublic:
        return cls(id=event.id, at=event.at, actor=event.actor, action=event.action,
                   target_type=event.target_type, target=event.target, details=event.details, ip=event.ip)
