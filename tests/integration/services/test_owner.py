"""Every model has an owner: whoever created (or duplicated) it; it outlives its owner's account."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select
from tests.integration.services.helpers import PASSWORD, as_user

from softquery.auth.policy import Action, decide
from softquery.domain.accounts import Role
from softquery.services import accounts, tokens
from softquery.services.context import ServiceContext
from softquery.services.models import (
    ModelSpec,
    create_model,
    duplicate_model,
    get_model,
    update_model,
)
from softquery.services.sources import add_source
from softquery.store.tables import api_tokens, sessions, users

SPEC = ModelSpec(source="s", template="linear_regression", train_sql="select id, rooms, price from houses",
                 predict_sql="select id, rooms from houses")


@pytest.fixture
def world(ctx: ServiceContext, sqlite_url: str) -> ServiceContext:
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    accounts.add_user(ctx, "eve", Role.EDITOR, PASSWORD)
    add_source(ctx, "s", sqlite_url)
    return ctx


def test_a_model_belongs_to_whoever_created_it(world: ServiceContext) -> None:
    ann = as_user(world, "ann")
    model = create_model(ann, "houses", SPEC).model
    assert (model.owner_id, model.owner) == (world.users.get("ann").id, "ann")
    assert get_model(world, "houses").owner == "ann"
    assert decide(ann.actor, Action.CHANGE_MODEL, model="houses", owner_id=model.owner_id).allowed
    eve = as_user(world, "eve")
    assert not decide(eve.actor, Action.CHANGE_MODEL, model="houses", owner_id=model.owner_id).allowed


def test_models_made_on_the_command_line_have_no_owner(world: ServiceContext) -> None:
    model = create_model(world, "houses", SPEC).model  # the local operator is no user
    assert (model.owner_id, model.owner) == (None, None)
    ann = as_user(world, "ann")
    assert not decide(ann.actor, Action.CHANGE_MODEL, model="houses", owner_id=model.owner_id).allowed
    assert decide(as_user(world, "root").actor, Action.CHANGE_MODEL, model="houses", owner_id=None).allowed


def test_someone_elses_change_keeps_the_owner(world: ServiceContext) -> None:
    create_model(as_user(world, "ann"), "houses", SPEC)
    changed = update_model(as_user(world, "root"), "houses", ModelSpec(description="by an admin")).model
    assert (changed.owner, changed.description) == ("ann", "by an admin")


def test_a_duplicate_belongs_to_whoever_duplicated_it(world: ServiceContext) -> None:
    create_model(as_user(world, "ann"), "houses", SPEC)
    copy = duplicate_model(as_user(world, "eve"), "houses", "houses_eve")
    assert (copy.owner_id, copy.owner) == (world.users.get("eve").id, "eve")
    assert get_model(world, "houses").owner == "ann"
    cli_copy = duplicate_model(world, "houses", "houses_cli")
    assert (cli_copy.owner_id, cli_copy.owner) == (None, None)


def test_disabling_the_owner_keeps_the_model(world: ServiceContext) -> None:
    create_model(as_user(world, "ann"), "houses", SPEC)
    accounts.disable_user(world, "ann")
    model = get_model(world, "houses")
    assert (model.owner, model.owner_id) == ("ann", world.users.get("ann").id)


def test_deleting_the_owners_row_keeps_the_model_ownerless(world: ServiceContext) -> None:
    # there is no `user delete` (disable instead); the schema still never loses a model with its owner
    create_model(as_user(world, "ann"), "houses", SPEC)
    tokens.create_token(world, "ann")
    accounts.login_with_password(world, "ann", PASSWORD, "10.0.0.1")
    ann_id = world.users.get("ann").id
    with world.engine.begin() as conn:
        conn.execute(delete(users).where(users.c.id == ann_id))
    model = get_model(world, "houses")
    assert (model.owner_id, model.owner) == (None, None)
    with world.engine.connect() as conn:  # the account's sessions and tokens went with it
        assert conn.execute(select(sessions.c.id).where(sessions.c.user_id == ann_id)).first() is None
        assert conn.execute(select(api_tokens.c.id).where(api_tokens.c.user_id == ann_id)).first() is None
