"""The audit log: every use case that changes something leaves one event, with who, what, where."""

from __future__ import annotations

import getpass

import pytest
from tests.integration.services.helpers import PASSWORD, as_user

from softquery.domain import RunKind, RunStatus, RunTrigger
from softquery.domain.accounts import AuditEvent, Principal, Role, TokenScope, Via
from softquery.services import accounts, audit, tokens
from softquery.services.context import ServiceContext
from softquery.services.models import (
    ModelSpec,
    create_model,
    delete_model,
    duplicate_model,
    update_model,
)
from softquery.services.runs import stop_run, submit_run
from softquery.services.schedules import clear_schedule, set_schedule
from softquery.services.sources import add_source, remove_source
from softquery.services.versions import activate_version

IP = "203.0.113.7"
SPEC = ModelSpec(source="s", template="linear_regression", train_sql="select id, rooms, price from houses",
                 predict_sql="select id, rooms from houses")


def events(ctx: ServiceContext) -> list[AuditEvent]:
    """Oldest first."""
    return list(reversed(audit.list_events(ctx, limit=1000)))


def last(ctx: ServiceContext) -> AuditEvent:
    return audit.list_events(ctx, limit=1)[0]


def step(ctx: ServiceContext, action: str) -> AuditEvent:
    """The newest event, which must be ``action``."""
    found = last(ctx)
    assert found.action == action, (found, action)
    return found


@pytest.fixture
def world(ctx: ServiceContext, sqlite_url: str) -> ServiceContext:
    """Users root (admin) and ann (editor), source ``s``; acting as ann from ``IP``."""
    accounts.add_user(ctx, "root", Role.ADMIN)
    accounts.add_user(ctx, "ann", Role.EDITOR, PASSWORD)
    add_source(ctx, "s", sqlite_url)
    return as_user(ctx, "ann", IP)


def test_the_cli_is_audited_as_its_os_user(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.VIEWER)
    event = last(ctx)
    assert (event.actor, event.action, event.target_type, event.target, event.details, event.ip) == (
        f"cli:{getpass.getuser()}", "user.add", "user", "ann", {"role": "viewer"}, None)


def test_acting_as_records_that_principal_and_address(ctx: ServiceContext) -> None:
    accounts.add_user(ctx, "ann", Role.ADMIN)
    ann = ctx.users.get("ann")
    for principal, label in [
        (Principal(username="ann", role=Role.ADMIN, via=Via.SESSION, user_id=ann.id), "ann"),
        (Principal(username="ann", role=Role.ADMIN, via=Via.TOKEN, user_id=ann.id, token_id=3), "ann"),
        (Principal.system("scheduler"), "system:scheduler"),
        (Principal.local_operator("ops"), "cli:ops"),
    ]:
        accounts.add_user(ctx.acting_as(principal, IP), f"by-{principal.via.value}", Role.VIEWER)
        event = last(ctx)
        assert (event.actor, event.ip, event.target) == (label, IP, f"by-{principal.via.value}")
    assert ctx.actor.via is Via.CLI  # acting_as made copies; ctx itself is unchanged


def test_model_use_cases(world: ServiceContext) -> None:
    ann = world
    create_model(ann, "houses", SPEC)
    event = step(ann, "model.create")
    assert (event.actor, event.ip, event.target_type, event.target) == ("ann", IP, "model", "houses")
    assert event.details == {"source": "s", "template": "linear_regression"}

    update_model(ann, "houses", ModelSpec(description="prices"))
    assert step(ann, "model.update").actor == "ann"

    set_schedule(ann, "houses", "daily")
    assert step(ann, "model.schedule").details == {"schedule": "daily", "action": "train"}
    clear_schedule(ann, "houses")
    assert step(ann, "model.schedule").details == {"schedule": None}

    duplicate_model(ann, "houses", "houses2")
    event = step(ann, "model.duplicate")
    assert (event.target, event.details) == ("houses2", {"from": "houses"})

    delete_model(ann, "houses2")
    event = step(ann, "model.delete")
    assert (event.actor, event.target) == ("ann", "houses2")


def test_an_update_lists_the_changed_fields(world: ServiceContext) -> None:
    create_model(world, "houses", SPEC)
    update_model(world, "houses", ModelSpec(description="prices", predict_sql="select id, rooms from houses where id > 1"))
    assert step(world, "model.update").details == {"changed": ["description", "predict_sql"]}


def test_an_update_that_changes_nothing_lists_nothing(world: ServiceContext) -> None:
    create_model(world, "houses", SPEC)
    update_model(world, "houses", ModelSpec(train_sql=SPEC.train_sql))
    assert step(world, "model.update").details == {"changed": []}


def test_runs_and_versions(world: ServiceContext) -> None:
    ann = world
    create_model(ann, "houses", SPEC)
    for kind in RunKind:
        run = submit_run(ann, "houses", kind, RunTrigger.WEB, None)
        event = step(ann, f"model.{kind.value}")
        assert (event.actor, event.ip, event.target_type, event.target) == ("ann", IP, "model", "houses")
        assert event.details == {"run": run.id, "trigger": "web"}
    assert stop_run(ann, run.id) is RunStatus.CANCELLED
    event = step(ann, "run.stop")
    assert (event.target_type, event.target, event.details) == (
        "run", run.id, {"model": "houses", "kind": "train_then_predict"})
    before = len(events(ann))
    stop_run(ann, run.id)  # already finished: nothing to stop, nothing logged
    assert len(events(ann)) == before

    for _ in range(2):
        ann.versions.add("houses", manifest={"metrics": {}}, signature="x", artifact=b"x",
                         artifact_sha256="0" * 64, run_id=None, activate=False)
    activate_version(ann, "houses", 1)
    assert step(ann, "version.activate").details == {"version": 1, "previous": None}
    activate_version(ann, "houses", 2)
    event = step(ann, "version.activate")
    assert (event.target_type, event.target, event.details) == ("model", "houses", {"version": 2, "previous": 1})


def test_sources(ctx: ServiceContext, sqlite_url: str) -> None:
    root = ctx.acting_as(Principal.local_operator("ops"), None)
    add_source(root, "s", sqlite_url, test=False)
    event = step(root, "source.add")
    assert (event.actor, event.target_type, event.target) == ("cli:ops", "source", "s")
    assert event.details["url"].startswith("sqlite:")
    remove_source(root, "s")
    assert step(root, "source.remove").target == "s"


def test_user_use_cases(world: ServiceContext) -> None:
    root = as_user(world, "root", IP)
    accounts.add_user(root, "bob", Role.VIEWER)
    assert (step(root, "user.add").actor, last(root).details) == ("root", {"role": "viewer"})
    accounts.set_role(root, "bob", Role.EDITOR)
    event = step(root, "user.set_role")
    assert (event.target, event.details) == ("bob", {"from": "viewer", "to": "editor"})
    accounts.disable_user(root, "bob")
    assert step(root, "user.disable").target == "bob"
    accounts.enable_user(root, "bob")
    assert step(root, "user.enable").target == "bob"
    accounts.set_password(root, "bob", PASSWORD)
    event = step(root, "user.set_password")
    assert event.target == "bob" and PASSWORD not in str(event.details)
    secret = accounts.new_login_link(root, "bob")
    event = step(root, "user.login_link")
    assert event.target == "bob" and secret not in str(event.details)
    assert all(e.actor == "root" and e.ip == IP for e in events(root)[-6:])


def test_token_use_cases(world: ServiceContext) -> None:
    ann = world
    create_model(ann, "houses", SPEC)
    new = tokens.create_token(ann, "ann", name="laptop", scope=TokenScope.PREDICT, models=["houses"], days=7)
    event = step(ann, "token.create")
    assert (event.actor, event.ip, event.target_type) == ("ann", IP, "token")
    assert event.target == f"{new.info.id} ({new.info.prefix})"
    assert event.details == {"user": "ann", "scope": "predict", "models": ["houses"], "days": 7}
    tokens.revoke_token(ann, new.info.id)
    event = step(ann, "token.revoke")
    assert (event.target, event.details) == (f"{new.info.id} ({new.info.prefix})", {"user": "ann"})
    assert new.token not in repr(events(ann))


def test_sessions(world: ServiceContext) -> None:
    anonymous = world.acting_as(Principal.local_operator("web"), None)  # a login request has no principal yet
    opened = accounts.login_with_password(anonymous, "ann", PASSWORD, IP)
    event = step(world, "session.login")
    assert (event.actor, event.target_type, event.target, event.details, event.ip) == (
        "ann", "user", "ann", {"with": "password"}, IP)

    accounts.logout(as_user(world, "ann", IP), opened.secret)
    event = step(world, "session.logout")
    assert (event.actor, event.target, event.ip) == ("ann", "ann", IP)

    link = accounts.new_login_link(world, "ann")
    accounts.login_with_link(world.acting_as(Principal.local_operator("web"), "198.51.100.1"), link)
    event = step(world, "session.login")
    assert (event.actor, event.details, event.ip) == ("ann", {"with": "link"}, "198.51.100.1")


def test_a_logout_without_a_session_logs_nothing_and_names_the_user_it_ended(world: ServiceContext) -> None:
    opened = accounts.login_with_password(world, "ann", PASSWORD, IP)
    before = len(events(world))
    # a public logout route acts for nobody in particular: the log still names ann
    accounts.logout(world.acting_as(Principal.local_operator("web"), IP), opened.secret)
    event = step(world, "session.logout")
    assert (event.actor, event.target) == ("ann", "ann")
    accounts.logout(world.acting_as(Principal.local_operator("web"), IP), opened.secret)  # gone already
    accounts.logout(world, "no-such-session")
    assert len(events(world)) == before + 1


def test_failed_logins_are_not_audit_events(world: ServiceContext) -> None:
    before = len(events(world))
    with pytest.raises(Exception):  # noqa: B017 - any refusal
        accounts.login_with_password(world, "ann", "wrong password", IP)
    assert len(events(world)) == before


def test_list_events_filters_and_limits(ctx: ServiceContext) -> None:
    for n in range(5):
        ctx.audit.add("ann", "model.create", "model", f"m{n}", None, None)
        ctx.audit.add("bob", "model.delete", "model", f"m{n}", {"n": n}, "10.0.0.1")
    assert len(audit.list_events(ctx)) == 10
    newest = audit.list_events(ctx, limit=3)
    assert [(e.actor, e.target) for e in newest] == [("bob", "m4"), ("ann", "m4"), ("bob", "m3")]
    assert [e.target for e in audit.list_events(ctx, limit=2, offset=2)] == ["m3", "m3"]
    assert {e.actor for e in audit.list_events(ctx, actor="ann")} == {"ann"}
    assert len(audit.list_events(ctx, actor="ann")) == 5
    assert [e.actor for e in audit.list_events(ctx, target="m2")] == ["bob", "ann"]
    assert len(audit.list_events(ctx, action="model.delete")) == 5
    both = audit.list_events(ctx, actor="bob", target="m1", action="model.delete")
    assert [(e.details, e.ip) for e in both] == [({"n": 1}, "10.0.0.1")]
    assert audit.list_events(ctx, actor="nobody") == []
    assert len(audit.list_events(ctx, limit=0)) == 1  # at least one
    assert len(audit.list_events(ctx, limit=-5, offset=-5)) == 1
    assert len(audit.list_events(ctx, limit=10**9)) == 10
    times = [e.at for e in audit.list_events(ctx)]
    assert times == sorted(times, reverse=True) and all(t.tzinfo is not None for t in times)


def test_long_values_are_cut_not_refused(ctx: ServiceContext) -> None:
    ctx.audit.add("a" * 500, "model.create", "model", "t" * 500, {"big": "x" * 5000}, "i" * 100)
    event = last(ctx)
    assert (len(event.actor), len(event.target)) == (100, 200)
