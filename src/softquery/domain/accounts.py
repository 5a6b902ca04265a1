"""Accounts, API tokens, the principal behind a request, and audit events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """What a person may do: viewers read, editors change their own models, admins all."""

    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class TokenScope(StrEnum):
    """``predict``: online prediction only (optionally for named models); ``full``: all the user may do."""

    PREDICT = "predict"
    FULL = "full"


class Via(StrEnum):
    """How a principal proved who it is."""

    SESSION = "session"  # web login (cookie)
    TOKEN = "token"  # Authorization: Bearer
    CLI = "cli"  # a person with the home folder and its secret key (local operator)
    SYSTEM = "system"  # the scheduler and job workers acting on their own


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role
    created_at: datetime
    has_password: bool = False
    disabled_at: datetime | None = None
    last_login_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class ApiToken:
    id: int
    user_id: int
    username: str
    name: str
    prefix: str  # the public start of the token, shown in lists (never the secret part)
    scope: TokenScope
    models: list[str] | None  # predict scope only: the models it may call (None: all)
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    parent_id: int | None = None  # made with this token over the API: valid only while it is


@dataclass(frozen=True)
class Principal:
    """Who is asking, and with what reach. Every request and command has one."""

    username: str
    role: Role
    via: Via
    user_id: int | None = None
    scope: TokenScope = TokenScope.FULL
    models: frozenset[str] | None = None  # predict tokens limited to these models
    csrf_token: str | None = None  # web sessions only
    token_id: int | None = None
    # a web session a one-time login link opened moments ago: may set a new password
    # without the current one (the "forgot my password" link an admin sends)
    password_reset: bool = False

    @property
    def label(self) -> str:
        """How the audit log names this principal."""
        return self.username if self.via in (Via.SESSION, Via.TOKEN) else f"{self.via.value}:{self.username}"

    @classmethod
    def local_operator(cls, os_user: str) -> Principal:
        """The CLI: whoever can read the home's secret key can do anything; audited by OS user."""
        return cls(username=os_user, role=Role.ADMIN, via=Via.CLI)

    @classmethod
    def system(cls, name: str) -> Principal:
        return cls(username=name, role=Role.ADMIN, via=Via.SYSTEM)


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    action: str  # e.g. model.create, model.train, version.activate, run.stop, user.add
    target_type: str  # model, run, version, source, user, token, session
    target: str
    details: dict[str, Any] = field(default_factory=dict)
    ip: str | None = None
