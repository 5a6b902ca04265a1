"""The permission policy: one pure function decides every request and command.

Viewers read; editors create models and change their own; admins do everything.
A ``predict`` token may only call online prediction (of its named models, if any).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from softquery.domain.accounts import Principal, Role, TokenScope


class Action(StrEnum):
    """What a route or command does. Every route declares exactly one (or is public)."""

    READ = "read"  # see models, versions, runs, logs, sources (masked), templates
    PREDICT_ONLINE = "predict_online"  # call a model over HTTP
    EDIT = "edit"  # editor tools that change nothing: code check, query preview
    CREATE_MODEL = "create_model"  # create (or duplicate into) a model the principal owns
    CHANGE_MODEL = "change_model"  # update, delete, train, predict, stop, activate: owner or admin
    MANAGE_SOURCES = "manage_sources"  # add, test, remove data sources
    OWN_ACCOUNT = "own_account"  # see oneself, manage one's own API tokens
    ADMIN = "admin"  # users, all tokens, the audit log


_ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.VIEWER: frozenset({Action.READ, Action.PREDICT_ONLINE, Action.OWN_ACCOUNT}),
    Role.EDITOR: frozenset({Action.READ, Action.PREDICT_ONLINE, Action.OWN_ACCOUNT, Action.EDIT,
                            Action.CREATE_MODEL, Action.CHANGE_MODEL}),
    Role.ADMIN: frozenset(Action),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


ALLOW = Decision(True)


def decide(principal: Principal, action: Action, *, model: str | None = None,
           owner_id: int | None = None) -> Decision:
    """May ``principal`` do ``action`` (on ``model``, owned by ``owner_id``)?"""
    if principal.scope is TokenScope.PREDICT:
        if action is not Action.PREDICT_ONLINE:
            return Decision(False, "This API token has the `predict` scope: it may only call "
                                   "online predictions. Create a token with the `full` scope for this.")
        if principal.models is not None and model not in principal.models:
            allowed = ", ".join(sorted(principal.models)) or "none"
            return Decision(False, f"This API token may only call the models: {allowed}.")
    if action not in _ROLE_ACTIONS[principal.role]:
        return Decision(False, _role_reason(principal.role, action))
    if action is Action.CHANGE_MODEL and principal.role is not Role.ADMIN:
        if owner_id is None or owner_id != principal.user_id:
            what = repr(model) if model else "it"
            return Decision(False, f"Only the model's owner or an admin may change {what}. Duplicate it to "
                                   "work on your own copy, or ask its owner or an admin.")
    return ALLOW


def _role_reason(role: Role, action: Action) -> str:
    needs = {
        Action.EDIT: "an editor or admin", Action.CREATE_MODEL: "an editor or admin",
        Action.CHANGE_MODEL: "the model's owner (an editor) or an admin",
        Action.MANAGE_SOURCES: "an admin", Action.ADMIN: "an admin",
    }.get(action, "another role")
    return (f"Your role ({role.value}) may not do this; it takes {needs}. "
            "Ask an admin to do it, or to change your role.")
