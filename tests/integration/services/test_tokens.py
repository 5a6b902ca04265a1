"""API tokens: shown once, stored as sha256 only, expiry, scope, model lists, revocation."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select, text
from tests.integration.services.helpers import as_user, past, set_column

from softquery.domain.accounts import Principal, Role, TokenScope, Via
from softquery.errors import InvalidInputError, NotFoundError
from softquery.services import accounts, tokens
from softquery.services.context import ServiceContext
from softquery.services.models import ModelSpec, create_model
from softquery.services.sources import add_source
from softquery.store.tables import api_tokens, metadata


@pytest.fixture
def people(ctx: ServiceContext) -> ServiceContext:
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "ann", Role.EDITOR)
    accounts.add_user(ctx, "bob", Role.VIEWER)
    return ctx


@pytest.fixture
def with_models(people: ServiceContext, sqlite_url: str) -> ServiceContext:
    """``people`` and the models ``houses`` and ``churn``."""
    add_source(people, "s", sqlite_url)
    spec = ModelSpec(source="s", template="linear_regression", train_sql="select id, rooms, price from houses",
                     predict_sql="select id, rooms from houses")
    for name in ("houses", "churn"):
        create_model(people, name, spec)
    return people


def dump_database(ctx: ServiceContext) -> str:
    """Every value of every table, as text."""
    out = []
    with ctx.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)).all():
                out.append(json.dumps([str(v) for v in row]))
    return "\n".join(out)


def test_a_token_is_shown_once_and_only_its_sha256_is_stored(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann", name="laptop")
    assert new.token.startswith(new.info.prefix + "_") and new.info.prefix.startswith("sq_")
    assert len(new.token) > 40
    with people.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert stored == hashlib.sha256(new.token.encode()).hexdigest()
    everything = dump_database(people)
    secret_part = new.token[len(new.info.prefix) + 1:]
    assert new.token not in everything and secret_part not in everything
    assert new.info.prefix in everything  # the public prefix is what lists show
    listed = tokens.list_tokens(people, "ann")
    assert [(t.name, t.prefix, t.username) for t in listed] == [("laptop", new.info.prefix, "ann")]
    assert new.token not in repr(listed)


def test_defaults(people: ServiceContext) -> None:
    info = tokens.create_token(people, "ann").info
    assert info.scope is TokenScope.FULL and info.models is None and info.revoked_at is None
    assert info.name == f"token {info.prefix}"
    assert abs((info.expires_at - info.created_at).total_seconds() - people.settings.token_days * 86400) < 60


def test_token_principal(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    principal = tokens.token_principal(people, new.token)
    assert principal == Principal(username="ann", role=Role.EDITOR, via=Via.TOKEN,
                                  user_id=people.users.get("ann").id, scope=TokenScope.FULL,
                                  models=None, token_id=new.info.id)
    accounts.set_role(people, "ann", Role.VIEWER)  # the token follows its user's role
    assert tokens.token_principal(people, new.token).role is Role.VIEWER  # type: ignore[union-attr]


def test_expired_tokens(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann", days=1)
    set_column(people, api_tokens, "expires_at", past(seconds=1))
    assert tokens.token_principal(people, new.token) is None


def test_revoked_tokens(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    revoked = tokens.revoke_token(people, new.info.id)
    assert revoked.revoked_at is not None
    assert tokens.token_principal(people, new.token) is None


def test_tokens_of_disabled_users(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    accounts.disable_user(people, "ann")
    assert tokens.token_principal(people, new.token) is None


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1], lambda t: t + "x", lambda t: t.upper(), lambda t: t[3:], lambda t: "Bearer " + t,
    lambda t: " " + t, lambda t: "", lambda t: "sq_", lambda t: "sq_" + "a" * 500, lambda t: t.replace("sq_", "SQ_"),
    lambda t: t + "\n", lambda t: "sq_\x00" + t,
])
def test_unknown_and_malformed_tokens(people: ServiceContext, mangle: object) -> None:
    new = tokens.create_token(people, "ann")
    assert tokens.token_principal(people, mangle(new.token)) is None  # type: ignore[operator]


def test_predict_tokens_with_models(with_models: ServiceContext) -> None:
    people = with_models
    new = tokens.create_token(people, "bob", scope=TokenScope.PREDICT, models=["houses", "churn", "houses"])
    assert new.info.models == ["churn", "houses"]
    principal = tokens.token_principal(people, new.token)
    assert principal is not None
    assert (principal.scope, principal.models) == (TokenScope.PREDICT, frozenset({"churn", "houses"}))
    everyone = tokens.token_principal(people, tokens.create_token(people, "bob", scope=TokenScope.PREDICT).token)
    assert everyone is not None and everyone.models is None


@pytest.mark.parametrize(("names", "unknown"), [(["nope"], ["nope"]), (["houses", "nope", "gone"], ["gone", "nope"])])
def test_a_token_for_an_unknown_model_is_refused(with_models: ServiceContext, names: list[str],
                                                 unknown: list[str]) -> None:
    people = with_models
    audited = len(people.audit.list())
    with pytest.raises(NotFoundError) as err:
        tokens.create_token(people, "bob", scope=TokenScope.PREDICT, models=names)
    for name in unknown:
        assert repr(name) in err.value.message
    assert "houses" not in err.value.message and "softquery model list" in err.value.message
    assert err.value.details == {"field": "models", "models": unknown}
    assert err.value.http_status == 404
    assert tokens.list_tokens(people) == [] and len(people.audit.list()) == audited  # nothing made


def test_models_only_with_predict_scope(people: ServiceContext) -> None:
    with pytest.raises(InvalidInputError, match="Only a `predict` token") as err:
        tokens.create_token(people, "ann", scope=TokenScope.FULL, models=["houses"])
    assert err.value.details == {"field": "models"}
    assert tokens.list_tokens(people) == []


@pytest.mark.parametrize("bad", ["drop table x", "a-b", "", "1abc"])
def test_model_names_in_a_token_are_checked(people: ServiceContext, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        tokens.create_token(people, "ann", scope=TokenScope.PREDICT, models=["houses", bad])


def test_an_empty_model_list_is_refused(people: ServiceContext) -> None:
    # a predict token limited to no model at all could call nothing: say so instead of making it
    with pytest.raises(InvalidInputError, match="at least one model") as err:
        tokens.create_token(people, "ann", scope=TokenScope.PREDICT, models=[])
    assert err.value.details == {"field": "models"}


@pytest.mark.parametrize("days", [0, -1, tokens.MAX_DAYS + 1])
def test_days_out_of_bounds(people: ServiceContext, days: int) -> None:
    with pytest.raises(InvalidInputError, match=f"1 to {tokens.MAX_DAYS} days") as err:
        tokens.create_token(people, "ann", days=days)
    assert err.value.details == {"field": "days"}


@pytest.mark.parametrize("days", [1, tokens.MAX_DAYS])
def test_days_within_bounds(people: ServiceContext, days: int) -> None:
    info = tokens.create_token(people, "ann", days=days).info
    assert abs((info.expires_at - info.created_at).total_seconds() - days * 86400) < 60


def test_tokens_for_unknown_users(people: ServiceContext) -> None:
    with pytest.raises(NotFoundError):
        tokens.create_token(people, "nobody")


@pytest.mark.parametrize("value", ["predict", "FULL", "Predict"])
def test_parse_scope(value: str) -> None:
    assert tokens.parse_scope(value) is TokenScope(value.lower())


def test_parse_scope_refuses_others() -> None:
    with pytest.raises(InvalidInputError, match="predict or full"):
        tokens.parse_scope("admin")


def test_revoke_by_owner(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    assert tokens.revoke_token(as_user(people, "ann"), new.info.id).revoked_at is not None


def test_revoking_twice_keeps_the_first_time_and_logs_once(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    first = tokens.revoke_token(as_user(people, "ann"), new.info.id)
    again = tokens.revoke_token(as_user(people, "ann"), new.info.id)
    assert again.revoked_at == first.revoked_at
    assert [e.action for e in people.audit.list(action="token.revoke")] == ["token.revoke"]


def test_revoke_by_admin(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    assert tokens.revoke_token(as_user(people, "root"), new.info.id).revoked_at is not None
    other = tokens.create_token(people, "ann")
    assert tokens.revoke_token(people, other.info.id).revoked_at is not None  # the CLI operator


def test_another_non_admin_cannot_revoke_and_learns_nothing(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    bob = as_user(people, "bob")
    with pytest.raises(NotFoundError) as theirs:
        tokens.revoke_token(bob, new.info.id)
    with pytest.raises(NotFoundError) as missing:
        tokens.revoke_token(bob, new.info.id + 1000)
    assert theirs.value.to_dict() == {**missing.value.to_dict(), "details": {"token": new.info.id},
                                      "message": missing.value.message.replace(str(new.info.id + 1000),
                                                                               str(new.info.id))}
    assert tokens.token_principal(people, new.token) is not None
    ann_via_token = people.acting_as(tokens.token_principal(people, new.token))  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):  # an editor is no admin either
        tokens.revoke_token(ann_via_token, tokens.create_token(people, "bob").info.id)


def test_revoking_twice_keeps_the_first_time(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    first = tokens.revoke_token(people, new.info.id).revoked_at
    assert tokens.revoke_token(people, new.info.id).revoked_at == first


def test_last_used_at_is_updated_at_most_once_a_minute(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    assert tokens.list_tokens(people, "ann")[0].last_used_at is None
    tokens.token_principal(people, new.token)
    first = tokens.list_tokens(people, "ann")[0].last_used_at
    assert first is not None
    for _ in range(3):
        tokens.token_principal(people, new.token)
    assert tokens.list_tokens(people, "ann")[0].last_used_at == first
    set_column(people, api_tokens, "last_used_at", past(seconds=61))
    tokens.token_principal(people, new.token)
    later = tokens.list_tokens(people, "ann")[0].last_used_at
    assert later is not None and later > past(seconds=30)


def test_list_tokens(people: ServiceContext) -> None:
    a = tokens.create_token(people, "ann").info
    b = tokens.create_token(people, "bob").info
    c = tokens.create_token(people, "ann").info
    assert [t.id for t in tokens.list_tokens(people)] == [c.id, b.id, a.id]
    assert [t.id for t in tokens.list_tokens(people, "bob")] == [b.id]
    assert tokens.list_tokens(people, "root") == []


def test_the_table_really_holds_no_secret(people: ServiceContext) -> None:
    new = tokens.create_token(people, "ann")
    with people.engine.connect() as conn:
        columns = conn.execute(text("select * from api_tokens")).mappings().one()
    assert all(new.token not in str(v) for v in columns.values())
