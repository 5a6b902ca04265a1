"""The permission policy, as a full table: every role × action × ownership, every token scope."""

from __future__ import annotations

import itertools

import pytest

from softquery.auth.policy import Action, decide
from softquery.domain.accounts import Principal, Role, TokenScope, Via

ME, SOMEONE_ELSE = 7, 8
OWNERSHIP = {"own": ME, "other's": SOMEONE_ELSE, "ownerless": None}

# what the issue asks: viewers read; editors create and change their own models; admins all
ALWAYS = {Action.READ, Action.PREDICT_ONLINE, Action.OWN_ACCOUNT}
EXPECTED: dict[Role, dict[Action, set[str]]] = {
    Role.VIEWER: {a: set(OWNERSHIP) if a in ALWAYS else set() for a in Action},
    Role.EDITOR: {
        **{a: set(OWNERSHIP) for a in ALWAYS | {Action.EDIT, Action.CREATE_MODEL}},
        Action.CHANGE_MODEL: {"own"},
        Action.MANAGE_SOURCES: set(),
        Action.ADMIN: set(),
    },
    Role.ADMIN: {a: set(OWNERSHIP) for a in Action},
}
# the role a denial must name, so the person knows whom to ask for what
NEEDS = {
    Action.EDIT: "an editor or admin",
    Action.CREATE_MODEL: "an editor or admin",
    Action.CHANGE_MODEL: "the model's owner (an editor) or an admin",
    Action.MANAGE_SOURCES: "an admin",
    Action.ADMIN: "an admin",
}


def person(role: Role, via: Via = Via.SESSION, **kw: object) -> Principal:
    return Principal(username="pat", role=role, via=via, user_id=ME, **kw)  # type: ignore[arg-type]


def test_the_table_covers_every_role_and_action() -> None:
    assert set(EXPECTED) == set(Role)
    assert all(set(row) == set(Action) for row in EXPECTED.values())


@pytest.mark.parametrize("via", [Via.SESSION, Via.TOKEN])
@pytest.mark.parametrize(("role", "action", "ownership"),
                         list(itertools.product(Role, Action, OWNERSHIP)))
def test_roles(role: Role, action: Action, ownership: str, via: Via) -> None:
    decision = decide(person(role, via), action, model="m", owner_id=OWNERSHIP[ownership])
    allowed = ownership in EXPECTED[role][action]
    assert decision.allowed is allowed, (role, action, ownership, decision.reason)
    if allowed:
        assert decision.reason == ""
    elif action is Action.CHANGE_MODEL and role is Role.EDITOR:
        assert "Only the model's owner or an admin may change 'm'" in decision.reason
        assert "Duplicate it to work on your own copy" in decision.reason  # what to do next
    else:
        assert f"Your role ({role.value}) may not do this" in decision.reason
        assert f"it takes {NEEDS[action]}" in decision.reason
        assert "Ask an admin" in decision.reason  # what to do next


def test_an_editor_without_an_id_owns_nothing() -> None:
    nobody = Principal(username="ghost", role=Role.EDITOR, via=Via.SESSION, user_id=None)
    assert not decide(nobody, Action.CHANGE_MODEL, model="m", owner_id=None).allowed
    assert not decide(nobody, Action.CHANGE_MODEL).allowed
    assert "Only the model's owner or an admin may change it" in decide(nobody, Action.CHANGE_MODEL).reason


@pytest.mark.parametrize("via", [Via.CLI, Via.SYSTEM])
@pytest.mark.parametrize(("action", "ownership"), list(itertools.product(Action, OWNERSHIP)))
def test_local_operator_and_system_may_do_everything(via: Via, action: Action, ownership: str) -> None:
    principal = (Principal.local_operator("alice") if via is Via.CLI else Principal.system("scheduler"))
    assert decide(principal, action, model="m", owner_id=OWNERSHIP[ownership]).allowed


@pytest.mark.parametrize(("role", "action", "ownership"),
                         list(itertools.product(Role, Action, OWNERSHIP)))
def test_full_scope_tokens_reach_what_their_user_reaches(role: Role, action: Action, ownership: str) -> None:
    full = person(role, Via.TOKEN, scope=TokenScope.FULL)
    assert decide(full, action, model="m", owner_id=OWNERSHIP[ownership]).allowed is (
        ownership in EXPECTED[role][action])


@pytest.mark.parametrize(("role", "action"), list(itertools.product(Role, Action)))
def test_predict_tokens_only_predict(role: Role, action: Action) -> None:
    token = person(role, Via.TOKEN, scope=TokenScope.PREDICT)
    for owner in OWNERSHIP.values():
        decision = decide(token, action, model="m", owner_id=owner)
        assert decision.allowed is (action is Action.PREDICT_ONLINE), (role, action, owner)
        if not decision.allowed:
            assert "`predict` scope" in decision.reason
            assert "`full` scope" in decision.reason  # what to do instead


@pytest.mark.parametrize("role", list(Role))
def test_predict_tokens_limited_to_named_models(role: Role) -> None:
    token = person(role, Via.TOKEN, scope=TokenScope.PREDICT, models=frozenset({"houses", "churn"}))
    assert decide(token, Action.PREDICT_ONLINE, model="houses").allowed
    assert decide(token, Action.PREDICT_ONLINE, model="churn", owner_id=SOMEONE_ELSE).allowed
    for model in ("other", "HOUSES", "", None):
        decision = decide(token, Action.PREDICT_ONLINE, model=model)
        assert not decision.allowed, model
        assert decision.reason == "This API token may only call the models: churn, houses."
    # the model list never widens the scope
    assert not decide(token, Action.READ, model="houses").allowed
    assert not decide(token, Action.CHANGE_MODEL, model="houses", owner_id=ME).allowed


def test_a_predict_token_with_an_empty_model_list_calls_nothing() -> None:
    token = person(Role.ADMIN, Via.TOKEN, scope=TokenScope.PREDICT, models=frozenset())
    decision = decide(token, Action.PREDICT_ONLINE, model="houses")
    assert not decision.allowed
    assert "none" in decision.reason


def test_full_tokens_ignore_a_model_list() -> None:
    # only predict tokens carry a list (tokens service refuses others); a stray one changes nothing
    token = person(Role.VIEWER, Via.TOKEN, scope=TokenScope.FULL, models=frozenset({"houses"}))
    assert decide(token, Action.PREDICT_ONLINE, model="other").allowed
